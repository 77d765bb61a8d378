//! The signing key set: which key signs now (per algorithm), which are published in JWKS.
//!
//! A key is published from creation, signs from `activate_at` until `retire_at`, and stays
//! published until `remove_at` so tokens it signed still verify (rotation without outage).

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use super::{CryptoError, Kek, b64url, random_id};
use crate::clock::UnixTime;
use crate::store::KeyRecord;

/// Algorithms the provider signs with; ES256 is the default for ID tokens.
pub const SUPPORTED_ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::RS256 => "RS256",
        Algorithm::PS256 => "PS256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        _ => "unsupported",
    }
}

pub fn parse_alg(s: &str) -> Option<Algorithm> {
    SUPPORTED_ALGS.into_iter().find(|a| alg_name(*a) == s)
}

pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub jwk: Value,
    pub activate_at: UnixTime,
    pub retire_at: Option<UnixTime>,
    pub remove_at: Option<UnixTime>,
    /// ES256 keys are also held as a parsed ring key pair: jsonwebtoken re-parses the
    /// PKCS#8 document (and derives the public point) on every signature, which doubled the
    /// cost of each token.
    pub es256: Option<EcdsaKeyPair>,
}

impl SigningKey {
    fn signs_at(&self, now: UnixTime) -> bool {
        self.activate_at <= now && self.retire_at.is_none_or(|r| now < r)
    }

    fn published_at(&self, now: UnixTime) -> bool {
        self.remove_at.is_none_or(|r| now < r)
    }
}

#[derive(Default)]
pub struct KeySet {
    keys: Vec<Arc<SigningKey>>,
    /// The serialised JWKS for the set of keys published last time (bit per key).
    jwks_cache: std::sync::Mutex<Option<(u64, Arc<[u8]>)>>,
}

impl Clone for KeySet {
    fn clone(&self) -> Self {
        KeySet {
            keys: self.keys.clone(),
            jwks_cache: std::sync::Mutex::new(None),
        }
    }
}

impl KeySet {
    pub fn from_records(records: &[KeyRecord], kek: &Kek) -> Result<KeySet, CryptoError> {
        let keys = records
            .iter()
            .map(|r| open_record(r, kek).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeySet {
            keys,
            jwks_cache: std::sync::Mutex::new(None),
        })
    }

    /// The key that signs for `alg` now: the most recently activated one.
    pub fn signer(&self, alg: Algorithm, now: UnixTime) -> Result<&SigningKey, CryptoError> {
        self.keys
            .iter()
            .filter(|k| k.alg == alg && k.signs_at(now))
            .max_by_key(|k| k.activate_at)
            .map(|k| k.as_ref())
            .ok_or_else(|| CryptoError::NoSigningKey(alg_name(alg).into()))
    }

    pub fn by_kid(&self, kid: &str, now: UnixTime) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.kid == kid && k.published_at(now))
            .map(|k| k.as_ref())
    }

    pub fn has_alg(&self, alg: Algorithm) -> bool {
        self.keys.iter().any(|k| k.alg == alg)
    }

    pub fn jwks(&self, now: UnixTime) -> Value {
        let keys: Vec<&Value> = self
            .keys
            .iter()
            .filter(|k| k.published_at(now))
            .map(|k| &k.jwk)
            .collect();
        json!({ "keys": keys })
    }

    /// The JWKS document as served: serialised once per change in what is published.
    pub fn jwks_json(&self, now: UnixTime) -> Arc<[u8]> {
        let mask = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.published_at(now))
            .fold(0u64, |m, (i, _)| m | (1 << (i % 64)));
        if let Ok(guard) = self.jwks_cache.lock()
            && let Some((m, body)) = guard.as_ref()
            && *m == mask
        {
            return body.clone();
        }
        let body: Arc<[u8]> = self.jwks(now).to_string().into_bytes().into();
        if let Ok(mut guard) = self.jwks_cache.lock() {
            *guard = Some((mask, body.clone()));
        }
        body
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn open_record(r: &KeyRecord, kek: &Kek) -> Result<SigningKey, CryptoError> {
    let alg =
        parse_alg(&r.alg).ok_or_else(|| CryptoError::Key(format!("unknown alg {}", r.alg)))?;
    let private = kek.open(&r.kid, &r.private_sealed)?;
    let jwk: Value =
        serde_json::from_str(&r.public_jwk).map_err(|e| CryptoError::Key(e.to_string()))?;
    let encoding = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_der(&private),
        Algorithm::EdDSA => EncodingKey::from_ed_der(&private),
        _ => EncodingKey::from_rsa_der(&private),
    };
    let jwk_parsed: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk.clone()).map_err(|e| CryptoError::Key(e.to_string()))?;
    let decoding =
        DecodingKey::from_jwk(&jwk_parsed).map_err(|e| CryptoError::Key(e.to_string()))?;
    let es256 = match alg {
        Algorithm::ES256 => Some(
            EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &private,
                &SystemRandom::new(),
            )
            .map_err(|e| CryptoError::Key(e.to_string()))?,
        ),
        _ => None,
    };
    Ok(SigningKey {
        es256,
        kid: r.kid.clone(),
        alg,
        encoding,
        decoding,
        jwk,
        activate_at: r.activate_at,
        retire_at: r.retire_at,
        remove_at: r.remove_at,
    })
}

/// Generate a key for `alg`, sealed for storage, published now and signing from `activate_at`.
pub fn generate(
    alg: Algorithm,
    kek: &Kek,
    now: UnixTime,
    activate_at: UnixTime,
) -> Result<KeyRecord, CryptoError> {
    let kid = format!("{}-{}", alg_name(alg).to_lowercase(), random_id()?);
    let (private, mut jwk) = match alg {
        Algorithm::ES256 => generate_es256()?,
        Algorithm::EdDSA => generate_ed25519()?,
        Algorithm::RS256 | Algorithm::PS256 => generate_rsa()?,
        other => {
            return Err(CryptoError::Key(format!(
                "cannot generate {}",
                alg_name(other)
            )));
        }
    };
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg_name(alg));
    jwk["use"] = json!("sig");
    Ok(KeyRecord {
        private_sealed: kek.seal(&kid, &private)?,
        kid,
        alg: alg_name(alg).into(),
        public_jwk: jwk.to_string(),
        created_at: now,
        activate_at,
        retire_at: None,
        remove_at: None,
    })
}

fn generate_es256() -> Result<(Vec<u8>, Value), CryptoError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| CryptoError::Random)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| CryptoError::Key(e.to_string()))?;
    // Uncompressed SEC1 point: 0x04 || X (32) || Y (32).
    let point = pair.public_key().as_ref();
    let (x, y) = (point.get(1..33), point.get(33..65));
    let (Some(x), Some(y)) = (x, y) else {
        return Err(CryptoError::Key("bad P-256 point".into()));
    };
    Ok((
        pkcs8.as_ref().to_vec(),
        json!({"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)}),
    ))
}

fn generate_ed25519() -> Result<(Vec<u8>, Value), CryptoError> {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::Random)?;
    let pair =
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| CryptoError::Key(e.to_string()))?;
    let x = b64url(pair.public_key().as_ref());
    Ok((
        pkcs8.as_ref().to_vec(),
        json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
    ))
}

fn generate_rsa() -> Result<(Vec<u8>, Value), CryptoError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|e| CryptoError::Key(e.to_string()))?;
    let der = key
        .to_pkcs1_der()
        .map_err(|e| CryptoError::Key(e.to_string()))?;
    let n = b64url(&key.n().to_bytes_be());
    let e = b64url(&key.e().to_bytes_be());
    Ok((
        der.as_bytes().to_vec(),
        json!({"kty": "RSA", "n": n, "e": e}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::from_bytes(&[3u8; 32], true).unwrap()
    }

    #[test]
    fn rotation_publishes_before_signing_and_after_retiring() {
        let kek = kek();
        let mut old = generate(Algorithm::ES256, &kek, 0, 0).unwrap();
        let next = generate(Algorithm::ES256, &kek, 100, 200).unwrap();
        old.retire_at = Some(200);
        old.remove_at = Some(900);
        let set = KeySet::from_records(&[old.clone(), next.clone()], &kek).unwrap();
        assert_eq!(set.signer(Algorithm::ES256, 150).unwrap().kid, old.kid);
        assert_eq!(set.signer(Algorithm::ES256, 250).unwrap().kid, next.kid);
        assert_eq!(set.jwks(150)["keys"].as_array().unwrap().len(), 2);
        assert_eq!(set.jwks(1000)["keys"].as_array().unwrap().len(), 1);
        assert!(set.signer(Algorithm::EdDSA, 150).is_err());
    }

    #[test]
    fn jwks_entries_carry_kid_alg_use() {
        let kek = kek();
        let rec = generate(Algorithm::EdDSA, &kek, 0, 0).unwrap();
        let set = KeySet::from_records(std::slice::from_ref(&rec), &kek).unwrap();
        let jwk = &set.jwks(1)["keys"][0];
        assert_eq!(jwk["kid"], rec.kid);
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert!(jwk.get("d").is_none(), "no private part in JWKS");
    }
}
