//! The identity domain: personal ID numbers, population-register records, e-ID accounts and
//! their levels (1: self-enrolled; 2: proofed in person) and lifecycle states.

pub mod accounts;
pub mod enrolment;
pub mod id_number;
pub mod level2;
pub mod lifecycle;
pub mod names;
pub mod password_policy;
pub mod register;
pub mod synthetic;

pub use accounts::{IdentityError, NewAccount, create_account};
pub use id_number::{IdNumber, IdNumberError, Sex};

use crate::store::AccountRecord;

/// Where an account is in its lifecycle (DOMAIN.md): `pending` (reserved), `active`, `locked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Pending,
    Active,
    Locked,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Active => "active",
            AccountState::Locked => "locked",
        }
    }

    /// The state a record holds; a value this version does not know counts as locked (the
    /// safe side).
    pub fn of(a: &AccountRecord) -> AccountState {
        match a.state.as_str() {
            "active" => AccountState::Active,
            "pending" => AccountState::Pending,
            _ => AccountState::Locked,
        }
    }
}

/// The one rule for "may this account be used now": only an active account signs in, gets
/// tokens, refreshes them or is verified.
pub fn usable(a: &AccountRecord) -> bool {
    AccountState::of(a) == AccountState::Active
}

/// Is a session begun in `epoch` still honoured for this account? Usable, and not locked nor
/// given a new password since (either moves the account's session epoch on).
pub fn honours(a: &AccountRecord, epoch: i64) -> bool {
    usable(a) && a.session_epoch == epoch
}
