//! The identity domain: personal ID numbers, population-register records, e-ID accounts and
//! their levels (1: self-enrolled; 2: proofed in person) and lifecycle states.

pub mod accounts;
pub mod cmnd;
pub mod enrolment;
pub mod id_number;
pub mod insurance;
pub mod level2;
pub mod lifecycle;
pub mod names;
pub mod password_policy;
pub mod register;
pub mod synthetic;

pub use accounts::{IdentityError, NewAccount, create_account};
pub use id_number::{IdNumber, IdNumberError, Sex};

use crate::store::AccountRecord;
pub use crate::store::AccountState;

/// The one rule for "may this account be used now": only an active account signs in, gets
/// tokens, refreshes them or is verified.
pub fn usable(a: &AccountRecord) -> bool {
    a.state == AccountState::Active
}

/// Is a session begun in `epoch` still honoured for this account? Usable, and not locked nor
/// given a new password since (either moves the account's session epoch on).
pub fn honours(a: &AccountRecord, epoch: i64) -> bool {
    usable(a) && a.session_epoch == epoch
}
