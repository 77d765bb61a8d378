//! DPoP proofs (RFC 9449): a client proves it holds the private key its tokens are bound to.
//!
//! [`read`] checks one proof on its own — form, `typ`, algorithm, the public key in the header,
//! signature, `htm`/`htu`, `iat`, `ath` and the server nonce — with no store, so it runs on
//! untrusted input alone. [`check`] adds the replay cache: a proof's `jti` is accepted once per
//! key across every node (the ephemeral store is shared).
//!
//! Nonces (§8) are stateless: `<window>.<tag>`, the tag an HMAC of a five-minute window under
//! the server's key. The current and the previous window are accepted, so a nonce lives five to
//! ten minutes and a fresh one rides on every response (`DPoP-Nonce`).

use jsonwebtoken::jwk::{EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::{OAuthError, Provider};
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};

/// Algorithms accepted on proofs (FAPI 2.0 §5.4: PS256, ES256, EdDSA; RS256 for older RPs
/// outside FAPI).
pub const ALGS: [&str; 4] = ["ES256", "PS256", "EdDSA", "RS256"];
/// How old a proof may be, and how far ahead of our clock.
const MAX_AGE: i64 = 300;
const FUTURE_SKEW: i64 = 60;
const NONCE_WINDOW: i64 = 300;
const MAX_JTI: usize = 256;

/// What a proof must match: the request it came with, and the access token it presents.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub htm: &'a str,
    pub htu: &'a str,
    /// At a protected resource: the access token, whose hash the proof carries in `ath`.
    pub access_token: Option<&'a str>,
}

/// A checked proof: the key's thumbprint (`cnf.jkt`) and its `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
}

#[derive(Debug, Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    ath: Option<String>,
    nonce: Option<String>,
}

fn invalid(msg: &str) -> OAuthError {
    OAuthError::invalid_dpop_proof(msg)
}

/// The nonce to hand out now.
pub fn nonce(kek: &Kek, now: UnixTime) -> String {
    let w = now.div_euclid(NONCE_WINDOW);
    format!("{w}.{}", kek.dpop_nonce_tag(w))
}

fn nonce_ok(kek: &Kek, nonce: &str, now: UnixTime) -> bool {
    let w = now.div_euclid(NONCE_WINDOW);
    let Some((win, tag)) = nonce.split_once('.') else {
        return false;
    };
    let Ok(win) = win.parse::<i64>() else {
        return false;
    };
    (win == w || win == w - 1)
        && crypto::constant_time_eq(kek.dpop_nonce_tag(win).as_bytes(), tag.as_bytes())
}

/// `htu` compares without query and fragment (RFC 9449 §4.3), scheme and host case-blind.
fn same_uri(proof: &str, expected: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(proof), url::Url::parse(expected)) else {
        return false;
    };
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// The proof's header: `typ`, `alg` and a public key, read from the raw JSON so that a key
/// with private parts (`d`, `p`, `q`…) or a symmetric key is refused, not silently trimmed.
fn header_key(proof: &str) -> Result<(Algorithm, Jwk), OAuthError> {
    let head = proof.split('.').next().unwrap_or_default();
    let raw = crypto::b64url_decode(head).ok_or_else(|| invalid("DPoP proof is not a JWT"))?;
    let h: Value = serde_json::from_slice(&raw).map_err(|_| invalid("DPoP proof is not a JWT"))?;
    if h.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("DPoP proof typ must be dpop+jwt"));
    }
    let alg = h.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !ALGS.contains(&alg) {
        return Err(invalid("DPoP proof algorithm not accepted"));
    }
    let alg: Algorithm = alg.parse().map_err(|_| invalid("DPoP proof algorithm"))?;
    let jwk = h
        .get("jwk")
        .ok_or_else(|| invalid("DPoP proof has no jwk"))?;
    let private = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if private.iter().any(|k| jwk.get(k).is_some()) {
        return Err(invalid("DPoP proof jwk must be a public key"));
    }
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|_| invalid("DPoP proof jwk"))?;
    Ok((alg, jwk))
}

/// The proof's claims if `jwk` signed it. ES256 and EdDSA go through ring (every proof is
/// verified on the hot path of the bank APIs: several times faster than the generic path);
/// PS256 and RS256 through jsonwebtoken.
fn verified(proof: &str, alg: Algorithm, jwk: &Jwk) -> Option<Claims> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};
    let ring_key: Option<(&'static dyn ring::signature::VerificationAlgorithm, Vec<u8>)> =
        match (alg, &jwk.algorithm) {
            (Algorithm::ES256, P::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => {
                let (x, y) = (crypto::b64url_decode(&ec.x)?, crypto::b64url_decode(&ec.y)?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                Some((&ECDSA_P256_SHA256_FIXED, [&[4u8][..], &x, &y].concat()))
            }
            (Algorithm::EdDSA, P::OctetKeyPair(okp)) if okp.curve == EllipticCurve::Ed25519 => {
                Some((&ED25519, crypto::b64url_decode(&okp.x)?))
            }
            (Algorithm::ES256 | Algorithm::EdDSA, _) => return None,
            _ => None,
        };
    let Some((ring_alg, point)) = ring_key else {
        let key = DecodingKey::from_jwk(jwk).ok()?;
        let mut v = Validation::new(alg);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        return jsonwebtoken::decode::<Claims>(proof, &key, &v)
            .ok()
            .map(|d| d.claims);
    };
    let (signed, sig) = proof.rsplit_once('.')?;
    let payload = signed.split_once('.')?.1;
    let sig = crypto::b64url_decode(sig)?;
    UnparsedPublicKey::new(ring_alg, point)
        .verify(signed.as_bytes(), &sig)
        .ok()?;
    serde_json::from_slice(&crypto::b64url_decode(payload)?).ok()
}

/// Check one proof without the replay cache. `nonce_required`: the proof must carry a nonce we
/// issued (else `use_dpop_nonce`).
pub fn read(
    kek: &Kek,
    proof: &str,
    expect: &Expect<'_>,
    now: UnixTime,
    nonce_required: bool,
) -> Result<Proof, OAuthError> {
    if proof.len() > 8192 {
        return Err(invalid("DPoP proof is too long"));
    }
    let (alg, jwk) = header_key(proof)?;
    let c = verified(proof, alg, &jwk)
        .ok_or_else(|| invalid("DPoP proof signature does not verify"))?;
    let jti = c.jti.filter(|j| !j.is_empty() && j.len() <= MAX_JTI);
    let jti = jti.ok_or_else(|| invalid("DPoP proof needs a jti"))?;
    if c.htm.as_deref() != Some(expect.htm) {
        return Err(invalid("DPoP proof htm does not match the request"));
    }
    if !c.htu.as_deref().is_some_and(|u| same_uri(u, expect.htu)) {
        return Err(invalid("DPoP proof htu does not match the request"));
    }
    let iat = c.iat.ok_or_else(|| invalid("DPoP proof needs an iat"))?;
    if iat > now + FUTURE_SKEW || iat < now - MAX_AGE {
        return Err(invalid("DPoP proof iat is not recent"));
    }
    if let Some(token) = expect.access_token {
        let want = crypto::b64url(&crypto::digest(token));
        if c.ath.as_deref() != Some(want.as_str()) {
            return Err(invalid("DPoP proof ath does not match the access token"));
        }
    }
    match c.nonce.as_deref() {
        Some(n) if nonce_ok(kek, n, now) => {}
        Some(_) => {
            return Err(OAuthError::use_dpop_nonce(
                "DPoP nonce is stale; use the new one",
            ));
        }
        None if nonce_required => {
            return Err(OAuthError::use_dpop_nonce("a DPoP nonce is required"));
        }
        None => {}
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| invalid("DPoP proof jwk"))?;
    Ok(Proof { jkt, jti })
}

/// Check a proof and spend its `jti`: a replayed proof is refused on every node.
pub async fn check(p: &Provider, proof: &str, expect: &Expect<'_>) -> Result<Proof, OAuthError> {
    let now = p.now();
    let checked = read(&p.kek, proof, expect, now, true)?;
    let key = format!("dpop:{}:{}", checked.jkt, crypto::digest_hex(&checked.jti));
    let ttl = (MAX_AGE + FUTURE_SKEW) as u64;
    if !p.eph.put_new(&key, b"1", ttl).await? {
        return Err(invalid("DPoP proof was already used"));
    }
    Ok(checked)
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
