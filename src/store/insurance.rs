//! The health-insurance register's storage: card facts per person (keyed by ID number, the
//! legacy card code an alias), and the look-ups hospitals made, which are audit entries
//! (`insurance_lookup`) read back by hospital or by patient.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{AuditRecord, ChainLink, OfficerRecord, StoreResult};
use crate::clock::UnixTime;

/// The audit action of an eligibility look-up (migration 0016 indexes it by client).
pub const LOOKUP_ACTION: &str = "insurance_lookup";

/// One person's health-insurance card: facts only, never medical data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsuranceCardRecord {
    pub id_number: String,
    /// The legacy 15-character code `XX N PP DDDDDDDDDD`.
    pub card_code: String,
    /// `YYYY-MM-DD`
    pub valid_from: String,
    /// `YYYY-MM-DD`
    pub valid_to: String,
    /// The registered primary-care facility, `PP-NNN`.
    pub facility_code: String,
    pub facility_name: String,
    /// 1–5, the benefit level digit of the card code.
    pub benefit_level: i64,
    /// `YYYY-MM-DD`: when five years of continuous participation were reached.
    pub five_years_since: Option<String>,
    /// `active` | `expired` | `suspended`, as the insurance fund says.
    pub status: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Whose look-ups to list.
#[derive(Debug, Clone, Copy)]
pub enum Lookups<'a> {
    /// A hospital's (its client id).
    Client(&'a str),
    /// About one person (their ID number).
    Patient(&'a str),
}

/// Builds a look-up's audit entry from the card it found (or `None`).
pub type CardEntry = Box<dyn FnOnce(Option<&InsuranceCardRecord>) -> AuditRecord + Send>;

#[async_trait]
pub trait InsuranceStore: Send + Sync {
    async fn insurance_card(&self, id_number: &str) -> StoreResult<Option<InsuranceCardRecord>>;
    /// The card of `id_number`, and the audit entry `entry` makes of it appended to the chain
    /// (`link`) before either is returned: the entry's position and the card. Look-ups that
    /// wait together share one read of their cards and one write of their entries. Nothing
    /// is returned unless the entry was written.
    async fn audited_card(
        &self,
        id_number: &str,
        entry: CardEntry,
        link: ChainLink<'_>,
    ) -> StoreResult<(i64, Option<InsuranceCardRecord>)>;
    async fn insurance_card_by_code(&self, code: &str) -> StoreResult<Option<InsuranceCardRecord>>;
    /// For an import: which of `ids` hold a card, each with its code and content hash.
    async fn card_hashes(&self, ids: &[String]) -> StoreResult<HashMap<String, (String, String)>>;
    /// For an import: who holds each of `codes` — `(code, id_number)` for a card of this
    /// register or a `bhyt` alias of the population register.
    async fn card_code_holders(&self, codes: &[String]) -> StoreResult<Vec<(String, String)>>;
    /// For an import: write `cards` (each with its content hash; a card on file keeps its
    /// `created_at`) in one transaction.
    async fn upsert_cards(&self, cards: &[(InsuranceCardRecord, String)]) -> StoreResult<()>;
    /// Look-ups since `since`, newest first.
    async fn insurance_lookups(
        &self,
        whose: Lookups<'_>,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// A hospital's look-ups per hour since `since`: `(hour start, count)`, oldest first.
    async fn insurance_lookup_hours(
        &self,
        client_id: &str,
        since: UnixTime,
    ) -> StoreResult<Vec<(UnixTime, i64)>>;
    /// Officers on record with this personal ID number.
    async fn officers_with_id_number(&self, id_number: &str) -> StoreResult<Vec<OfficerRecord>>;
}
