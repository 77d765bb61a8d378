//! The key-encryption key: seals private signing keys at rest and derives the pepper for
//! client-secret digests. In development it is generated into `keys/`; production supplies it.

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;

use super::{CryptoError, b64url, b64url_decode, random_bytes};

pub struct Kek {
    aead: LessSafeKey,
    pepper: hmac::Key,
    csrf: hmac::Key,
    refresh: hmac::Key,
    /// Generated on this machine for development: production refuses to run with it.
    pub is_dev: bool,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("is_dev", &self.is_dev)
            .finish_non_exhaustive()
    }
}

pub const DEV_KEK_FILE: &str = "dev-kek.b64";

impl Kek {
    pub fn from_bytes(raw: &[u8; 32], is_dev: bool) -> Result<Kek, CryptoError> {
        let aead =
            UnboundKey::new(&AES_256_GCM, raw).map_err(|_| CryptoError::Key("kek".into()))?;
        // Separate keys for separate purposes, derived so one secret is enough to configure.
        let root = hmac::Key::new(hmac::HMAC_SHA256, raw);
        let derive =
            |label: &[u8]| hmac::Key::new(hmac::HMAC_SHA256, hmac::sign(&root, label).as_ref());
        Ok(Kek {
            aead: LessSafeKey::new(aead),
            pepper: derive(b"eidp/client-secret-pepper/v1"),
            csrf: derive(b"eidp/csrf/v1"),
            refresh: derive(b"eidp/refresh-token/v1"),
            is_dev,
        })
    }

    pub fn from_b64(s: &str, is_dev: bool) -> Result<Kek, CryptoError> {
        let raw = b64url_decode(s.trim())
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| {
                CryptoError::Key("the key-encryption key must be 32 bytes, base64url".into())
            })?;
        Kek::from_bytes(&raw, is_dev)
    }

    /// Load the development key from `dir`, creating it on first start. Returns whether it
    /// was created so the caller can say so.
    pub fn load_or_create_dev(dir: &Path) -> Result<(Kek, bool), CryptoError> {
        let path = dir.join(DEV_KEK_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok((Kek::from_b64(&text, true)?, false));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| CryptoError::Key(format!("{}: {e}", dir.display())))?;
        let raw = random_bytes::<32>()?;
        write_private(&path, &b64url(&raw))?;
        Ok((Kek::from_bytes(&raw, true)?, true))
    }

    /// AES-256-GCM with a random nonce; `context` (e.g. the kid) is bound as associated data.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<12>()?;
        let mut buf = plain.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Key("seal".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 12 + 16 {
            return Err(CryptoError::Unseal);
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Unseal)?;
        let mut buf = body.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Unseal)?;
        Ok(plain.to_vec())
    }

    /// The stored form of a client secret: a keyed hash, fast enough for every token request.
    pub fn secret_digest(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.pepper, secret.as_bytes())
            .as_ref()
            .to_vec()
    }

    pub fn secret_matches(&self, secret: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.pepper, secret.as_bytes(), stored).is_ok()
    }

    /// CSRF token bound to the browser (its cookie id) and the form's purpose.
    pub fn csrf_token(&self, browser: &str, purpose: &str) -> String {
        let msg = format!("{browser}\n{purpose}");
        b64url(hmac::sign(&self.csrf, msg.as_bytes()).as_ref())
    }

    pub fn csrf_matches(&self, browser: &str, purpose: &str, token: &str) -> bool {
        tag_matches(&self.csrf, &format!("{browser}\n{purpose}"), token)
    }

    /// A DPoP nonce tag for a time window (RFC 9449 §8): every node holding the key makes and
    /// accepts the same nonces, so none has to be stored.
    pub fn dpop_nonce_tag(&self, window: i64) -> String {
        let tag = hmac::sign(&self.csrf, format!("dpop-nonce\n{window}").as_bytes());
        b64url(&tag.as_ref()[..16])
    }

    /// The tag that makes a refresh token genuine: the database holds no token material, so
    /// reading it is not enough to mint or replay one.
    pub fn refresh_tag(&self, body: &str) -> String {
        b64url(hmac::sign(&self.refresh, body.as_bytes()).as_ref())
    }

    pub fn refresh_tag_matches(&self, body: &str, tag: &str) -> bool {
        tag_matches(&self.refresh, body, tag)
    }
}

/// Whether `tag` (base64url) is `key`'s HMAC of `msg`, compared in constant time.
fn tag_matches(key: &hmac::Key, msg: &str, tag: &str) -> bool {
    b64url_decode(tag).is_some_and(|tag| hmac::verify(key, msg.as_bytes(), &tag).is_ok())
}

/// Write a secret file readable by the owner only.
pub fn write_private(path: &Path, contents: &str) -> Result<(), CryptoError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| CryptoError::Key(format!("{}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| CryptoError::Key(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_context_binding() {
        let kek = Kek::from_bytes(&[7u8; 32], true).unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err());
        let other = Kek::from_bytes(&[8u8; 32], true).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
    }

    #[test]
    fn secret_digest_verifies_only_the_secret() {
        let kek = Kek::from_bytes(&[1u8; 32], false).unwrap();
        let d = kek.secret_digest("s3cret");
        assert!(kek.secret_matches("s3cret", &d));
        assert!(!kek.secret_matches("s3cret!", &d));
    }

    #[test]
    fn csrf_is_bound_to_browser_and_purpose() {
        let kek = Kek::from_bytes(&[2u8; 32], false).unwrap();
        let t = kek.csrf_token("browser-a", "login:ar1");
        assert!(kek.csrf_matches("browser-a", "login:ar1", &t));
        assert!(!kek.csrf_matches("browser-b", "login:ar1", &t));
        assert!(!kek.csrf_matches("browser-a", "consent:ar1", &t));
        assert!(!kek.csrf_matches("browser-a", "login:ar1", "not base64 !"));
    }
}
