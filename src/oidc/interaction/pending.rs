//! The pending authorization request: a validated request and how far its interaction got,
//! kept in the ephemeral store under a random id (`ar`) for the request's lifetime — saving
//! progress never extends it. Any node can continue what another began.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::oidc::authorize::AuthRequest;
use crate::store::{Ephemeral, StoreResult, typed};

/// How far the interaction got, for this very request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The person signed in for this request, so `prompt=login` is satisfied once, not in a
    /// loop.
    #[serde(default)]
    pub signed_in: bool,
    /// The person consented for this request (`prompt=consent` likewise).
    #[serde(default)]
    pub consented: bool,
    /// The account had no factor for a level that was only asked for (`acr_values`), not
    /// required: the request continues at the level reached.
    #[serde(default)]
    pub step_up_skipped: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub request: AuthRequest,
    #[serde(default)]
    pub progress: Progress,
}

fn key(ar: &str) -> String {
    format!("ar:{ar}")
}

/// Seconds the request has left of `lifetime` (at least one, so a write never fails on it).
fn left(p: &Pending, lifetime: i64, now: UnixTime) -> u64 {
    (p.request.created_at + lifetime - now).max(1) as u64
}

/// Keep a new pending request; returns its id.
pub async fn create(
    eph: &dyn Ephemeral,
    request: AuthRequest,
    lifetime: i64,
    now: UnixTime,
) -> StoreResult<(String, Pending)> {
    let ar =
        crate::crypto::random_id().map_err(|e| crate::store::StoreError::Other(e.to_string()))?;
    let p = Pending {
        request,
        progress: Progress::default(),
    };
    typed::put(eph, &key(&ar), &p, left(&p, lifetime, now)).await?;
    Ok((ar, p))
}

/// May `ip` start one more pending request? Pending requests are held until they expire, so
/// one address may start at most `per_ip` in a request's `lifetime`; counted before anything
/// is stored, so parallel starts cannot slip past the limit.
pub async fn admit(eph: &dyn Ephemeral, ip: &str, per_ip: i64, lifetime: i64) -> StoreResult<bool> {
    let n = eph
        .incr(&format!("ar-ip:{ip}"), lifetime.max(1) as u64)
        .await?;
    Ok(n <= per_ip)
}

pub async fn load(eph: &dyn Ephemeral, ar: &str) -> StoreResult<Option<Pending>> {
    typed::get(eph, &key(ar)).await
}

pub async fn save(
    eph: &dyn Ephemeral,
    ar: &str,
    p: &Pending,
    lifetime: i64,
    now: UnixTime,
) -> StoreResult<()> {
    typed::put(eph, &key(ar), p, left(p, lifetime, now)).await
}

/// The request is spent (a code issued, or an error sent to the client).
pub async fn drop(eph: &dyn Ephemeral, ar: &str) -> StoreResult<()> {
    eph.delete(&key(ar)).await
}
