//! The sign-in pipeline every method goes through, so that nothing is checked unthrottled and
//! nothing is recorded twice or not at all:
//!
//! ```text
//! throttle → verify → record (throttle counters, usage history) → session
//! ```
//!
//! A first sign-in ([`password`], [`passkey`]) starts a session with a new cookie; a further
//! proof ([`prove`]) lifts the current session — a step-up a client asked for, or the
//! confirmation before an account change. Every record is part of the outcome: when one
//! cannot be written the sign-in fails (the caller answers 503), and a session started
//! alongside is ended again.

use serde_json::{Value, json};

use super::biometric::{self, FaceImage, FaceMatcher};
use super::factors::{self, Channel};
use super::throttle::{self, Refusal, Ticket};
use super::webauthn::Asserted;
use super::{AuthnError, Method, Session, password, session};
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::crypto::Kek;
use crate::otp::{Checked, Codes};
use crate::store::{AccountRecord, Durable, Ephemeral, StoreError};

/// Where a sign-in happens: the stores, from which address, for which client, when.
pub struct Context<'a> {
    pub db: &'a dyn Durable,
    pub eph: &'a dyn Ephemeral,
    pub kek: &'a Kek,
    pub ip: &'a str,
    /// The browser's own description (User-Agent), for the holder's list of sessions.
    pub agent: Option<&'a str>,
    /// The client the person is signing in to (none on the account site).
    pub client_id: Option<&'a str>,
    pub now: UnixTime,
    /// How long a new session lives.
    pub session_ttl: i64,
}

/// A new session: its account, the session and its cookie value.
pub struct SignedIn {
    pub account: AccountRecord,
    pub session: Session,
    pub cookie: String,
}

/// A further proof offered for the current session.
pub enum Proof<'a> {
    Password(&'a str),
    Totp(&'a str),
    Code(Channel, &'a str),
    Recovery(&'a str),
    /// A passkey the WebAuthn ceremony has verified.
    Passkey(Method),
    /// A face image, to be matched against the register's portrait by `matcher`.
    Face(&'a dyn FaceMatcher, FaceImage<'a>),
}

impl Proof<'_> {
    pub fn method(&self) -> Method {
        match self {
            Proof::Password(_) => Method::Password,
            Proof::Totp(_) => Method::Totp,
            Proof::Code(ch, _) => ch.method(),
            Proof::Recovery(_) => Method::Recovery,
            Proof::Passkey(m) => *m,
            Proof::Face(..) => Method::Face,
        }
    }
}

/// Why a further proof is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A client needs a stronger sign-in.
    StepUp,
    /// The person confirms it is them before an account change.
    Confirm,
}

impl Context<'_> {
    fn event(&self, sub: &str, ok: bool, action: &'static str, detail: Value) -> Event {
        Event {
            actor: if ok {
                sub.to_string()
            } else {
                "anonymous".into()
            },
            action,
            subject: Some(sub.to_string()),
            client_id: self.client_id.map(String::from),
            detail,
            ip: Some(self.ip.to_string()),
        }
    }

    async fn record(&self, e: Event) -> Result<(), StoreError> {
        audit::record(self.db, e, self.now).await.map(|_| ())
    }

    /// Count a try for `subject`, or say why it is refused unchecked.
    async fn reserve(&self, subject: &str) -> Result<Ticket, AuthnError> {
        throttle::reserve(self.eph, subject, self.ip, self.now)
            .await?
            .map_err(AuthnError::Throttled)
    }

    /// A failed try: it stays counted, and the history says so (and says when it locked the
    /// subject out).
    async fn failed(
        &self,
        ticket: Ticket,
        sub: Option<&str>,
        detail: Value,
    ) -> Result<(), AuthnError> {
        let n = ticket.failed(self.eph, self.now).await?;
        if let Some(sub) = sub {
            let action = match n == throttle::LOCKOUT_AFTER {
                true => actions::THROTTLED,
                false => actions::SIGNIN_FAILED,
            };
            self.record(self.event(sub, false, action, detail)).await?;
        }
        Ok(())
    }

    /// Start the session together with the records of a success; if a record fails, the
    /// session is ended again.
    async fn start(
        &self,
        previous: Option<&str>,
        account: AccountRecord,
        method: Method,
        records: impl Future<Output = Result<(), StoreError>>,
    ) -> Result<SignedIn, AuthnError> {
        let device = session::Device {
            ip: self.ip,
            agent: self.agent,
        };
        let started = session::start(
            self.eph,
            previous,
            &account,
            method,
            device,
            self.now,
            self.session_ttl,
        );
        let (recorded, started) = tokio::join!(records, started);
        let (cookie, session) = started?;
        if let Err(e) = recorded {
            let _ = session::end(self.eph, &cookie).await;
            return Err(e.into());
        }
        Ok(SignedIn {
            account,
            session,
            cookie,
        })
    }
}

/// Sign in with an ID number (or an old CMND number that points at one person) and password.
/// Throttled by the number, so unknown numbers are treated exactly like real ones, and a
/// person's CMND and ID number share one count.
pub async fn password(
    cx: &Context<'_>,
    previous: Option<&str>,
    typed: &str,
    given: &str,
) -> Result<SignedIn, AuthnError> {
    let id_number = crate::identity::cmnd::resolve(cx.db, typed)
        .await?
        .map_err(|_| AuthnError::AmbiguousCmnd)?;
    let id_number = id_number.as_str();
    let ticket = cx.reserve(&format!("pwd:{id_number}")).await?;
    let detail = json!({"method": Method::Password.name()});
    match password::sign_in(cx.db, id_number, given).await {
        Ok(account) => {
            let event = cx.event(&account.sub, true, actions::SIGNIN, detail);
            let records = async {
                let (cleared, recorded) = tokio::join!(ticket.succeeded(cx.eph), cx.record(event));
                cleared.and(recorded)
            };
            cx.start(previous, account, Method::Password, records).await
        }
        Err(AuthnError::InvalidCredentials) => {
            let account = cx.db.account_by_id_number(id_number).await?;
            let sub = account.as_ref().map(|a| a.sub.as_str());
            cx.failed(ticket, sub, detail).await?;
            Err(AuthnError::InvalidCredentials)
        }
        Err(AuthnError::Locked) => {
            // The right password for a locked account: not a guess to hold against it.
            ticket.succeeded(cx.eph).await?;
            Err(AuthnError::Locked)
        }
        Err(e) => Err(e),
    }
}

/// Sign in with a passkey alone (the ceremony has verified it; nothing to guess, so nothing
/// to throttle).
pub async fn passkey(
    cx: &Context<'_>,
    previous: Option<&str>,
    asserted: Asserted,
) -> Result<SignedIn, AuthnError> {
    let detail = json!({"method": asserted.method.name()});
    let event = cx.event(&asserted.account.sub, true, actions::SIGNIN, detail);
    cx.start(
        previous,
        asserted.account,
        asserted.method,
        cx.record(event),
    )
    .await
}

/// A session for an account that has just proven itself in a flow of its own — enrolment
/// (the phone by SMS, then a new password) or password recovery — recorded like any sign-in.
/// The session counts the password only.
pub async fn after(
    cx: &Context<'_>,
    previous: Option<&str>,
    account: AccountRecord,
    flow: &'static str,
) -> Result<SignedIn, AuthnError> {
    let detail = json!({"method": Method::Password.name(), "context": flow});
    let event = cx.event(&account.sub, true, actions::SIGNIN, detail);
    cx.start(previous, account, Method::Password, cx.record(event))
        .await
}

/// A further proof for the current session. On success the session is lifted (`acr`, `amr`,
/// `auth_time`, the method's proof time) and stored under `cookie`; the returned session is
/// the lifted one.
pub async fn prove(
    cx: &Context<'_>,
    cookie: &str,
    current: &Session,
    account: &AccountRecord,
    proof: Proof<'_>,
    purpose: Purpose,
) -> Result<Session, AuthnError> {
    let method = proof.method();
    let subject = match proof {
        Proof::Password(_) => Some(format!("pwd:{}", account.id_number)),
        Proof::Passkey(_) => None,
        _ => Some(format!("2fa:{}", account.sub)),
    };
    let ticket = match &subject {
        Some(s) => Some(cx.reserve(s).await?),
        None => None,
    };
    let context = match purpose {
        Purpose::StepUp => "stepup",
        Purpose::Confirm => "confirm",
    };
    let mut detail = json!({"method": method.name(), "context": context});
    let verified = match proof {
        Proof::Face(matcher, image) => face(cx, account, matcher, image, &mut detail).await,
        other => verify(cx, account, other).await,
    };
    let refusal = match verified {
        Ok(true) => None,
        Ok(false) => Some(AuthnError::InvalidCredentials),
        Err(e @ (AuthnError::CodeSpent | AuthnError::FaceUnusable)) => Some(e),
        Err(e @ AuthnError::Unavailable(_)) => {
            // Nothing was checked: the try is given back.
            if let Some(t) = ticket {
                t.not_made(cx.eph).await?;
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if let Some(refused) = refusal {
        if let Some(t) = ticket {
            cx.failed(t, Some(&account.sub), detail).await?;
        }
        return Err(refused);
    }
    let up = session::stepped(current, method, cx.now);
    let action = match purpose {
        Purpose::StepUp => actions::STEPUP,
        Purpose::Confirm => actions::REAUTHENTICATED,
    };
    detail["acr"] = json!(up.acr);
    if let Some(t) = ticket {
        t.succeeded(cx.eph).await?;
    }
    cx.record(cx.event(&account.sub, true, action, detail))
        .await?;
    session::save(cx.eph, cookie, &up, cx.now).await?;
    Ok(up)
}

/// Match a face and keep the result; the history gets the result too (never the image).
async fn face(
    cx: &Context<'_>,
    account: &AccountRecord,
    matcher: &dyn FaceMatcher,
    image: FaceImage<'_>,
    detail: &mut Value,
) -> Result<bool, AuthnError> {
    let c = biometric::check(cx.db, matcher, account, image, cx.now).await?;
    detail["matched"] = json!(c.matched);
    detail["score"] = json!(c.score);
    detail["matcher"] = json!(c.matcher);
    Ok(c.matched)
}

/// Check one proof; `Ok(false)` is a wrong one.
async fn verify(
    cx: &Context<'_>,
    account: &AccountRecord,
    proof: Proof<'_>,
) -> Result<bool, AuthnError> {
    let (db, kek, now) = (cx.db, cx.kek, cx.now);
    match proof {
        Proof::Password(given) => {
            Ok(password::matches(given.to_string(), account.password_hash.clone()).await)
        }
        Proof::Totp(code) => factors::check_totp(db, kek, &account.sub, code, now).await,
        Proof::Recovery(code) => {
            Ok(factors::use_recovery_code(db, kek, &account.sub, code, now).await?)
        }
        Proof::Code(ch, code) => {
            let codes = Codes { eph: cx.eph, kek };
            match factors::check_code(&codes, ch, account, code, now).await? {
                Checked::Accepted => Ok(true),
                Checked::Wrong { tries_left } if tries_left > 0 => Ok(false),
                Checked::Wrong { .. } | Checked::NoCode => Err(AuthnError::CodeSpent),
                Checked::LockedOut => Err(AuthnError::Throttled(Refusal::LockedOut(
                    crate::otp::GUESS_WINDOW as i64,
                ))),
            }
        }
        Proof::Passkey(_) => Ok(true),
        // Matched in `face`, which records the result.
        Proof::Face(..) => Err(AuthnError::Internal("face proof outside `face`".into())),
    }
}
