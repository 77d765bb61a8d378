//! The results of face matches against the register's portrait. Only the result is kept —
//! matched or not, the score, which matcher said so, and when — never the image.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{StoreResult, VerificationRecord};
use crate::clock::UnixTime;

/// One face match's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceCheck {
    pub matched: bool,
    /// The matcher's similarity score, 0 (different people) to 1.
    pub score: f64,
    /// Which matcher answered (the development matcher, or the external service's id).
    pub matcher: String,
    pub at: UnixTime,
}

#[async_trait]
pub trait FaceStore: Send + Sync {
    /// Keep the result of a face match for the account `sub` (every one, matched or not).
    async fn record_face_check(&self, sub: &str, check: &FaceCheck) -> StoreResult<()>;
    /// The account's latest face match result, if it ever had one.
    async fn latest_face_check(&self, sub: &str) -> StoreResult<Option<FaceCheck>>;
    /// What a KYC assertion cites, in one read: the latest passed in-person check of
    /// `id_number` (as `OfficerStore::latest_verification`) and the latest face match of the
    /// account `sub` (as [`FaceStore::latest_face_check`]).
    async fn identity_evidence(&self, id_number: &str, sub: &str) -> StoreResult<Evidence>;
}

/// The evidence behind an account's identity and its last biometric sign-in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    pub verification: Option<VerificationRecord>,
    pub face: Option<FaceCheck>,
}
