//! Authentication: who is at the browser and how strongly they proved it.
//!
//! Owns the sign-in methods (password today), the browser session, and the mapping of methods to
//! `acr` (Decree 69/2024 Art. 20 authentication levels) and `amr` (RFC 8176).

pub mod assurance;
pub mod factors;
pub mod hasher;
pub mod password;
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

#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// One answer for unknown ID number and wrong password: do not reveal which.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account locked")]
    Locked,
    /// Too many attempts: wait before trying again (no hint whether the account exists).
    #[error("too many attempts")]
    Throttled,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}
