//! Brute-force protection for passwords and codes: per-subject and per-IP counters in the
//! ephemeral store (Redis in production, so every node counts together).
//!
//! A try is counted **before** it is checked ([`reserve`]): the counter is bumped atomically
//! and a try whose number is past the limit is refused unchecked, so forty parallel guesses
//! get at most the ten checks one after another would. After a few failures each further try
//! must wait longer (1, 2, 4 … 60 s), and only one such try may be in flight at a time (a
//! slot taken with an atomic put-if-absent), so parallel tries cannot skip the waits either;
//! after ten failures the subject is locked out for the rest of the window. Counters are keyed
//! by what was typed, so an unknown ID number is throttled exactly like a real one.
//!
//! Every counter write is part of the decision: when one cannot be written the try is refused
//! (the caller answers 503), never let through unlimited.

use crate::clock::UnixTime;
use crate::store::{Ephemeral, StoreResult};

pub const WINDOW_SECS: u64 = 15 * 60;
/// Failures allowed before delays begin.
pub const FREE_TRIES: i64 = 3;
/// Failures that lock the subject out for the window.
pub const LOCKOUT_AFTER: i64 = 10;
/// Failures from one address that lock the address out for the window.
pub const PER_IP_LIMIT: i64 = 50;
const MAX_DELAY: i64 = 60;
/// How long a delayed try may hold its slot (a crashed request frees it by expiry).
const SLOT_SECS: u64 = 60;

fn read_i64(v: Option<Vec<u8>>) -> i64 {
    v.and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Why a try is refused before it is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wait this many seconds.
    Wait(i64),
    /// Locked out for the rest of the window (at most this many seconds).
    LockedOut(i64),
}

impl Refusal {
    /// Seconds until a try may be made again.
    pub fn seconds(self) -> i64 {
        match self {
            Refusal::Wait(s) | Refusal::LockedOut(s) => s,
        }
    }
}

/// A counted try, to be settled with [`Ticket::failed`] or [`Ticket::succeeded`].
#[derive(Debug)]
#[must_use = "a counted try must be settled"]
pub struct Ticket {
    subject: String,
    ip: String,
    /// This try's number in the subject's window (1 = the first).
    n: i64,
    slot: bool,
}

fn keys(subject: &str) -> (String, String, String) {
    (
        format!("fail:{subject}"),
        format!("wait:{subject}"),
        format!("slot:{subject}"),
    )
}

fn ip_key(ip: &str) -> String {
    format!("fail-ip:{ip}")
}

/// The delay after `failures` failures: 1, 2, 4 … 60 seconds once the free tries are used.
fn delay_after(failures: i64) -> i64 {
    (1i64 << (failures - FREE_TRIES).clamp(0, 6)).min(MAX_DELAY)
}

async fn wait_left(eph: &dyn Ephemeral, wait_key: &str, now: UnixTime) -> StoreResult<i64> {
    Ok(read_i64(eph.get(wait_key).await?) - now)
}

/// Count a try for `subject` (e.g. `pwd:001090000001`, `2fa:{sub}`) from `ip`, or refuse it.
pub async fn reserve(
    eph: &dyn Ephemeral,
    subject: &str,
    ip: &str,
    now: UnixTime,
) -> StoreResult<Result<Ticket, Refusal>> {
    let (fail_key, wait_key, slot_key) = keys(subject);
    // A try inside the wait is refused without being counted: waiting costs nothing.
    let left = wait_left(eph, &wait_key, now).await?;
    if left > 0 {
        return Ok(Err(Refusal::Wait(left)));
    }
    let ip_key = ip_key(ip);
    let (per_ip, n) = tokio::try_join!(
        eph.incr(&ip_key, WINDOW_SECS),
        eph.incr(&fail_key, WINDOW_SECS)
    )?;
    let window = WINDOW_SECS as i64;
    if per_ip > PER_IP_LIMIT || n > LOCKOUT_AFTER {
        return Ok(Err(Refusal::LockedOut(window)));
    }
    let mut ticket = Ticket {
        subject: subject.to_string(),
        ip: ip.to_string(),
        n,
        slot: false,
    };
    if n > FREE_TRIES {
        // One delayed try at a time, and it must see the wait its predecessor left.
        let refused = if !eph.put_new(&slot_key, b"1", SLOT_SECS).await? {
            Some(Refusal::Wait(1))
        } else {
            ticket.slot = true;
            let left = wait_left(eph, &wait_key, now).await?;
            (left > 0).then_some(Refusal::Wait(left))
        };
        if let Some(r) = refused {
            ticket.refund(eph).await?;
            return Ok(Err(r));
        }
    }
    Ok(Ok(ticket))
}

impl Ticket {
    /// This try's number in the subject's window.
    pub fn number(&self) -> i64 {
        self.n
    }

    /// Undo the count of a try that was not made.
    async fn refund(&self, eph: &dyn Ephemeral) -> StoreResult<()> {
        let (fail_key, _, slot_key) = keys(&self.subject);
        let ip_key = ip_key(&self.ip);
        tokio::try_join!(
            eph.incr_by(&fail_key, -1, WINDOW_SECS),
            eph.incr_by(&ip_key, -1, WINDOW_SECS),
        )?;
        if self.slot {
            eph.delete(&slot_key).await?;
        }
        Ok(())
    }

    /// The try could not be made (a service it needs did not answer): its count is undone.
    pub async fn not_made(self, eph: &dyn Ephemeral) -> StoreResult<()> {
        self.refund(eph).await
    }

    /// The try failed: it stays counted, and the next one waits. Returns the subject's
    /// failures in the window.
    pub async fn failed(self, eph: &dyn Ephemeral, now: UnixTime) -> StoreResult<i64> {
        let (_, wait_key, slot_key) = keys(&self.subject);
        if self.n >= FREE_TRIES {
            // Whole seconds: a failure late in second `now` would otherwise be free again at
            // `now + delay`, almost a second early. The extra second makes every wait at least
            // `delay` long.
            let until = now + delay_after(self.n) + 1;
            eph.put(&wait_key, until.to_string().as_bytes(), WINDOW_SECS)
                .await?;
        }
        if self.slot {
            eph.delete(&slot_key).await?;
        }
        Ok(self.n)
    }

    /// The try succeeded: the subject's failures are cleared and the address's count of
    /// this try refunded.
    pub async fn succeeded(self, eph: &dyn Ephemeral) -> StoreResult<()> {
        let (fail_key, wait_key, slot_key) = keys(&self.subject);
        let clear_wait = async {
            match self.n > FREE_TRIES {
                true => eph.delete(&wait_key).await,
                false => Ok(()),
            }
        };
        let clear_slot = async {
            match self.slot {
                true => eph.delete(&slot_key).await,
                false => Ok(()),
            }
        };
        let ip_key = ip_key(&self.ip);
        tokio::try_join!(
            eph.delete(&fail_key),
            eph.incr_by(&ip_key, -1, WINDOW_SECS),
            clear_wait,
            clear_slot,
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    async fn fail(eph: &MemoryStore, s: &str, ip: &str, now: i64) -> Result<i64, Refusal> {
        match reserve(eph, s, ip, now).await.unwrap() {
            Ok(t) => Ok(t.failed(eph, now).await.unwrap()),
            Err(r) => Err(r),
        }
    }

    #[tokio::test]
    async fn delays_grow_then_lock_out() {
        let eph = MemoryStore::new();
        let (s, ip) = ("pwd:001090000001", "10.0.0.1");
        assert_eq!(fail(&eph, s, ip, 100).await, Ok(1));
        assert_eq!(
            fail(&eph, s, ip, 100).await,
            Ok(2),
            "two failures cost nothing"
        );
        assert_eq!(fail(&eph, s, ip, 100).await, Ok(3));
        assert_eq!(
            reserve(&eph, s, ip, 100).await.unwrap().unwrap_err(),
            Refusal::Wait(2),
            "a one-second delay, rounded up to whole seconds"
        );
        assert_eq!(
            reserve(&eph, s, ip, 101).await.unwrap().unwrap_err(),
            Refusal::Wait(1)
        );
        assert_eq!(fail(&eph, s, ip, 102).await, Ok(4), "waiting cost no try");
        assert_eq!(
            reserve(&eph, s, ip, 102).await.unwrap().unwrap_err(),
            Refusal::Wait(3)
        );
        let mut now = 200;
        for n in 5..=10 {
            assert_eq!(fail(&eph, s, ip, now).await, Ok(n));
            now += 100;
        }
        assert!(matches!(
            reserve(&eph, s, ip, 10_000).await.unwrap(),
            Err(Refusal::LockedOut(_))
        ));
        let other = reserve(&eph, "pwd:other", "10.0.0.2", 200).await.unwrap();
        assert_eq!(other.unwrap().number(), 1, "others unaffected");
    }

    #[tokio::test]
    async fn success_clears_the_subject_and_refunds_the_address() {
        let eph = MemoryStore::new();
        let (s, ip) = ("pwd:001090000001", "10.0.0.1");
        for _ in 0..3 {
            fail(&eph, s, ip, 100).await.unwrap();
        }
        let t = reserve(&eph, s, ip, 200).await.unwrap().unwrap();
        assert_eq!(t.number(), 4);
        t.succeeded(&eph).await.unwrap();
        let t = reserve(&eph, s, ip, 200).await.unwrap().unwrap();
        assert_eq!(t.number(), 1, "a success starts the subject afresh");
        t.succeeded(&eph).await.unwrap();
        assert_eq!(read_i64(eph.get("fail-ip:10.0.0.1").await.unwrap()), 3);
    }

    #[tokio::test]
    async fn parallel_tries_get_no_more_checks_than_sequential_ones() {
        let eph = std::sync::Arc::new(MemoryStore::new());
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let eph = eph.clone();
                tokio::spawn(async move { reserve(eph.as_ref(), "pwd:x", "10.0.0.9", 50).await })
            })
            .collect();
        let mut admitted = Vec::new();
        for t in tasks {
            if let Ok(ticket) = t.await.unwrap().unwrap() {
                admitted.push(ticket);
            }
        }
        // Three free tries and one delayed try holding the slot.
        assert_eq!(admitted.len(), 4, "{admitted:?}");
        for t in admitted {
            t.failed(eph.as_ref(), 50).await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_address_limit_holds_across_subjects() {
        let eph = MemoryStore::new();
        let ip = "10.0.0.7";
        for i in 0..PER_IP_LIMIT {
            assert!(fail(&eph, &format!("pwd:{i}"), ip, 100).await.is_ok());
        }
        assert!(matches!(
            fail(&eph, "pwd:fresh", ip, 100).await,
            Err(Refusal::LockedOut(_))
        ));
    }
}
