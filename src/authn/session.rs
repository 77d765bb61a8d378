//! Browser sessions in the ephemeral store. The cookie holds a random value; the store key is
//! its digest, so a leaked store dump does not yield usable cookies. A new value is issued at
//! every sign-in (session fixation defence).

use serde::{Deserialize, Serialize};

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

/// Start a session; returns the new cookie value. `previous` (if any) is ended.
pub async fn start(
    eph: &dyn Ephemeral,
    previous: Option<&str>,
    account: &crate::store::AccountRecord,
    acr: &str,
    amr: Vec<String>,
    now: UnixTime,
    ttl: i64,
) -> Result<(String, Session), SessionError> {
    if let Some(old) = previous {
        eph.delete(&key(old)).await?;
    }
    let cookie = crypto::random_token()?;
    let s = Session {
        sid: crypto::random_id()?,
        sub: account.sub.clone(),
        auth_time: now,
        acr: acr.to_string(),
        amr,
        expires_at: now + ttl,
        epoch: account.session_epoch,
    };
    typed::put(eph, &key(&cookie), &s, ttl.max(1) as u64).await?;
    Ok((cookie, s))
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
/// `auth_time` moves to now (OIDC Core §2: the time of the latest authentication).
pub async fn step_up(
    eph: &dyn Ephemeral,
    cookie: &str,
    s: &Session,
    method: &str,
    now: UnixTime,
) -> StoreResult<Session> {
    let amr = super::assurance::with_method(&s.amr, method);
    let up = Session {
        acr: super::assurance::acr_for(&amr).to_string(),
        amr,
        auth_time: now,
        ..s.clone()
    };
    let ttl = (up.expires_at - now).max(1) as u64;
    typed::put(eph, &key(cookie), &up, ttl).await?;
    Ok(up)
}
