//! Browser sessions in the ephemeral store. The cookie holds a random value; the store key is
//! its digest, so a leaked store dump does not yield usable cookies. A new value is issued at
//! every sign-in (session fixation defence).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Method;
use crate::clock::UnixTime;
use crate::crypto::{self, CryptoError};
use crate::ids::Subject;
use crate::store::{Ephemeral, StoreResult, typed};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// Public session id (the `sid` claim); not the cookie value.
    pub sid: String,
    pub sub: Subject,
    pub auth_time: UnixTime,
    pub acr: super::Acr,
    pub amr: Vec<String>,
    pub expires_at: UnixTime,
    /// The account's session epoch at sign-in (see `AccountRecord::session_epoch`).
    #[serde(default)]
    pub epoch: i64,
    /// When each method (by [`Method::name`]) was last proven in this session: what
    /// re-authentication for account changes looks at (`reauth`).
    #[serde(default)]
    pub proofs: BTreeMap<String, UnixTime>,
    /// Where and on what it began, for the holder's list of active sessions.
    #[serde(default)]
    pub started_at: UnixTime,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
}

/// Where a session begins: the client address and the browser's own description.
#[derive(Debug, Clone, Copy, Default)]
pub struct Device<'a> {
    pub ip: &'a str,
    pub agent: Option<&'a str>,
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
    key_of_digest(&crypto::digest_hex(cookie))
}

fn key_of_digest(digest: &str) -> String {
    format!("sess:{digest}")
}

/// The set of an account's session keys (digests), so the holder can see and end them.
fn index(sub: &str) -> String {
    format!("sessions:{sub}")
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
    device: Device<'_>,
    now: UnixTime,
    ttl: i64,
) -> Result<(String, Session), SessionError> {
    let amr = super::assurance::with_method(&[], method.amr());
    let s = Session {
        sid: crypto::random_id()?,
        sub: account.sub.clone(),
        auth_time: now,
        acr: super::assurance::acr_for(&amr),
        amr,
        expires_at: now + ttl,
        epoch: account.session_epoch,
        proofs: BTreeMap::from([(method.name().to_string(), now)]),
        started_at: now,
        ip: Some(device.ip.to_string()),
        agent: device.agent.map(|a| a.chars().take(160).collect()),
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
    let ttl = (s.expires_at - now).max(1) as u64;
    typed::put(eph, &key(&cookie), s, ttl).await?;
    eph.set_add(&index(&s.sub), &crypto::digest_hex(&cookie), ttl)
        .await?;
    Ok(cookie)
}

/// The account's live sessions, each with the digest that names it (never the cookie).
pub async fn of(
    eph: &dyn Ephemeral,
    sub: &str,
    now: UnixTime,
) -> StoreResult<Vec<(String, Session)>> {
    let mut out = Vec::new();
    for digest in eph.set_members(&index(sub)).await? {
        match typed::get::<Session>(eph, &key_of_digest(&digest)).await? {
            Some(s) if s.expires_at > now && s.sub == sub => out.push((digest, s)),
            // Ended or expired: forget it.
            _ => eph.set_remove(&index(sub), &digest).await?,
        }
    }
    out.sort_by_key(|(_, s)| std::cmp::Reverse(s.started_at));
    Ok(out)
}

/// End the account's session `sid` (from the holder's list); `false` if there is none.
pub async fn end_sid(
    eph: &dyn Ephemeral,
    sub: &str,
    sid: &str,
    now: UnixTime,
) -> StoreResult<bool> {
    for (digest, s) in of(eph, sub, now).await? {
        if s.sid == sid {
            eph.delete(&key_of_digest(&digest)).await?;
            eph.set_remove(&index(sub), &digest).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// The digest that names the session of this cookie (to mark "this browser" in the list).
pub fn digest_of(cookie: &str) -> String {
    crypto::digest_hex(cookie)
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
        acr: super::assurance::acr_for(&amr),
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
