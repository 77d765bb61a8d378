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

/// What [`check`] found: a try may go ahead on a clean record, or with earlier failures
/// counted (which a success then clears), or not at all.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    Counted,
    Refused(Refusal),
}

/// `subject` is e.g. `pwd:001090000001` or `2fa:{sub}`.
pub async fn check(
    eph: &dyn Ephemeral,
    subject: &str,
    ip: &str,
    now: UnixTime,
) -> StoreResult<Verdict> {
    // Asked together: on Redis the three reads share one round trip (the connection
    // pipelines them) instead of taking three, on every sign-in.
    let (ip_key, fail_key, wait_key) = (
        format!("fail-ip:{ip}"),
        format!("fail:{subject}"),
        format!("wait:{subject}"),
    );
    let (per_ip, failures, next) =
        tokio::try_join!(eph.get(&ip_key), eph.get(&fail_key), eph.get(&wait_key))?;
    let (failures, next) = (read_i64(failures), read_i64(next));
    Ok(
        if read_i64(per_ip) >= PER_IP_LIMIT || failures >= LOCKOUT_AFTER {
            Verdict::Refused(Refusal::LockedOut)
        } else if now < next {
            Verdict::Refused(Refusal::Wait(next - now))
        } else if failures > 0 || next > 0 {
            Verdict::Counted
        } else {
            Verdict::Clean
        },
    )
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
        // Whole seconds: a failure late in second `now` would otherwise be free again at
        // `now + delay`, almost a second early. The extra second makes every wait at least
        // `delay` long.
        eph.put(
            &format!("wait:{subject}"),
            (now + delay + 1).to_string().as_bytes(),
            WINDOW_SECS,
        )
        .await?;
    }
    Ok(n)
}

/// Clear the subject's failures after a success. A clean record has nothing to clear (a
/// failure counted since the check stays: the safe side), which spares every ordinary
/// sign-in a round trip.
pub async fn succeeded(eph: &dyn Ephemeral, subject: &str, found: &Verdict) -> StoreResult<()> {
    if *found == Verdict::Clean {
        return Ok(());
    }
    let (fail_key, wait_key) = (format!("fail:{subject}"), format!("wait:{subject}"));
    tokio::try_join!(eph.delete(&fail_key), eph.delete(&wait_key)).map(|_| ())
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
            Verdict::Counted,
            "two failures cost nothing"
        );
        failed(&eph, s, ip, 100).await.unwrap();
        assert_eq!(
            check(&eph, s, ip, 100).await.unwrap(),
            Verdict::Refused(Refusal::Wait(2)),
            "a one-second delay, rounded up to whole seconds"
        );
        assert_eq!(
            check(&eph, s, ip, 101).await.unwrap(),
            Verdict::Refused(Refusal::Wait(1))
        );
        assert_eq!(check(&eph, s, ip, 102).await.unwrap(), Verdict::Counted);
        failed(&eph, s, ip, 102).await.unwrap();
        assert_eq!(
            check(&eph, s, ip, 102).await.unwrap(),
            Verdict::Refused(Refusal::Wait(3))
        );
        for _ in 0..6 {
            failed(&eph, s, ip, 200).await.unwrap();
        }
        assert_eq!(
            check(&eph, s, ip, 10_000).await.unwrap(),
            Verdict::Refused(Refusal::LockedOut)
        );
        assert_eq!(
            check(&eph, "pwd:other", "10.0.0.2", 200).await.unwrap(),
            Verdict::Clean,
            "others unaffected"
        );
        let found = check(&eph, s, ip, 10_000).await.unwrap();
        succeeded(&eph, s, &found).await.unwrap();
        assert_eq!(check(&eph, s, ip, 10_000).await.unwrap(), Verdict::Clean);
    }
}
