//! Authentication: who is at the browser and how strongly they proved it.
//!
//! Owns the sign-in methods (password, TOTP, SMS/e-mail codes, recovery codes, passkeys, a
//! face match against the register's portrait), the brute-force throttle, the browser
//! session, the mapping of methods to `acr` (Decree 69/2024 Art. 20 authentication levels) and
//! `amr` (RFC 8176), re-authentication before account changes, and the record of those
//! changes.

pub mod assurance;
pub mod biometric;
pub mod changes;
pub mod factors;
pub mod hasher;
pub mod inventory;
pub mod manage;
pub mod overview;
pub mod password;
pub mod reauth;
pub mod recovery;
pub mod session;
pub mod signin;
pub mod throttle;
pub mod webauthn;

pub use assurance::Acr;
pub use session::Session;

/// A way of proving who one is. [`Method::name`] is how the provider records it (audit
/// entries, a session's proofs); [`Method::amr`] is what tokens say (RFC 8176).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    /// An authenticator app (RFC 6238).
    Totp,
    /// A code sent by SMS to the own-name phone on record.
    Sms,
    /// A code sent to the e-mail address on record.
    Email,
    /// One of the printed single-use recovery codes.
    Recovery,
    /// A WebAuthn passkey with user verification; `synced` when backed up to a cloud account.
    Passkey {
        synced: bool,
    },
    /// A face matched against the register's portrait by the biometric verification service.
    Face,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Password => "pwd",
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Recovery => "recovery",
            Method::Passkey { .. } => "passkey",
            Method::Face => "face",
        }
    }

    /// The further factor this method proves (none for the password).
    pub fn factor(self) -> Option<inventory::Factor> {
        use inventory::Factor;
        Some(match self {
            Method::Password => return None,
            Method::Totp => Factor::Totp,
            Method::Sms => Factor::Sms,
            Method::Email => Factor::Email,
            Method::Recovery => Factor::Recovery,
            Method::Passkey { .. } => Factor::Passkey,
            Method::Face => Factor::Face,
        })
    }

    pub fn amr(self) -> &'static str {
        match self {
            Method::Password => assurance::PWD,
            Method::Totp | Method::Email | Method::Recovery => assurance::OTP,
            Method::Sms => assurance::SMS,
            Method::Passkey { synced: true } => "swk",
            Method::Passkey { synced: false } => "hwk",
            Method::Face => assurance::FACE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// One answer for unknown ID number and wrong password: do not reveal which.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account locked")]
    Locked,
    /// An old CMND number issued to several people: the 12-digit number is needed.
    #[error("the old CMND number belongs to several people")]
    AmbiguousCmnd,
    /// Too many attempts: wait before trying again (no hint whether the account exists).
    #[error("too many attempts")]
    Throttled(throttle::Refusal),
    /// No live code to check (expired, used, or dead of wrong tries): ask for a new one.
    #[error("the code is no longer valid")]
    CodeSpent,
    /// The face matcher could not use the picture (no face in it): take another.
    #[error("the face image could not be used")]
    FaceUnusable,
    /// A service the check needs (the face matcher) cannot answer now: try later (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<session::SessionError> for AuthnError {
    fn from(e: session::SessionError) -> Self {
        match e {
            session::SessionError::Store(s) => AuthnError::Store(s),
            session::SessionError::Crypto(c) => AuthnError::Internal(c.to_string()),
        }
    }
}

impl From<crate::otp::OtpError> for AuthnError {
    fn from(e: crate::otp::OtpError) -> Self {
        use crate::otp::OtpError;
        match e {
            OtpError::Wait(s) => AuthnError::Throttled(throttle::Refusal::Wait(s)),
            OtpError::LimitReached(s) => AuthnError::Throttled(throttle::Refusal::LockedOut(s)),
            OtpError::Store(s) => AuthnError::Store(s),
            OtpError::Send(m) | OtpError::Internal(m) => AuthnError::Internal(m),
        }
    }
}
