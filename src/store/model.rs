//! Records as the stores hold them. Identifiers and states with rules are typed here already
//! (`Subject`, `ClientId`, `AccountState`), so no layer above handles them as bare strings.

use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};

/// A population-register record, keyed by the personal ID number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonRecord {
    pub id_number: String,
    /// Unicode NFC, as registered.
    pub full_name: String,
    /// `YYYY-MM-DD`
    pub birth_date: String,
    /// `male` | `female`
    pub sex: String,
    /// ISO 3166-1 alpha-2
    pub nationality: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Permanent residence, as one line.
    pub residence: Option<String>,
    /// Province code of birth registration.
    pub birth_place: Option<String>,
    pub household_id: Option<String>,
    /// `head` | `spouse` | `child` | `parent` | `other`
    pub household_relation: Option<String>,
    /// `YYYY-MM-DD`; the register's card expiry locks the account automatically.
    pub card_expires_on: Option<String>,
    /// `YYYY-MM-DD`; a death in the register locks the account automatically.
    pub deceased_on: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Historical identifiers that point at a person: never keys, and not always unique.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    /// `cmnd` (old 9- or 12-digit ID card) | `bhyt` (15-character health-insurance code)
    pub kind: String,
    pub value: String,
    pub id_number: String,
}

/// Register records to write, each with its content hash, and their aliases.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeopleBatch<'a> {
    pub people: &'a [(PersonRecord, String)],
    pub aliases: &'a [AliasRecord],
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfficerRecord {
    pub officer_id: String,
    pub name: String,
    /// `officer` (may verify in person) | `admin` (may lock and unlock)
    pub roles: Vec<String>,
    /// The officer's own personal ID number: an officer never acts on their own account.
    pub id_number: Option<String>,
    /// The unit the officer works for (a police ward office, a one-stop shop): named in the
    /// identity assurance a relying party receives, where the officer's own data never is.
    pub unit: Option<String>,
    pub created_at: UnixTime,
}

/// The facts of an in-person check: results only, never biometric data.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationRecord {
    pub id_number: String,
    pub officer_id: String,
    /// The officer's unit when the check was made.
    pub unit: Option<String>,
    pub evidence_ref: String,
    pub chip_authentic: bool,
    pub biometric_match: bool,
    pub verified_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRecord {
    pub cred_id: Vec<u8>,
    pub sub: Subject,
    pub name: String,
    /// webauthn-rs `Passkey`, JSON.
    pub passkey: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// One entry of the append-only, hash-chained audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: UnixTime,
    pub actor: String,
    pub action: String,
    /// The account's `sub` (or the ID number for register events).
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// JSON object
    pub detail: String,
    pub ip: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Where an account is in its lifecycle (DOMAIN.md): reserved, in use, or locked. The rules
/// (who may use it, what ends its sessions) are `identity`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    Pending,
    Active,
    Locked,
}

impl std::fmt::Display for AccountState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Active => "active",
            AccountState::Locked => "locked",
        }
    }

    /// The state a row holds; a value this version does not know counts as locked (the safe
    /// side).
    pub fn from_stored(v: &str) -> AccountState {
        match v {
            "active" => AccountState::Active,
            "pending" => AccountState::Pending,
            _ => AccountState::Locked,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// The stable, opaque `sub` claim.
    pub sub: Subject,
    pub id_number: String,
    pub password_hash: String,
    pub level: i64,
    pub state: AccountState,
    pub lock_reason: Option<String>,
    /// The written reason given with a lock or unlock.
    pub lock_note: Option<String>,
    /// Sessions carry the epoch they began in; a lock increments it, ending them all.
    pub session_epoch: i64,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[cfg(test)]
impl AccountRecord {
    /// An active account at `level`, for unit tests.
    pub(crate) fn sample(level: i64) -> AccountRecord {
        AccountRecord {
            sub: Subject::parse("u").unwrap_or_else(|_| unreachable!()),
            id_number: "079190000001".into(),
            password_hash: String::new(),
            level,
            state: AccountState::Active,
            lock_reason: None,
            lock_note: None,
            session_epoch: 0,
            created_at: 0,
            updated_at: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub kid: String,
    pub alg: String,
    /// Private key (PKCS#8 or PKCS#1 DER) sealed with the key-encryption key.
    pub private_sealed: Vec<u8>,
    pub public_jwk: String,
    pub created_at: UnixTime,
    /// Published from creation; signs from `activate_at`.
    pub activate_at: UnixTime,
    /// Stops signing (a successor took over); still published until `remove_at`.
    pub retire_at: Option<UnixTime>,
    pub remove_at: Option<UnixTime>,
}

/// A grant with the account and register record behind it, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantView {
    pub grant: GrantRecord,
    pub account: Option<AccountRecord>,
    pub person: Option<PersonRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub id: String,
    pub client_id: ClientId,
    pub sub: Option<Subject>,
    /// The `sub` the client received for this grant (pairwise or public); `None` on grants
    /// from before pairwise identifiers, which were public.
    pub rp_sub: Option<Subject>,
    pub scope: String,
    pub auth_time: Option<UnixTime>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub sid: Option<String>,
    /// The OIDC `claims` request parameter (JSON), kept for UserInfo.
    pub claims: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    /// The generation of the grant's live refresh token; `None` when it has none. A grant is
    /// one refresh-token family: each use moves it one generation on.
    pub refresh_generation: Option<i64>,
    /// When that token was issued.
    pub refresh_issued_at: Option<UnixTime>,
    /// The consent the grant's disclosures rest on; `None` without a person, or for grants
    /// from before per-claim consent (every claim of the scopes).
    pub consented: Option<Consented>,
    /// DPoP (RFC 9449): the thumbprint of the key the grant's tokens are bound to.
    pub dpop_jkt: Option<String>,
    /// Rich authorization requests (RFC 9396) approved with the grant, as JSON.
    pub authorization_details: Option<String>,
}

/// A person's standing consent for one client.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub sub: Subject,
    pub client_id: ClientId,
    pub scopes: Vec<String>,
    pub granted_at: UnixTime,
    /// The claims let through; `None` for a consent from before per-claim consent, which
    /// covered every claim of its scopes.
    pub claims: Option<Vec<String>>,
    /// Every claim the person was asked about, let through or not.
    pub asked: Vec<String>,
    /// The purpose and its text version consented to (`id@version`).
    pub purpose: Option<String>,
    pub receipt_id: Option<String>,
}

/// What a consent page showed, kept as the receipt's evidence (values as shown: masked where
/// sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ConsentShown {
    pub client_id: String,
    pub client_name: String,
    pub client_kind: String,
    pub purpose_id: Option<String>,
    pub purpose_version: i64,
    pub purpose_text: String,
    /// The version of the page's own wording (`consent::PAGE_VERSION`).
    pub page_version: String,
    pub lang: String,
    pub items: Vec<ShownItem>,
    /// A bank transfer to approve (RFC 9396 `vn_bank_transfer`), as the page showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<ShownTransfer>,
}

/// A transfer on the consent page: the amount in digits and in words, and who gets it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ShownTransfer {
    pub amount: i64,
    pub amount_digits: String,
    pub amount_words: String,
    pub currency: String,
    pub creditor_name: String,
    pub creditor_account: String,
    pub creditor_bank: String,
    pub debtor_account: String,
    pub reference: Option<String>,
}

/// One line of the consent page: a claim (with its companions, e.g. `email_verified`), its
/// value as shown, whether it is sensitive and whether the purpose requires it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ShownItem {
    pub claim: String,
    pub label: String,
    pub value: String,
    pub sensitive: bool,
    pub required: bool,
}

/// The evidence of one consent given.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentReceipt {
    pub id: String,
    pub sub: Subject,
    pub client_id: ClientId,
    pub shown: ConsentShown,
    /// SHA-256 (hex) of the canonical JSON of `shown`.
    pub shown_hash: String,
    /// The claims let through (companions included).
    pub granted: Vec<String>,
    pub given_at: UnixTime,
    pub withdrawn_at: Option<UnixTime>,
}

/// The consent a grant's disclosures rest on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Consented {
    pub receipt: String,
    pub claims: Vec<String>,
}

/// One back-channel logout for a relying party (OpenID Connect Back-Channel Logout 1.0): who
/// is told, about whom, and how delivery has gone. The logout token is signed afresh at each
/// attempt from these facts (`oidc::backchannel::token`), so none rests in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoutDelivery {
    pub id: String,
    pub client_id: ClientId,
    /// The client's `backchannel_logout_uri` when the logout was queued.
    pub uri: String,
    /// The `sub` the client knows the person by (pairwise or public).
    pub sub: Subject,
    /// The account's own `sub` (for the audit log).
    pub account_sub: Subject,
    pub sid: Option<String>,
    /// Attempts begun (a claim counts as one, even if its node died mid-way).
    pub attempts: i64,
    pub next_attempt_at: UnixTime,
    pub last_error: Option<String>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<i64>,
    pub delivered_at: Option<UnixTime>,
    /// When delivery was given up after the last allowed attempt.
    pub failed_at: Option<UnixTime>,
    pub created_at: UnixTime,
}

/// How one delivery attempt ended, as the worker records it.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Delivered {
        status: i64,
    },
    /// Try again at `at`.
    Retry {
        at: UnixTime,
        status: Option<i64>,
        error: String,
    },
    /// No more attempts.
    GaveUp {
        status: Option<i64>,
        error: String,
    },
}

/// Which deliveries an admin listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFilter {
    /// Still to be delivered, or given up: everything that did not arrive.
    Undelivered,
    /// Still to be delivered (waiting for an attempt, or being attempted).
    Pending,
    /// Given up after the last allowed attempt.
    Failed,
}

/// One approved bank transfer (`store::TransferStore`).
#[derive(Debug, Clone, PartialEq)]
pub struct TransferApproval {
    pub id: String,
    pub sub: String,
    pub client_id: String,
    /// YYYYMMDD in Vietnam time.
    pub day: i64,
    pub amount: i64,
    pub grant_id: Option<String>,
    pub approved_at: UnixTime,
}
