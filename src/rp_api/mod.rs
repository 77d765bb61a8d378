//! Relying-party APIs beyond OpenID Connect, on top of identity, consent and audit: the
//! banks' KYC identity assertion (`kyc`), the hospitals' health-insurance eligibility look-up
//! (`insurance`, counted against the hospital's per-minute `allowance`) and what admins see
//! of those look-ups (`lookups`). Each rests on the person's consent or the client's scope and
//! is audited before it answers. Framework-free: the HTTP side maps outcomes to statuses.

pub mod allowance;
pub mod insurance;
pub mod kyc;
pub mod lookups;
pub mod request;

pub use request::{EligibilityRequest, FieldProblem, Operator, PatientRef, Purpose};
