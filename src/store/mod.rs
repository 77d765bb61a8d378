//! Storage behind small traits shaped by their users.
//!
//! * Durable (system of record): [`sql::SqlStore`] over SQLite (embedded default) or PostgreSQL.
//! * Ephemeral (TTL state: sessions, codes, replay caches, counters): [`memory::MemoryStore`]
//!   in-process, or [`redis::RedisStore`] so several nodes share it.
//!
//! Single-use items are taken atomically ([`Ephemeral::take`], conditional `UPDATE`s) so a
//! replay across two nodes succeeds at most once. The same contract tests run on every backend.

pub mod face;
pub mod insurance;
pub mod memory;
pub mod model;
mod model_clients;
pub mod redis;
pub mod register;
pub mod sql;

use std::collections::HashMap;

use async_trait::async_trait;
pub use face::{Evidence, FaceCheck, FaceStore};
pub use insurance::{InsuranceCardRecord, InsuranceStore};
pub use model::*;
pub use model_clients::*;
pub use register::RegisterChecks;

use crate::clock::UnixTime;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached now; callers answer 503 / `temporarily_unavailable`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (e.g. an ID number that already has an account).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that does not parse: a bug or tampering, never the caller's fault.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// An audit entry that could not be written, whatever the store's reason: a reason to stop
    /// and try later (503), never to go on — a security record never fails open.
    pub fn history_unwritten(self) -> StoreError {
        match self {
            StoreError::Unavailable(_) => self,
            other => StoreError::Unavailable(format!("audit log not written: {other}")),
        }
    }
}

/// TTL key-value state. Keys are namespaced by the caller (`sess:…`, `code:…`).
#[async_trait]
pub trait Ephemeral: Send + Sync + 'static {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<()>;
    /// Set only when absent (replay caches); `true` when this call stored it.
    async fn put_new(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<bool>;
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Several keys in one step (one round trip to Redis): a value or `None` for each.
    async fn get_many(&self, keys: &[&str]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get(k).await?);
        }
        Ok(out)
    }
    /// Read and delete in one atomic step: at most one caller ever sees the value.
    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn delete(&self, key: &str) -> StoreResult<()>;
    /// Add `delta` (which may be negative) to a counter, creating it with `ttl_secs` when new;
    /// returns the new value. One atomic step, so parallel callers each see their own count:
    /// limits count *before* the work they limit.
    async fn incr_by(&self, key: &str, delta: i64, ttl_secs: u64) -> StoreResult<i64>;
    /// Increment a counter, creating it with `ttl_secs` when new.
    async fn incr(&self, key: &str, ttl_secs: u64) -> StoreResult<i64> {
        self.incr_by(key, 1, ttl_secs).await
    }
    /// Add `member` to the set at `key`; the set lives `ttl_secs` from this write.
    async fn set_add(&self, key: &str, member: &str, ttl_secs: u64) -> StoreResult<()>;
    async fn set_members(&self, key: &str) -> StoreResult<Vec<String>>;
    async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
}

#[async_trait]
pub trait PersonStore: Send + Sync {
    async fn upsert_person(&self, p: &PersonRecord) -> StoreResult<()>;
    async fn person(&self, id_number: &str) -> StoreResult<Option<PersonRecord>>;
    async fn add_alias(&self, a: &AliasRecord) -> StoreResult<()>;
    /// Everyone an alias points at (an old CMND may have been issued twice).
    async fn persons_by_alias(&self, kind: &str, value: &str) -> StoreResult<Vec<PersonRecord>>;
    /// For an import: which of `ids` are on record, each with its content hash (`None`
    /// when it was written before records were hashed).
    async fn person_hashes(&self, ids: &[String]) -> StoreResult<HashMap<String, Option<String>>>;
    /// For an import: write the records that were not on file when the batch was classified
    /// (`new`) and those on file that changed, with the batch's `history` entry, all or
    /// nothing; a record on file keeps its `created_at`. New records are inserted, not
    /// upserted, where that is cheaper — one written meanwhile (another import) is still
    /// updated, never refused. When the import writes `alone` (nothing else of this process
    /// writes meanwhile: the command line, not an upload to a running server) a store may hold
    /// several batches in one transaction (SQLite on a file, see `store/sql/bulk.rs`): what
    /// this wrote is then certain, and visible to other reads, once
    /// [`PersonStore::end_bulk_load`] has returned `Ok`.
    async fn upsert_people(
        &self,
        new: PeopleBatch<'_>,
        changed: PeopleBatch<'_>,
        history: Entry<'_>,
        alone: bool,
    ) -> StoreResult<()>;
    /// An import has finished writing (or failed): batches still held are committed, and what
    /// the store raised for bulk loads goes back to its day-to-day setting. `Err`: the batches
    /// since the last commit are not written (whole batches, with their history entries).
    async fn end_bulk_load(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait]
pub trait OfficerStore: Send + Sync {
    async fn insert_officer(&self, o: &OfficerRecord) -> StoreResult<()>;
    async fn officer(&self, officer_id: &str) -> StoreResult<Option<OfficerRecord>>;
    async fn insert_verification(&self, v: &VerificationRecord) -> StoreResult<()>;
    /// The latest in-person check that passed (chip authentic and biometrics matched).
    async fn latest_verification(&self, id_number: &str)
    -> StoreResult<Option<VerificationRecord>>;
}

/// Second factors: a TOTP secret (sealed) with the last accepted step, and recovery codes.
#[async_trait]
pub trait MfaStore: Send + Sync {
    async fn put_totp(&self, sub: &str, secret_sealed: &[u8], now: UnixTime) -> StoreResult<()>;
    /// The sealed secret and the last accepted time step.
    async fn totp(&self, sub: &str) -> StoreResult<Option<(Vec<u8>, i64)>>;
    /// Accept `step` only if it is later than any accepted before (RFC 6238 §5.2: a code is
    /// accepted once); atomic, so two nodes cannot both accept it.
    async fn use_totp_step(&self, sub: &str, step: i64) -> StoreResult<bool>;
    async fn delete_totp(&self, sub: &str) -> StoreResult<()>;
    /// Replace all recovery codes of the account with new digests.
    async fn replace_recovery_codes(
        &self,
        sub: &str,
        digests: &[Vec<u8>],
        now: UnixTime,
    ) -> StoreResult<()>;
    /// Spend one recovery code; `false` if unknown or already used.
    async fn use_recovery_code(&self, sub: &str, digest: &[u8], now: UnixTime)
    -> StoreResult<bool>;
    async fn recovery_codes_left(&self, sub: &str) -> StoreResult<i64>;
}

/// WebAuthn passkeys: the serialised credential (with its counter and backup flags).
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// The account's WebAuthn user handle (a UUID), set once.
    async fn webauthn_user(&self, sub: &str) -> StoreResult<Option<String>>;
    async fn set_webauthn_user(&self, sub: &str, handle: &str) -> StoreResult<()>;
    async fn sub_by_webauthn_user(&self, handle: &str) -> StoreResult<Option<String>>;
    async fn insert_passkey(&self, p: &PasskeyRecord) -> StoreResult<()>;
    async fn passkeys_of(&self, sub: &str) -> StoreResult<Vec<PasskeyRecord>>;
    async fn passkey(&self, cred_id: &[u8]) -> StoreResult<Option<PasskeyRecord>>;
    /// After a sign-in: the updated credential (counter), its backup state and the time.
    async fn touch_passkey(
        &self,
        cred_id: &[u8],
        passkey: &str,
        backup_state: bool,
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn rename_passkey(&self, sub: &str, cred_id: &[u8], name: &str) -> StoreResult<bool>;
    async fn delete_passkey(&self, sub: &str, cred_id: &[u8]) -> StoreResult<bool>;
}

/// Computes an entry's hash from the previous entry's hash (the chain rule lives in `audit`).
pub type ChainLink<'a> = &'a (dyn Fn(&[u8], &AuditRecord) -> Vec<u8> + Send + Sync);

/// An entry for the audit chain, and how it is linked to the one before it.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub record: &'a AuditRecord,
    pub link: ChainLink<'a>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append after the chain's head; the chain never forks, even with several nodes.
    async fn append_audit(&self, rec: &AuditRecord, link: ChainLink<'_>) -> StoreResult<i64>;
    /// Newest first.
    async fn audit_for_subject(
        &self,
        subject: &str,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Oldest first, from `since`.
    async fn audit_since(&self, since: UnixTime, limit: i64) -> StoreResult<Vec<AuditRecord>>;
    /// Drop entries older than the retention period; returns how many.
    async fn prune_audit(&self, before: UnixTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn insert_account(&self, a: &AccountRecord) -> StoreResult<()>;
    async fn account_by_sub(&self, sub: &str) -> StoreResult<Option<AccountRecord>>;
    async fn account_by_id_number(&self, id_number: &str) -> StoreResult<Option<AccountRecord>>;
    /// Replace the password; the session epoch moves on in the same statement, so every
    /// session begun with the old password ends on every node. Returns the new epoch.
    async fn set_password(&self, sub: &str, hash: &str, now: UnixTime) -> StoreResult<i64>;
    async fn set_level(&self, sub: &str, level: i64, now: UnixTime) -> StoreResult<()>;
    /// Change the lifecycle state. Locking also increments `session_epoch` so every node
    /// stops honouring the account's sessions at once.
    async fn set_state(
        &self,
        sub: &str,
        state: AccountState,
        reason: Option<&str>,
        note: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, c: &ClientRecord) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    async fn client_by_name(&self, name: &str) -> StoreResult<Option<ClientRecord>>;
    /// Every client, oldest first.
    async fn clients(&self) -> StoreResult<Vec<ClientRecord>>;
    /// Store a changed client (every column but `client_id`, `kind` and `created_at`) if the
    /// stored one is still the version read (`updated_at == expected_updated_at`): two admins
    /// changing one client cannot silently undo each other. `false` when it was not.
    async fn update_client(
        &self,
        c: &ClientRecord,
        expected_updated_at: UnixTime,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn insert_key(&self, k: &KeyRecord) -> StoreResult<()>;
    async fn keys(&self) -> StoreResult<Vec<KeyRecord>>;
    async fn set_key_schedule(
        &self,
        kid: &str,
        retire_at: Option<UnixTime>,
        remove_at: Option<UnixTime>,
    ) -> StoreResult<()>;
    /// Forget keys whose publication ended; returns how many.
    async fn delete_removed_keys(&self, now: UnixTime) -> StoreResult<u64>;
}

/// Outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshUse {
    /// The family's current token: now spent, the family one generation on. Carries the grant.
    Fresh(Box<GrantView>),
    /// An earlier generation of the client's family: someone replays a spent token. Carries
    /// the grant to revoke (RFC 9700 §4.14.2).
    Reused(String),
    Unknown,
}

/// Where a (genuine) refresh token sits: its family, which is its grant, and its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRef {
    pub grant_id: String,
    pub generation: i64,
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn insert_grant(&self, g: &GrantRecord) -> StoreResult<()>;
    async fn grant(&self, id: &str) -> StoreResult<Option<GrantRecord>>;
    /// The grant with its account and register record, in one round trip.
    async fn grant_view(&self, id: &str) -> StoreResult<Option<GrantView>>;
    async fn revoke_grant(&self, id: &str, now: UnixTime) -> StoreResult<()>;
    /// Spend the family's current token if `presented` is it, the grant is live and
    /// `client_id` owns it: the family moves one generation on, in one atomic statement, so
    /// two nodes cannot both spend it. An earlier generation of the client's family comes back
    /// `Reused`. A family's tokens live as long as its grant.
    async fn rotate_refresh(
        &self,
        presented: &RefreshRef,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<RefreshUse>;
    /// Revoke every live grant of a person (lock, death): their refresh and access tokens die.
    async fn revoke_grants_of(&self, sub: &str, now: UnixTime) -> StoreResult<u64>;
    /// The person's live grants (not revoked, not expired at `now`), narrowed to one session
    /// (`sid`) and/or one client when given.
    async fn live_grants_of(
        &self,
        sub: &str,
        sid: Option<&str>,
        client_id: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<Vec<GrantRecord>>;
    /// Revoke every live grant issued to a client (the client is disabled): its refresh
    /// tokens and the access tokens of those grants die.
    async fn revoke_grants_of_client(&self, client_id: &str, now: UnixTime) -> StoreResult<u64>;
}

/// Back-channel logouts waiting for delivery to relying parties, and how delivery went.
#[async_trait]
pub trait LogoutQueue: Send + Sync {
    /// Queue all of `items` or none (one transaction).
    async fn enqueue_logouts(&self, items: &[LogoutDelivery]) -> StoreResult<()>;
    /// Claim up to `limit` deliveries due at `now`: each counts one more attempt and is not
    /// due again before `lease_until`, and only `claim` may record its outcome. One atomic
    /// statement, so two nodes never claim the same delivery at once.
    async fn claim_logouts(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        claim: &str,
        limit: i64,
    ) -> StoreResult<Vec<LogoutDelivery>>;
    /// Record the outcome of a claimed attempt; `false` when the claim is no longer held
    /// (its lease ran out and another node took the delivery over).
    async fn finish_logout(
        &self,
        id: &str,
        claim: &str,
        outcome: &DeliveryOutcome,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// For admins: pending ones soonest first, failed ones latest first.
    async fn logouts(&self, filter: DeliveryFilter, limit: i64)
    -> StoreResult<Vec<LogoutDelivery>>;
    /// Forget deliveries that arrived before `before`; returns how many.
    async fn prune_delivered_logouts(&self, before: UnixTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn consent(&self, sub: &str, client_id: &str) -> StoreResult<Option<ConsentRecord>>;
    /// Keep the receipt and make `c` the standing consent, in one transaction.
    async fn put_consent(&self, c: &ConsentRecord, receipt: &ConsentReceipt) -> StoreResult<()>;
    /// The person's receipts, newest first.
    async fn receipts_of(&self, sub: &str) -> StoreResult<Vec<ConsentReceipt>>;
    /// Withdraw the person's consent for the client, in one transaction: the standing consent
    /// is gone, its receipts are marked withdrawn and the client's grants for the person
    /// (refresh and access tokens) are revoked. Returns how many grants were revoked.
    async fn withdraw_consent(&self, sub: &str, client_id: &str, now: UnixTime)
    -> StoreResult<u64>;
}

/// Bank transfers a person approved (RFC 9396 `vn_bank_transfer`), per person, bank and day.
#[async_trait]
pub trait TransferStore: Send + Sync {
    /// The total approved for the person at the bank on `day` (YYYYMMDD, Vietnam time).
    async fn transfers_total(&self, sub: &str, client_id: &str, day: i64) -> StoreResult<i64>;
    /// Record an approval unless it would take the day's total over `cap` (`None`: no cap):
    /// the total is read and the row written in one transaction that no other approval for
    /// the same person and bank interleaves with. `false` when the cap refused it.
    async fn approve_transfer(&self, t: &TransferApproval, cap: Option<i64>) -> StoreResult<bool>;
    /// Spend the approval: `true` the first time only.
    async fn use_transfer(&self, id: &str, now: UnixTime) -> StoreResult<bool>;
}

/// Everything the system of record offers; [`sql::SqlStore`] implements it for both engines.
#[async_trait]
pub trait Durable:
    PersonStore
    + AccountStore
    + ClientStore
    + KeyStore
    + GrantStore
    + ConsentStore
    + OfficerStore
    + AuditStore
    + MfaStore
    + PasskeyStore
    + LogoutQueue
    + TransferStore
    + RegisterChecks
    + FaceStore
    + InsuranceStore
    + Send
    + Sync
{
    async fn ping(&self) -> StoreResult<()>;
}

/// Typed helpers over [`Ephemeral`] for serde values.
pub mod typed {
    use serde::{Serialize, de::DeserializeOwned};

    use super::{Ephemeral, StoreError, StoreResult};

    pub async fn put<T: Serialize + Sync>(
        e: &dyn Ephemeral,
        key: &str,
        v: &T,
        ttl: u64,
    ) -> StoreResult<()> {
        let bytes = serde_json::to_vec(v).map_err(|e| StoreError::Other(e.to_string()))?;
        e.put(key, &bytes, ttl).await
    }

    fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> StoreResult<Option<T>> {
        bytes
            .map(|b| serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    pub async fn get<T: DeserializeOwned>(e: &dyn Ephemeral, key: &str) -> StoreResult<Option<T>> {
        decode(e.get(key).await?)
    }

    pub async fn take<T: DeserializeOwned>(e: &dyn Ephemeral, key: &str) -> StoreResult<Option<T>> {
        decode(e.take(key).await?)
    }
}
