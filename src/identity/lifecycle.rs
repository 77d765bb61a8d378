//! Account lifecycle: active ⇄ locked, with a reason from the law's list and a written note.
//! A lock takes effect on every node at once: the account's grants are revoked (refresh and
//! access tokens die) and sessions begun before the lock are no longer honoured; relying
//! parties that asked for back-channel logout are told (queued first, so a lock whose notices
//! cannot be queued is not made).

use serde_json::json;

use super::{AccountState, IdentityError};
use crate::audit::{self, Event, actions};
use crate::backchannel;
use crate::clock::UnixTime;
use crate::store::{AccountRecord, Durable, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    HolderRequest,
    TermsViolation,
    CardRevoked,
    Deceased,
    AuthorityRequest,
    CardExpired,
}

pub const REASONS: [LockReason; 6] = [
    LockReason::HolderRequest,
    LockReason::TermsViolation,
    LockReason::CardRevoked,
    LockReason::Deceased,
    LockReason::AuthorityRequest,
    LockReason::CardExpired,
];

impl LockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LockReason::HolderRequest => "holder_request",
            LockReason::TermsViolation => "terms_violation",
            LockReason::CardRevoked => "card_revoked",
            LockReason::Deceased => "deceased",
            LockReason::AuthorityRequest => "authority_request",
            LockReason::CardExpired => "card_expired",
        }
    }

    pub fn parse(s: &str) -> Result<LockReason, IdentityError> {
        REASONS
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| IdentityError::Invalid {
                field: "reason",
                reason: format!(
                    "must be one of {}",
                    REASONS
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

/// Who acts, for the audit log: `sub` of the holder, `officer:ID`, `cli:NAME`, `register`;
/// with the client they came through (an officer's admin client) and from where.
pub struct Actor<'a> {
    pub id: &'a str,
    pub client_id: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub async fn account_by_id_number(
    db: &dyn Durable,
    id_number: &str,
) -> Result<AccountRecord, IdentityError> {
    db.account_by_id_number(id_number)
        .await?
        .ok_or(IdentityError::NoAccount)
}

pub async fn lock(
    db: &dyn Durable,
    account: &AccountRecord,
    reason: LockReason,
    note: Option<&str>,
    actor: &Actor<'_>,
    now: UnixTime,
) -> Result<(), IdentityError> {
    // Before the grants are revoked: they say which relying parties to tell.
    let told = backchannel::for_account(db, &account.sub, now).await?;
    let locked = AccountState::Locked;
    db.set_state(&account.sub, locked, Some(reason.as_str()), note, now)
        .await?;
    let revoked = db.revoke_grants_of(&account.sub, now).await?;
    let event = Event {
        actor: actor.id.to_string(),
        action: actions::LOCKED,
        subject: Some(account.sub.to_string()),
        detail: json!({"reason": reason.as_str(), "note": note, "grants_revoked": revoked, "backchannel_logouts": told, "previous_state": account.state}),
        ip: actor.ip.map(String::from),
        client_id: actor.client_id.map(String::from),
    };
    audit::record(db, event, now).await?;
    Ok(())
}

/// Unlocking needs a written decision (DOMAIN.md: an authority unlock is a workflow).
pub async fn unlock(
    db: &dyn Durable,
    account: &AccountRecord,
    note: &str,
    actor: &Actor<'_>,
    now: UnixTime,
) -> Result<(), IdentityError> {
    if note.trim().is_empty() {
        return Err(IdentityError::Invalid {
            field: "note",
            reason: "a written reason is required".into(),
        });
    }
    if account.state != AccountState::Locked {
        return Err(IdentityError::Invalid {
            field: "state",
            reason: "the account is not locked".into(),
        });
    }
    if account.lock_reason.as_deref() == Some(LockReason::Deceased.as_str()) {
        return Err(IdentityError::Invalid {
            field: "reason",
            reason: "an account locked because the register records a death cannot be unlocked"
                .into(),
        });
    }
    db.set_state(&account.sub, AccountState::Active, None, Some(note), now)
        .await?;
    let event = Event {
        actor: actor.id.to_string(),
        action: actions::UNLOCKED,
        subject: Some(account.sub.to_string()),
        detail: json!({"note": note, "previous_reason": account.lock_reason}),
        ip: actor.ip.map(String::from),
        client_id: actor.client_id.map(String::from),
    };
    audit::record(db, event, now).await?;
    Ok(())
}

/// A register update (death, card expiry) locks the account, if there is one and it is not
/// already locked. Returns whether it locked.
pub async fn lock_from_register(
    db: &dyn Durable,
    id_number: &str,
    reason: LockReason,
    now: UnixTime,
) -> Result<bool, StoreError> {
    let Some(account) = db.account_by_id_number(id_number).await? else {
        return Ok(false);
    };
    if account.state == AccountState::Locked {
        return Ok(false);
    }
    let actor = Actor {
        id: "register",
        client_id: None,
        ip: None,
    };
    match lock(
        db,
        &account,
        reason,
        Some("population register update"),
        &actor,
        now,
    )
    .await
    {
        Ok(()) => Ok(true),
        Err(IdentityError::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Other(other.to_string())),
    }
}
