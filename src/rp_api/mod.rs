//! Relying-party APIs on top of identity, consent and audit: the hospitals' health-insurance
//! eligibility look-up (`insurance`), and what admins see of those look-ups (`lookups`).
//! Framework-free: the HTTP side checks the access token and maps outcomes to statuses.

pub mod insurance;
pub mod lookups;
pub mod request;

pub use request::{EligibilityRequest, FieldProblem, Operator, PatientRef, Purpose};
