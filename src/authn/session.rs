//! Browser sessions in the ephemeral store. The cookie holds a random value; the store key is
//! its digest, so a leaked store dump does not yield usable cookies. A new value is issued at
//! every sign-in (session fixation defence).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Method;
use crate::clock::UnixTime;
use crate::crypto::{self, CryptoError};
use crate::store::{Ephemeral, StoreResult, typed};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// Public session id (the `sid` claim); not the cookie value.
    pub sid: String,
    pub sub: String,
    pub auth_time: UnixTime,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at: UnixTime,
    /// The account's session epoch at sign-in (see `AccountRecord::session_epoch`).
    #[serde(default)]
    pub epoch: i64,
    /// When each method (by [`Method::name`]) was last proven in this session: what
    /// re-authentication for account changes looks at (`reauth`).
    #[serde(default)]
    pub proofs: BTreeMap<String, UnixTime>,
}

impl Session {
    /// Methods proven at or after `since`.
    pub fn proven_since(&self, since: UnixTime) -> impl Iterator<Item = &str> {
        self.proofs
            .iter()
            .filter(move |(_, at)| **at >= since)
            .map(|(m, _)| m.as_str())
    }
}

fn key(cookie: &str) -> String {
    format!("sess:{}", crypto::digest_hex(cookie))
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Start a session signed in with `method`; returns the new cookie value. `previous` (if any)
/// is ended.
pub async fn start(
    eph: &dyn Ephemeral,
    previous: Option<&str>,
    account: &crate::store::AccountRecord,
    method: Method,
    now: UnixTime,
    ttl: i64,
) -> Result<(String, Session), SessionError> {
    let amr = vec![method.amr().to_string()];
    let s = Session {
        sid: crypto::random_id()?,
        sub: account.sub.clone(),
        auth_time: now,
        acr: super::assurance::acr_for(&amr).to_string(),
        amr,
        expires_at: now + ttl,
        epoch: account.session_epoch,
        proofs: BTreeMap::from([(method.name().to_string(), now)]),
    };
    let cookie = reissue(eph, previous, &s, now).await?;
    Ok((cookie, s))
}

/// Store `s` under a new cookie value, ending `previous` (privilege changes get a new cookie).
pub async fn reissue(
    eph: &dyn Ephemeral,
    previous: Option<&str>,
    s: &Session,
    now: UnixTime,
) -> Result<String, SessionError> {
    if let Some(old) = previous {
        eph.delete(&key(old)).await?;
    }
    let cookie = crypto::random_token()?;
    typed::put(eph, &key(&cookie), s, (s.expires_at - now).max(1) as u64).await?;
    Ok(cookie)
}

pub async fn load(
    eph: &dyn Ephemeral,
    cookie: &str,
    now: UnixTime,
) -> StoreResult<Option<Session>> {
    let s: Option<Session> = typed::get(eph, &key(cookie)).await?;
    Ok(s.filter(|s| s.expires_at > now))
}

pub async fn end(eph: &dyn Ephemeral, cookie: &str) -> StoreResult<()> {
    eph.delete(&key(cookie)).await
}

/// Step-up: the same session, now also proven by `method`; `acr`/`amr` are recomputed and
/// `auth_time` moves to now (OIDC Core §2: the time of the latest authentication). Pure: the
/// caller records it, then [`save`]s it (or uses [`step_up`] for both).
pub fn stepped(s: &Session, method: Method, now: UnixTime) -> Session {
    let amr = super::assurance::with_method(&s.amr, method.amr());
    let mut proofs = s.proofs.clone();
    proofs.insert(method.name().to_string(), now);
    Session {
        acr: super::assurance::acr_for(&amr).to_string(),
        amr,
        auth_time: now,
        proofs,
        ..s.clone()
    }
}

/// Store a changed session under its cookie.
pub async fn save(
    eph: &dyn Ephemeral,
    cookie: &str,
    s: &Session,
    now: UnixTime,
) -> StoreResult<()> {
    let ttl = (s.expires_at - now).max(1) as u64;
    typed::put(eph, &key(cookie), s, ttl).await
}

/// [`stepped`] and [`save`] together.
pub async fn step_up(
    eph: &dyn Ephemeral,
    cookie: &str,
    s: &Session,
    method: Method,
    now: UnixTime,
) -> StoreResult<Session> {
    let up = stepped(s, method, now);
    save(eph, cookie, &up, now).await?;
    Ok(up)
}
