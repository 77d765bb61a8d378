//! Level-2 verification: an officer checked the person in person (chip card authentic, face
//! and fingerprints matched) and records the *results* and evidence reference — never
//! biometric data. The account becomes Level 2 at once.

use serde_json::json;

use super::{IdentityError, STATE_ACTIVE};
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::store::{AccountRecord, Durable, VerificationRecord};

#[derive(Debug, Clone)]
pub struct InPersonCheck {
    pub officer_id: String,
    pub evidence_ref: String,
    pub chip_authentic: bool,
    pub biometric_match: bool,
}

pub const ROLE_OFFICER: &str = "officer";
pub const ROLE_ADMIN: &str = "admin";

pub async fn verify(
    db: &dyn Durable,
    id_number: &str,
    check: &InPersonCheck,
    ip: Option<&str>,
    now: UnixTime,
) -> Result<AccountRecord, IdentityError> {
    let invalid = |field, reason: &str| IdentityError::Invalid {
        field,
        reason: reason.into(),
    };
    let account = db
        .account_by_id_number(id_number)
        .await?
        .ok_or(IdentityError::NoAccount)?;
    if account.state != STATE_ACTIVE {
        return Err(invalid("state", "a locked account cannot be verified"));
    }
    let officer = db.officer(&check.officer_id).await?;
    if !officer.is_some_and(|o| o.roles.iter().any(|r| r == ROLE_OFFICER)) {
        return Err(invalid(
            "officer",
            "no officer with the officer role has this id",
        ));
    }
    if check.evidence_ref.trim().is_empty() {
        return Err(invalid("evidence", "an evidence reference is required"));
    }
    db.insert_verification(&VerificationRecord {
        id_number: account.id_number.clone(),
        officer_id: check.officer_id.clone(),
        evidence_ref: check.evidence_ref.clone(),
        chip_authentic: check.chip_authentic,
        biometric_match: check.biometric_match,
        verified_at: now,
    })
    .await?;
    if !check.chip_authentic || !check.biometric_match {
        return Err(invalid(
            "check",
            "the in-person check failed (chip or biometric); the account stays at its level",
        ));
    }
    db.set_level(&account.sub, 2, now).await?;
    let event = Event {
        actor: format!("officer:{}", check.officer_id),
        action: actions::LEVEL2,
        subject: Some(account.sub.clone()),
        detail: json!({"evidence_ref": check.evidence_ref, "chip_authentic": true, "biometric_match": true, "previous_level": account.level}),
        ip: ip.map(String::from),
        ..Default::default()
    };
    audit::record(db, event, now).await?;
    Ok(AccountRecord {
        level: 2,
        ..account
    })
}
