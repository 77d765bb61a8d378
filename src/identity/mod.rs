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

pub const STATE_ACTIVE: &str = "active";
pub const STATE_LOCKED: &str = "locked";
