//! Authentication: who is at the browser and how strongly they proved it.
//!
//! Owns the sign-in methods (password, TOTP, SMS/e-mail codes, recovery codes, passkeys), the
//! brute-force throttle, the browser session, the mapping of methods to `acr` (Decree 69/2024
//! Art. 20 authentication levels) and `amr` (RFC 8176), re-authentication before account
//! changes, and the record of those changes.

pub mod assurance;
pub mod changes;
pub mod factors;
pub mod hasher;
pub mod password;
pub mod reauth;
pub mod session;
pub mod throttle;
pub mod webauthn;

pub use session::Session;

/// Authentication levels of one sign-in (Decree 69/2024/NĐ-CP Art. 20), as `acr` values.
pub const LOA1: &str = "urn:vn:eid:loa:1";
pub const LOA2: &str = "urn:vn:eid:loa:2";
pub const LOA3: &str = "urn:vn:eid:loa:3";
pub const LOA4: &str = "urn:vn:eid:loa:4";
pub const ACR_VALUES: [&str; 4] = [LOA1, LOA2, LOA3, LOA4];

/// Position of an `acr` value on the scale (unknown values rank below everything).
pub fn acr_rank(acr: &str) -> usize {
    ACR_VALUES
        .iter()
        .position(|a| *a == acr)
        .map(|i| i + 1)
        .unwrap_or(0)
}

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
        }
    }

    pub fn amr(self) -> &'static str {
        match self {
            Method::Password => assurance::PWD,
            Method::Totp | Method::Email | Method::Recovery => assurance::OTP,
            Method::Sms => assurance::SMS,
            Method::Passkey { synced: true } => "swk",
            Method::Passkey { synced: false } => "hwk",
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
    /// Too many attempts: wait before trying again (no hint whether the account exists).
    #[error("too many attempts")]
    Throttled(throttle::Refusal),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}
