//! One-time codes sent to a phone or an e-mail address, for every path that sends one:
//! enrolment, a second factor at sign-in, confirming an account change, password recovery.
//!
//! The rules are the same everywhere, because an attacker picks the weakest path:
//! - **Sends** are limited per person (the ID number), per destination (phone or address)
//!   and per client address, in an hour's window; after each send to a person or a
//!   destination the next must wait longer (1, 2, 4, 8 minutes). A wait is taken with an
//!   atomic put-if-absent, so parallel requests cannot send twice inside one.
//! - **Guesses** are counted before they are checked: a code dies after three wrong tries,
//!   and a person has ten wrong guesses a day across all their codes and flows, so starting
//!   over does not buy new guesses.
//! - A code is stored only as a keyed digest bound to its purpose and flow, lives five
//!   minutes, and is taken atomically when accepted (single use, on any node).
//!
//! Every counter write is part of the decision: when one cannot be written, nothing is sent
//! and nothing is accepted (the caller answers 503).

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::notify::MessageSender;
use crate::store::{Ephemeral, StoreError, typed};

pub const CODE_TTL: i64 = 300;
/// Wrong tries after which a code is invalidated.
pub const TRIES_PER_CODE: i64 = 3;
/// Wrong guesses a person has per [`GUESS_WINDOW`], across all codes and flows.
pub const WRONG_PER_HOLDER: i64 = 10;
pub const GUESS_WINDOW: u64 = 24 * 3600;
pub const SEND_WINDOW: u64 = 3600;
pub const SENDS_PER_HOLDER: i64 = 5;
pub const SENDS_PER_DESTINATION: i64 = 5;
pub const SENDS_PER_IP: i64 = 30;
/// The wait after a first send; each further send in the window doubles it.
pub const FIRST_WAIT: i64 = 60;
/// How long a send may hold a limit's lock (a crashed request frees it by expiry).
const LOCK_SECS: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    /// Too soon after the last send: wait this many seconds.
    #[error("wait {0} s before asking for another code")]
    Wait(i64),
    /// The window's sends are used up: wait this many seconds at most.
    #[error("too many codes were sent; try again in {0} s")]
    LimitReached(i64),
    #[error("the code could not be sent: {0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

/// Which code: what it is for, which challenge it answers, and whose it is.
#[derive(Debug, Clone, Copy)]
pub struct CodeFor<'a> {
    /// `enrol`, `2fa-sms`, `2fa-email`, `pwreset`: part of the digest, so a code made for one
    /// purpose proves nothing for another.
    pub purpose: &'a str,
    /// The challenge: an enrolment flow id, or an account's `sub`.
    pub flow: &'a str,
    /// The person (the ID number): wrong guesses and sends are limited per person, across
    /// every flow and purpose.
    pub holder: &'a str,
}

/// What a checked code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Accepted,
    /// Wrong; this many tries are left on the code (0: it is gone, ask for a new one).
    Wrong {
        tries_left: i64,
    },
    /// No live code: never sent, expired, used, or invalidated after wrong tries.
    NoCode,
    /// The person's wrong guesses for the day are used up: nothing is checked.
    LockedOut,
}

#[derive(Serialize, Deserialize)]
struct Challenge {
    digest: Vec<u8>,
    expires_at: UnixTime,
}

pub struct Codes<'a> {
    pub eph: &'a dyn Ephemeral,
    pub kek: &'a Kek,
}

fn code_key(c: &CodeFor<'_>) -> String {
    format!("otp:{}:{}", c.purpose, c.flow)
}

fn tries_key(c: &CodeFor<'_>) -> String {
    format!("otp-tries:{}:{}", c.purpose, c.flow)
}

fn wrong_key(holder: &str) -> String {
    format!("otp-wrong:{holder}")
}

/// A send limit: the key it counts under, the window's cap, and whether waits grow.
struct SendLimit {
    key: String,
    cap: i64,
    waits: bool,
}

fn read_i64(v: Option<Vec<u8>>) -> i64 {
    v.and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl Codes<'_> {
    fn digest(&self, c: &CodeFor<'_>, code: &str) -> Vec<u8> {
        self.kek
            .secret_digest(&format!("otp\n{}\n{}\n{code}", c.purpose, c.flow))
    }

    /// Make a code for `c`, replacing any earlier one, and send it to `to` with `text`.
    pub async fn send(
        &self,
        c: &CodeFor<'_>,
        to: &str,
        ip: &str,
        sender: &dyn MessageSender,
        text: impl FnOnce(&str) -> String,
        now: UnixTime,
    ) -> Result<(), OtpError> {
        let limits = [
            SendLimit {
                key: format!("h:{}", c.holder),
                cap: SENDS_PER_HOLDER,
                waits: true,
            },
            SendLimit {
                key: format!("d:{to}"),
                cap: SENDS_PER_DESTINATION,
                waits: true,
            },
            SendLimit {
                key: format!("ip:{ip}"),
                cap: SENDS_PER_IP,
                waits: false,
            },
        ];
        self.allow_send(&limits, now).await?;
        let code = crypto::numeric_code().map_err(|e| OtpError::Internal(e.to_string()))?;
        let ch = Challenge {
            digest: self.digest(c, &code),
            expires_at: now + CODE_TTL,
        };
        typed::put(self.eph, &code_key(c), &ch, (CODE_TTL + 60) as u64).await?;
        self.eph.delete(&tries_key(c)).await?;
        sender.send(to, &text(&code)).await.map_err(OtpError::Send)
    }

    /// Check every limit's wait and cap, and count the send. Each limit with a wait is
    /// examined under a short lock taken with put-if-absent, so of parallel requests only one
    /// gets past a wait; the wait itself is a stored time, compared with `now`.
    async fn allow_send(&self, limits: &[SendLimit], now: UnixTime) -> Result<(), OtpError> {
        let mut locks: Vec<String> = Vec::new();
        let outcome = self.count_send(limits, now, &mut locks).await;
        for lock in &locks {
            self.eph.delete(lock).await?;
        }
        outcome
    }

    async fn count_send(
        &self,
        limits: &[SendLimit],
        now: UnixTime,
        locks: &mut Vec<String>,
    ) -> Result<(), OtpError> {
        let wait_key = |l: &SendLimit| format!("otp-send-wait:{}", l.key);
        for l in limits.iter().filter(|l| l.waits) {
            let lock = format!("otp-send-lock:{}", l.key);
            if !self.eph.put_new(&lock, b"1", LOCK_SECS).await? {
                return Err(OtpError::Wait(1));
            }
            locks.push(lock);
            let until = read_i64(self.eph.get(&wait_key(l)).await?);
            if now < until {
                return Err(OtpError::Wait(until - now));
            }
        }
        for l in limits {
            let sent = self
                .eph
                .incr(&format!("otp-sends:{}", l.key), SEND_WINDOW)
                .await?;
            if sent > l.cap {
                return Err(OtpError::LimitReached(SEND_WINDOW as i64));
            }
            if l.waits {
                let until = now + (FIRST_WAIT << (sent - 1).clamp(0, 6));
                self.eph
                    .put(&wait_key(l), until.to_string().as_bytes(), SEND_WINDOW)
                    .await?;
            }
        }
        Ok(())
    }

    /// Check a code for `c`. A wrong guess is counted before the code is compared.
    pub async fn check(
        &self,
        c: &CodeFor<'_>,
        code: &str,
        now: UnixTime,
    ) -> Result<Checked, OtpError> {
        let Some(ch) = typed::get::<Challenge>(self.eph, &code_key(c)).await? else {
            return Ok(Checked::NoCode);
        };
        if now >= ch.expires_at {
            self.eph.delete(&code_key(c)).await?;
            return Ok(Checked::NoCode);
        }
        let (wrong_key, tries_key) = (wrong_key(c.holder), tries_key(c));
        let (wrong, tries) = tokio::try_join!(
            self.eph.incr(&wrong_key, GUESS_WINDOW),
            self.eph.incr(&tries_key, (CODE_TTL + 60) as u64)
        )?;
        if wrong > WRONG_PER_HOLDER {
            return Ok(Checked::LockedOut);
        }
        if tries > TRIES_PER_CODE {
            self.eph.delete(&code_key(c)).await?;
            self.eph.incr_by(&wrong_key, -1, GUESS_WINDOW).await?;
            return Ok(Checked::NoCode);
        }
        let code: String = code.chars().filter(|ch| !ch.is_whitespace()).collect();
        if crypto::constant_time_eq(&self.digest(c, &code), &ch.digest) {
            // Single use: take it so a second submission (or another node) cannot reuse it.
            if self.eph.take(&code_key(c)).await?.is_none() {
                return Ok(Checked::NoCode);
            }
            self.eph.incr_by(&wrong_key, -1, GUESS_WINDOW).await?;
            return Ok(Checked::Accepted);
        }
        let tries_left = TRIES_PER_CODE - tries;
        if tries_left <= 0 {
            self.eph.delete(&code_key(c)).await?;
        }
        Ok(Checked::Wrong { tries_left })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Inbox(Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl MessageSender for Inbox {
        async fn send(&self, _to: &str, text: &str) -> Result<(), String> {
            self.0.lock().unwrap().push(text.to_string());
            Ok(())
        }
    }

    impl Inbox {
        fn last(&self) -> String {
            self.0.lock().unwrap().last().cloned().unwrap()
        }
        fn count(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    fn kek() -> Kek {
        Kek::from_b64(&crypto::b64url(&[7u8; 32]), false).unwrap()
    }

    const FOR: CodeFor<'static> = CodeFor {
        purpose: "enrol",
        flow: "f1",
        holder: "079190100001",
    };

    #[tokio::test]
    async fn a_code_is_single_use_and_dies_after_three_wrong_tries() {
        let (eph, kek, inbox) = (MemoryStore::new(), kek(), Inbox::default());
        let codes = Codes {
            eph: &eph,
            kek: &kek,
        };
        codes
            .send(&FOR, "+84987654321", "ip", &inbox, |c| c.into(), 0)
            .await
            .unwrap();
        let code = inbox.last();
        assert_eq!(
            codes.check(&FOR, &code, 1).await.unwrap(),
            Checked::Accepted
        );
        assert_eq!(codes.check(&FOR, &code, 1).await.unwrap(), Checked::NoCode);

        codes
            .send(&FOR, "+84987654321", "ip", &inbox, |c| c.into(), 100)
            .await
            .unwrap();
        let good = inbox.last();
        let bad = if good == "000000" { "111111" } else { "000000" };
        let outcomes: Vec<Checked> = [
            codes.check(&FOR, bad, 101).await.unwrap(),
            codes.check(&FOR, bad, 101).await.unwrap(),
            codes.check(&FOR, bad, 101).await.unwrap(),
            codes.check(&FOR, &good, 101).await.unwrap(),
        ]
        .into();
        assert_eq!(
            outcomes,
            vec![
                Checked::Wrong { tries_left: 2 },
                Checked::Wrong { tries_left: 1 },
                Checked::Wrong { tries_left: 0 },
                Checked::NoCode
            ]
        );
    }

    #[tokio::test]
    async fn sends_wait_longer_each_time_and_stop_at_the_cap() {
        let (eph, kek, inbox) = (MemoryStore::new(), kek(), Inbox::default());
        let codes = Codes {
            eph: &eph,
            kek: &kek,
        };
        let send = |now| codes.send(&FOR, "+84987654321", "ip", &inbox, |c| c.into(), now);
        send(0).await.unwrap();
        assert!(matches!(send(30).await, Err(OtpError::Wait(30))));
        let (mut now, mut waits) = (0, Vec::new());
        for _ in 1..SENDS_PER_HOLDER {
            let left = match send(now).await {
                Err(OtpError::Wait(s)) => s,
                other => panic!("expected a wait, got {other:?}"),
            };
            waits.push(left);
            now += left;
            send(now).await.unwrap();
        }
        assert_eq!(waits, vec![60, 120, 240, 480], "each wait doubles");
        assert!(matches!(
            send(now + 10_000).await,
            Err(OtpError::LimitReached(_))
        ));
        assert_eq!(inbox.count() as i64, SENDS_PER_HOLDER);
    }

    #[tokio::test]
    async fn a_person_has_ten_wrong_guesses_across_flows() {
        let (eph, kek, inbox) = (MemoryStore::new(), kek(), Inbox::default());
        let codes = Codes {
            eph: &eph,
            kek: &kek,
        };
        let mut wrong = 0;
        for flow in 0..5 {
            let flow_id = format!("flow-{flow}");
            let c = CodeFor {
                flow: &flow_id,
                ..FOR
            };
            let now = flow * 10_000;
            codes
                .send(&c, "+84987654321", "ip", &inbox, |c| c.into(), now)
                .await
                .unwrap();
            let bad = if inbox.last() == "000000" {
                "111111"
            } else {
                "000000"
            };
            for _ in 0..3 {
                match codes.check(&c, bad, now + 1).await.unwrap() {
                    Checked::Wrong { .. } => wrong += 1,
                    Checked::LockedOut => {}
                    other => panic!("{other:?}"),
                }
            }
        }
        assert_eq!(wrong, WRONG_PER_HOLDER);
    }
}
