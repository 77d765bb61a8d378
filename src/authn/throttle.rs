//! Brute-force protection for passwords and codes: per-subject and per-IP failure counters in
//! the ephemeral store (Redis in production, so every node counts together). After a few
//! failures each further try must wait longer (1, 2, 4 … 60 s); after ten, the subject is
//! locked out for the rest of the window. Counters are keyed by what was typed, so an unknown
//! ID number is throttled exactly like a real one.

use crate::clock::UnixTime;
use crate::store::{Ephemeral, StoreResult};

pub const WINDOW_SECS: u64 = 15 * 60;
/// Failures allowed before delays begin.
pub const FREE_TRIES: i64 = 3;
/// Failures that lock the subject out for the window.
pub const LOCKOUT_AFTER: i64 = 10;
pub const PER_IP_LIMIT: i64 = 50;
const MAX_DELAY: i64 = 60;

fn read_i64(v: Option<Vec<u8>>) -> i64 {
    v.and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Why a try is refused before it is even checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Wait this many seconds.
    Wait(i64),
    LockedOut,
}

/// `subject` is e.g. `pwd:001090000001` or `2fa:{sub}`.
pub async fn check(
    eph: &dyn Ephemeral,
    subject: &str,
    ip: &str,
    now: UnixTime,
) -> StoreResult<Option<Refusal>> {
    if read_i64(eph.get(&format!("fail-ip:{ip}")).await?) >= PER_IP_LIMIT {
        return Ok(Some(Refusal::LockedOut));
    }
    if read_i64(eph.get(&format!("fail:{subject}")).await?) >= LOCKOUT_AFTER {
        return Ok(Some(Refusal::LockedOut));
    }
    let next = read_i64(eph.get(&format!("wait:{subject}")).await?);
    Ok((now < next).then_some(Refusal::Wait(next - now)))
}

/// Count a failure; returns the subject's failures in the window.
pub async fn failed(
    eph: &dyn Ephemeral,
    subject: &str,
    ip: &str,
    now: UnixTime,
) -> StoreResult<i64> {
    eph.incr(&format!("fail-ip:{ip}"), WINDOW_SECS).await?;
    let n = eph.incr(&format!("fail:{subject}"), WINDOW_SECS).await?;
    if n >= FREE_TRIES {
        let delay = (1i64 << (n - FREE_TRIES).min(6)).min(MAX_DELAY);
        eph.put(
            &format!("wait:{subject}"),
            (now + delay).to_string().as_bytes(),
            WINDOW_SECS,
        )
        .await?;
    }
    Ok(n)
}

pub async fn succeeded(eph: &dyn Ephemeral, subject: &str) -> StoreResult<()> {
    eph.delete(&format!("fail:{subject}")).await?;
    eph.delete(&format!("wait:{subject}")).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn delays_grow_then_lock_out() {
        let eph = MemoryStore::new();
        let (s, ip) = ("pwd:001090000001", "10.0.0.1");
        for _ in 0..2 {
            failed(&eph, s, ip, 100).await.unwrap();
        }
        assert_eq!(
            check(&eph, s, ip, 100).await.unwrap(),
            None,
            "two failures cost nothing"
        );
        failed(&eph, s, ip, 100).await.unwrap();
        assert_eq!(
            check(&eph, s, ip, 100).await.unwrap(),
            Some(Refusal::Wait(1))
        );
        assert_eq!(check(&eph, s, ip, 101).await.unwrap(), None);
        failed(&eph, s, ip, 101).await.unwrap();
        assert_eq!(
            check(&eph, s, ip, 101).await.unwrap(),
            Some(Refusal::Wait(2))
        );
        for _ in 0..6 {
            failed(&eph, s, ip, 200).await.unwrap();
        }
        assert_eq!(
            check(&eph, s, ip, 10_000).await.unwrap(),
            Some(Refusal::LockedOut)
        );
        assert_eq!(
            check(&eph, "pwd:other", "10.0.0.2", 200).await.unwrap(),
            None,
            "others unaffected"
        );
        succeeded(&eph, s).await.unwrap();
        assert_eq!(check(&eph, s, ip, 10_000).await.unwrap(), None);
    }
}
