//! Signed request objects (RFC 9101 JAR; FAPI 2.0 Message Signing §5.3): authorization
//! parameters inside a JWT the client signed with a key it registered. Only the request
//! object's parameters count; `iss` is the client, `aud` this issuer, and it lives at most an
//! hour (`nbf` to `exp`).

use jsonwebtoken::Header;
use serde_json::{Map, Value};

use super::authorize::AuthorizeParams;
use super::clients::profile;
use super::{OAuthError, Provider, client_auth};
use crate::clock::UnixTime;
use crate::store::ClientRecord;

const MAX_LIFETIME: i64 = 3600;
const SKEW: i64 = 60;
const MAX_LEN: usize = 32 * 1024;

fn bad(msg: &str) -> OAuthError {
    OAuthError::invalid_request_object(msg)
}

/// The parameters of `jwt`, checked to be signed by `client` for this issuer, now.
pub async fn unpack(
    p: &Provider,
    client: &ClientRecord,
    jwt: &str,
) -> Result<AuthorizeParams, OAuthError> {
    if jwt.len() > MAX_LEN {
        return Err(bad("request object is too long"));
    }
    let header: Header =
        jsonwebtoken::decode_header(jwt).map_err(|_| bad("request object is not a signed JWT"))?;
    let alg = crate::crypto::keyset::alg_name(header.alg);
    let allowed: &[&str] = match profile::is_fapi2(client) {
        true => &profile::FAPI_ALGS,
        false => &client_auth::ASSERTION_ALGS,
    };
    if !allowed.contains(&alg) {
        return Err(bad("request object algorithm not accepted"));
    }
    let keys = client_auth::client_keys(p, client)
        .await
        .map_err(|_| bad("the client's keys cannot be read"))?;
    let claims = keys
        .keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .find_map(|k| client_auth::verified_claims(k, header.alg, jwt))
        .ok_or_else(|| bad("request object signature does not verify"))?;
    let obj = claims
        .as_object()
        .ok_or_else(|| bad("request object claims must be an object"))?;
    check_claims(obj, client.client_id.as_str(), p.issuer(), p.now())?;
    params_of(obj)
}

/// `iss`, `aud`, `client_id` and the time window.
pub fn check_claims(
    c: &Map<String, Value>,
    client_id: &str,
    issuer: &str,
    now: UnixTime,
) -> Result<(), OAuthError> {
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    if s("iss") != Some(client_id) {
        return Err(bad("request object iss must be the client_id"));
    }
    if c.get("client_id").is_some() && s("client_id") != Some(client_id) {
        return Err(bad("request object client_id does not match"));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("request object aud must be this issuer"));
    }
    let n = |k: &str| c.get(k).and_then(Value::as_i64);
    let exp = n("exp").ok_or_else(|| bad("request object needs exp"))?;
    if exp <= now {
        return Err(bad("request object expired"));
    }
    let nbf = n("nbf").unwrap_or(now);
    if nbf > now + SKEW {
        return Err(bad("request object is not yet valid"));
    }
    if exp - nbf > MAX_LIFETIME || exp - now > MAX_LIFETIME + SKEW {
        return Err(bad("request object lives longer than an hour"));
    }
    Ok(())
}

/// Parameters as the endpoint reads them: strings, numbers as their text, JSON members
/// (`claims`, `authorization_details`) as their serialisation. Nested requests are refused.
pub fn params_of(c: &Map<String, Value>) -> Result<AuthorizeParams, OAuthError> {
    if c.contains_key("request") || c.contains_key("request_uri") {
        return Err(bad("a request object cannot carry request or request_uri"));
    }
    let mut out = Map::new();
    for (k, v) in c {
        if matches!(k.as_str(), "iss" | "aud" | "exp" | "nbf" | "iat" | "jti") {
            continue;
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => other.to_string(),
        };
        out.insert(k.clone(), Value::String(text));
    }
    serde_json::from_value(Value::Object(out)).map_err(|_| bad("request object parameters"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claims_rules() {
        let ok =
            json!({"iss": "c1", "aud": "https://id", "exp": 1100, "nbf": 1000, "client_id": "c1"});
        assert!(check_claims(&obj(ok.clone()), "c1", "https://id", 1000).is_ok());
        let mut bad_iss = ok.clone();
        bad_iss["iss"] = json!("c2");
        assert!(check_claims(&obj(bad_iss), "c1", "https://id", 1000).is_err());
        let mut bad_aud = ok.clone();
        bad_aud["aud"] = json!("https://elsewhere");
        assert!(check_claims(&obj(bad_aud), "c1", "https://id", 1000).is_err());
        assert!(
            check_claims(&obj(ok.clone()), "c1", "https://id", 1200).is_err(),
            "expired"
        );
        let mut long = ok;
        long["exp"] = json!(1000 + 7200);
        assert!(check_claims(&obj(long), "c1", "https://id", 1000).is_err());
    }

    #[test]
    fn members_become_parameters() {
        let p = params_of(&obj(json!({
            "iss": "c1", "response_type": "code", "max_age": 60,
            "claims": {"id_token": {"acr": null}},
            "authorization_details": [{"type": "vn_bank_transfer"}]
        })))
        .unwrap();
        assert_eq!(p.response_type.as_deref(), Some("code"));
        assert_eq!(p.max_age.as_deref(), Some("60"));
        assert!(p.claims.unwrap().contains("id_token"));
        assert!(
            p.authorization_details
                .unwrap()
                .contains("vn_bank_transfer")
        );
        assert!(params_of(&obj(json!({"request_uri": "x"}))).is_err());
    }
}
