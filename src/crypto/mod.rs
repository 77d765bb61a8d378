//! Keys and signing: the signing key set, sealing under the key-encryption key, random
//! tokens and their digests. Stored forms of tokens and secrets are digests, never the value.

pub mod jwt;
pub mod kek;
pub mod keys;
pub mod keyset;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

pub use kek::Kek;
pub use keys::KeyService;
pub use keyset::{KeySet, SigningKey};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("random generator failed")]
    Random,
    #[error("key error: {0}")]
    Key(String),
    #[error("sealed data does not open (wrong key-encryption key or tampered data)")]
    Unseal,
    #[error("no active signing key for {0}")]
    NoSigningKey(String),
    #[error("token: {0}")]
    Token(String),
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

/// A 256-bit random value, base64url: codes, refresh tokens, session ids, secrets.
pub fn random_token() -> Result<String, CryptoError> {
    Ok(b64url(&random_bytes::<32>()?))
}

/// A 6-digit one-time code (enrolment, SMS/e-mail second factor). The 2^32 mod 10^6 bias is
/// below 0.03 %: irrelevant with five attempts per code.
pub fn numeric_code() -> Result<String, CryptoError> {
    Ok(format!(
        "{:06}",
        u32::from_be_bytes(random_bytes::<4>()?) % 1_000_000
    ))
}

/// A shorter random id for records (grant ids, key ids): 128 bits.
pub fn random_id() -> Result<String, CryptoError> {
    Ok(b64url(&random_bytes::<16>()?))
}

/// Storage key of a bearer value: SHA-256. Tokens are 256-bit random, so no salt is needed.
pub fn digest(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

pub fn digest_hex(token: &str) -> String {
    digest_hex_bytes(token.as_bytes())
}

/// SHA-256 of `bytes`, hex.
pub fn digest_hex_bytes(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, in constant time.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let computed =
        b64url(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_s256_matches(
            "other",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn tokens_are_unique_and_urlsafe() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
