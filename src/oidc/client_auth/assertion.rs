//! Client assertions (RFC 7523 §3, OIDC Core §9) read and checked without a store or the
//! network, so every rule here runs on untrusted input alone (and is fuzzed as such). The
//! signature is checked by the caller against the keys of the client the assertion names.

use jsonwebtoken::{Algorithm, Header};
use serde::Deserialize;
use serde_json::Value;

use super::{ASSERTION_ALGS, MAX_ASSERTION_LIFETIME, SKEW, bad};
use crate::clock::UnixTime;
use crate::oidc::OAuthError;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

/// What an assertion claims, before its signature is trusted.
#[derive(Debug)]
pub struct Assertion {
    /// `iss` = `sub` = the client it speaks for.
    pub client_id: String,
    pub alg: Algorithm,
    pub kid: Option<String>,
    claims: Claims,
}

/// An assertion within its time and audience rules: its `jti`, and how long to remember it.
#[derive(Debug, PartialEq, Eq)]
pub struct Fresh {
    pub jti: String,
    pub remember_secs: u64,
}

/// Decode an assertion's header and claims (not yet trusted). `client_id`, when the request
/// also names one, must be the assertion's.
pub fn read(assertion: &str, client_id: Option<&str>) -> Result<Assertion, OAuthError> {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| bad("client_assertion is not a JWT"))?;
    let sub = claims
        .sub
        .clone()
        .ok_or_else(|| bad("client_assertion has no sub"))?;
    if claims.iss.as_deref() != Some(sub.as_str()) || client_id.is_some_and(|c| c != sub) {
        return Err(bad("client_assertion iss and sub must be the client_id"));
    }
    let header: Header =
        jsonwebtoken::decode_header(assertion).map_err(|_| bad("client_assertion header"))?;
    if !ASSERTION_ALGS.contains(&crate::crypto::keyset::alg_name(header.alg)) {
        return Err(bad("client_assertion algorithm not accepted"));
    }
    Ok(Assertion {
        client_id: sub,
        alg: header.alg,
        kid: header.kid,
        claims,
    })
}

impl Assertion {
    /// Time and audience: not expired, not from the future, living at most
    /// [`MAX_ASSERTION_LIFETIME`] (RFC 7523 §3 lets the server limit how far `exp` may be),
    /// addressed to one of `audiences`, with a `jti` for the replay cache.
    pub fn check(&self, now: UnixTime, audiences: &[String]) -> Result<Fresh, OAuthError> {
        let c = &self.claims;
        let exp = c.exp.ok_or_else(|| bad("client_assertion has no exp"))?;
        if exp <= now {
            return Err(bad("client_assertion expired"));
        }
        if c.iat.is_some_and(|t| t > now + SKEW) || c.nbf.is_some_and(|t| t > now + SKEW) {
            return Err(bad("client_assertion is from the future"));
        }
        let lifetime = c.iat.map_or(0, |iat| exp.saturating_sub(iat));
        if exp.saturating_sub(now) > MAX_ASSERTION_LIFETIME + SKEW
            || lifetime > MAX_ASSERTION_LIFETIME + SKEW
        {
            return Err(bad(&format!(
                "client_assertion lives too long (at most {MAX_ASSERTION_LIFETIME} s)"
            )));
        }
        let aud_ok = match &c.aud {
            Some(Value::String(a)) => audiences.contains(a),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .any(|a| audiences.iter().any(|x| x == a)),
            _ => false,
        };
        if !aud_ok {
            return Err(bad("client_assertion aud must be this provider"));
        }
        let jti = c
            .jti
            .clone()
            .ok_or_else(|| bad("client_assertion has no jti"))?;
        // Kept until the assertion could no longer be accepted anyway.
        let remember_secs = (exp - now + SKEW).max(SKEW) as u64;
        Ok(Fresh { jti, remember_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(claims: serde_json::Value) -> String {
        let b = |v: &serde_json::Value| crate::crypto::b64url(v.to_string().as_bytes());
        format!(
            "{}.{}.sig",
            b(&serde_json::json!({"alg": "ES256", "kid": "k1"})),
            b(&claims)
        )
    }

    #[test]
    fn times_and_audience() {
        let aud = vec!["https://id.example/token".to_string()];
        let ok = |c| read(&unsigned(c), None).unwrap().check(1000, &aud);
        let base = serde_json::json!({"iss": "c", "sub": "c", "aud": aud[0], "jti": "j", "iat": 1000, "exp": 1060});
        assert_eq!(
            ok(base.clone()).unwrap(),
            Fresh {
                jti: "j".into(),
                remember_secs: 120
            }
        );
        let with = |k: &str, v: serde_json::Value| {
            let mut c = base.clone();
            c[k] = v;
            c
        };
        assert!(ok(with("exp", 1000.into())).is_err(), "expired");
        assert!(ok(with("exp", 5000.into())).is_err(), "lives too long");
        assert!(ok(with("iat", 1061.into())).is_err(), "from the future");
        assert!(
            ok(with("iat", 1008.into())).is_ok(),
            "a few seconds of skew"
        );
        assert!(ok(with("aud", "https://elsewhere".into())).is_err());
        assert!(ok(with("aud", serde_json::json!(["x", aud[0]]))).is_ok());
        assert!(read(&unsigned(with("iss", "d".into())), None).is_err());
        assert!(read(&unsigned(base.clone()), Some("other")).is_err());
    }
}
