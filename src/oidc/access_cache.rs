//! Access tokens this node has already verified in full, by the digest of the token.
//!
//! A resource server sees the same access token many times in its ten minutes (a hospital's
//! token for every look-up, a bank's for every KYC call), and the ES256 verification was the
//! largest single cost of each call. What a verification established and cannot change —
//! the signature over exactly these bytes, the type, the issuer, the claims — is kept; what
//! can change is checked again on every hit: the expiry, and that the signing key is still
//! one this node verifies with (a withdrawn key stops its tokens at once). Revocation, the
//! client and the grant are the caller's checks, made on every call as before.

use std::collections::HashMap;
use std::sync::Mutex;

use super::tokens::AccessClaims;
use crate::clock::UnixTime;
use crate::crypto::{KeySet, digest};

/// Entries kept; past it the expired are dropped, and if that is not enough, all.
const MAX: usize = 8192;

struct Entry {
    kid: String,
    claims: AccessClaims,
}

#[derive(Default)]
pub struct AccessCache {
    map: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl AccessCache {
    /// The claims of `token` if it was verified here before and is still good at `now`.
    pub fn get(&self, keys: &KeySet, token: &str, now: UnixTime) -> Option<AccessClaims> {
        let key = digest(token);
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.get(&key)?;
        (e.claims.exp > now && keys.by_kid(&e.kid, now).is_some()).then(|| e.claims.clone())
    }

    /// Remember `claims`, just verified in full from `token`.
    pub fn put(&self, token: &str, claims: &AccessClaims, now: UnixTime) {
        let Some(kid) = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid) else {
            return;
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX {
            map.retain(|_, e| e.claims.exp > now);
            if map.len() >= MAX {
                map.clear();
            }
        }
        let claims = claims.clone();
        map.insert(digest(token), Entry { kid, claims });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Kek, jwt, keyset};
    use jsonwebtoken::Algorithm;

    fn test_keys() -> KeySet {
        let kek = Kek::from_bytes(&[3u8; 32], true).unwrap();
        let rec = keyset::generate(Algorithm::ES256, &kek, 0, 0).unwrap();
        KeySet::from_records(&[rec], &kek).unwrap()
    }

    fn claims(exp: i64) -> AccessClaims {
        serde_json::from_value(serde_json::json!({
            "iss": "https://id.example", "sub": "s", "aud": "a", "client_id": "c",
            "exp": exp, "iat": 0, "jti": "j", "scope": "kyc"
        }))
        .unwrap()
    }

    fn token(keys: &KeySet, c: &AccessClaims) -> String {
        jwt::sign(keys, Algorithm::ES256, "at+jwt", c, 0).unwrap()
    }

    #[test]
    fn a_hit_until_expiry_and_only_for_the_same_bytes() {
        let keys = test_keys();
        let cache = AccessCache::default();
        let c = claims(100);
        let t = token(&keys, &c);
        assert!(cache.get(&keys, &t, 10).is_none(), "nothing verified yet");
        cache.put(&t, &c, 10);
        assert_eq!(cache.get(&keys, &t, 99).map(|c| c.exp), Some(100));
        assert!(cache.get(&keys, &t, 100).is_none(), "expired");
        let other = format!("{t}x");
        assert!(cache.get(&keys, &other, 10).is_none(), "other bytes");
    }

    #[test]
    fn a_withdrawn_key_ends_the_hits() {
        let keys = test_keys();
        let cache = AccessCache::default();
        let c = claims(100);
        let t = token(&keys, &c);
        cache.put(&t, &c, 10);
        let fresh = test_keys();
        assert!(
            cache.get(&fresh, &t, 10).is_none(),
            "signed by a key not in the set"
        );
    }
}
