//! Signing and verifying the provider's own JWTs (ID tokens, access tokens) with the key set.
//! Expiry is checked against the caller's `now`, not the library's clock, so time stays a
//! parameter.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CryptoError, KeySet, b64url};
use crate::clock::UnixTime;

pub fn sign<T: Serialize>(
    keys: &KeySet,
    alg: Algorithm,
    typ: &str,
    claims: &T,
    now: UnixTime,
) -> Result<String, CryptoError> {
    let key = keys.signer(alg, now)?;
    if let Some(pair) = &key.es256 {
        return sign_es256(pair, &key.kid, typ, claims);
    }
    let mut header = Header::new(alg);
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.to_string());
    jsonwebtoken::encode(&header, claims, &key.encoding)
        .map_err(|e| CryptoError::Token(e.to_string()))
}

/// JWS compact serialisation with ring: ECDSA P-256 "fixed" output is exactly JWS's r‖s.
fn sign_es256<T: Serialize>(
    pair: &ring::signature::EcdsaKeyPair,
    kid: &str,
    typ: &str,
    claims: &T,
) -> Result<String, CryptoError> {
    let header = serde_json::json!({"alg": "ES256", "kid": kid, "typ": typ});
    let payload = serde_json::to_vec(claims).map_err(|e| CryptoError::Token(e.to_string()))?;
    let mut out = b64url(header.to_string().as_bytes());
    out.push('.');
    out.push_str(&b64url(&payload));
    let sig = pair
        .sign(&ring::rand::SystemRandom::new(), out.as_bytes())
        .map_err(|_| CryptoError::Token("ES256 signing failed".into()))?;
    out.push('.');
    out.push_str(&b64url(sig.as_ref()));
    Ok(out)
}

/// What a verified token must satisfy besides its signature.
pub struct Expect<'a> {
    pub issuer: &'a str,
    /// Compared case-insensitively (RFC 9068 §4 allows `application/at+jwt`).
    pub typ: Option<&'a str>,
    /// `false` for `id_token_hint`, which may be expired (OIDC RP-Initiated Logout §2).
    pub check_exp: bool,
}

#[derive(serde::Deserialize)]
struct Times {
    exp: Option<i64>,
}

pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expect: &Expect<'_>,
    now: UnixTime,
) -> Result<T, CryptoError> {
    let bad = |m: &str| CryptoError::Token(m.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed"))?;
    let kid = header.kid.as_deref().ok_or_else(|| bad("no kid"))?;
    let key = keys.by_kid(kid, now).ok_or_else(|| bad("unknown kid"))?;
    if header.alg != key.alg {
        return Err(bad("alg does not match the key"));
    }
    if let Some(typ) = expect.typ {
        let got = header
            .typ
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let got = got.strip_prefix("application/").unwrap_or(&got);
        if got != typ {
            return Err(bad("wrong typ"));
        }
    }
    let claims = match &key.es256 {
        Some(pair) => verify_es256(pair, token)?,
        None => decode_other(key, token)?,
    };
    if claims.get("iss").and_then(serde_json::Value::as_str) != Some(expect.issuer) {
        return Err(bad("wrong issuer"));
    }
    if expect.check_exp {
        let times: Times = serde_json::from_value(claims.clone()).map_err(|_| bad("bad exp"))?;
        match times.exp {
            Some(exp) if exp > now => {}
            _ => return Err(bad("expired")),
        }
    }
    serde_json::from_value(claims).map_err(|e| CryptoError::Token(e.to_string()))
}

/// ES256 with ring against the key's own public point (several times faster than the
/// RustCrypto path jsonwebtoken takes; every access-token check goes through here).
fn verify_es256(
    pair: &ring::signature::EcdsaKeyPair,
    token: &str,
) -> Result<serde_json::Value, CryptoError> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};
    let bad = |m: &str| CryptoError::Token(m.to_string());
    let (signed, sig) = token.rsplit_once('.').ok_or_else(|| bad("malformed"))?;
    let payload = signed
        .split_once('.')
        .map(|(_, p)| p)
        .ok_or_else(|| bad("malformed"))?;
    let sig = super::b64url_decode(sig).ok_or_else(|| bad("malformed signature"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| bad("bad signature"))?;
    let raw = super::b64url_decode(payload).ok_or_else(|| bad("malformed payload"))?;
    serde_json::from_slice(&raw).map_err(|_| bad("malformed payload"))
}

fn decode_other(key: &super::SigningKey, token: &str) -> Result<serde_json::Value, CryptoError> {
    let mut v = Validation::new(key.alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &v)
        .map(|d| d.claims)
        .map_err(|e| CryptoError::Token(e.to_string()))
}

/// OIDC Core §3.1.3.6 `at_hash` (and §3.3.2.11 `c_hash`): left half of the hash the JWS
/// algorithm uses; SHA-512 for Ed25519.
pub fn half_hash(alg: Algorithm, value: &str) -> String {
    let algo = match alg {
        Algorithm::EdDSA | Algorithm::RS512 | Algorithm::PS512 => &ring::digest::SHA512,
        Algorithm::ES384 | Algorithm::RS384 | Algorithm::PS384 => &ring::digest::SHA384,
        _ => &ring::digest::SHA256,
    };
    let d = ring::digest::digest(algo, value.as_bytes());
    let bytes = d.as_ref();
    b64url(bytes.get(..bytes.len() / 2).unwrap_or(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Kek, keyset};

    #[test]
    fn sign_then_verify_and_detect_tampering() {
        let kek = Kek::from_bytes(&[9u8; 32], true).unwrap();
        let rec = keyset::generate(Algorithm::ES256, &kek, 0, 0).unwrap();
        let keys = KeySet::from_records(&[rec], &kek).unwrap();
        let claims = serde_json::json!({"iss": "https://id.vn", "sub": "a", "exp": 100});
        let t = sign(&keys, Algorithm::ES256, "at+jwt", &claims, 10).unwrap();
        let e = Expect {
            issuer: "https://id.vn",
            typ: Some("at+jwt"),
            check_exp: true,
        };
        let back: serde_json::Value = verify(&keys, &t, &e, 50).unwrap();
        assert_eq!(back["sub"], "a");
        assert!(
            verify::<serde_json::Value>(&keys, &t, &e, 100).is_err(),
            "expired"
        );
        let wrong_iss = Expect {
            issuer: "https://other",
            ..e
        };
        assert!(verify::<serde_json::Value>(&keys, &t, &wrong_iss, 50).is_err());
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = b64url(br#"{"iss":"https://id.vn","sub":"b","exp":100}"#);
        let forged = parts.join(".");
        let e = Expect {
            issuer: "https://id.vn",
            typ: None,
            check_exp: true,
        };
        assert!(verify::<serde_json::Value>(&keys, &forged, &e, 50).is_err());
    }

    #[test]
    fn at_hash_matches_oidc_example_shape() {
        // OIDC Core A.3 example: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        assert_eq!(
            half_hash(
                Algorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    mod properties {
        use super::*;
        use crate::crypto::{Kek, keyset};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            // Tokens from the outside (bearer tokens, id_token_hint) never panic the verifier and
            // never verify unless we signed them.
            #[test]
            fn garbage_never_verifies(a in "[A-Za-z0-9_-]{0,60}", b in "[A-Za-z0-9_-]{0,60}", c in "[A-Za-z0-9_-]{0,90}") {
                let kek = Kek::from_bytes(&[5u8; 32], true).unwrap();
                let rec = keyset::generate(Algorithm::ES256, &kek, 0, 0).unwrap();
                let keys = KeySet::from_records(&[rec], &kek).unwrap();
                let e = Expect { issuer: "https://id.vn", typ: None, check_exp: false };
                for t in [format!("{a}.{b}.{c}"), a.clone(), format!("{a}.{b}")] {
                    prop_assert!(verify::<serde_json::Value>(&keys, &t, &e, 0).is_err());
                }
            }
        }
    }
}
