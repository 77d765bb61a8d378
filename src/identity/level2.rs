//! Level-2 verification: an officer checked the person in person (chip card authentic, face
//! and fingerprints matched) and records the *results* and evidence reference — never
//! biometric data. The account becomes Level 2 at once.
//!
//! The acting officer is who the caller authenticated as ([`Officer`]: from the admin
//! client bound to one officer, or named to the CLI on the server itself), never a field of
//! the request; the audit entry names the officer and the client. An officer cannot verify
//! their own account.

use serde_json::json;

use super::{IdentityError, usable};
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::store::{AccountRecord, Durable, OfficerRecord, VerificationRecord};

#[derive(Debug, Clone)]
pub struct InPersonCheck {
    pub evidence_ref: String,
    pub chip_authentic: bool,
    pub biometric_match: bool,
}

pub const ROLE_OFFICER: &str = "officer";
pub const ROLE_ADMIN: &str = "admin";

/// The officer acting, as authenticated, with the client they came through and from where.
pub struct Officer<'a> {
    pub record: &'a OfficerRecord,
    pub client_id: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl Officer<'_> {
    /// The audit log's actor.
    pub fn actor(&self) -> String {
        format!("officer:{}", self.record.officer_id)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.record.roles.iter().any(|r| r == role)
    }

    /// An officer never acts on their own account; one whose ID number is unknown cannot
    /// show that they are not.
    pub fn check_not_own(&self, account: &AccountRecord) -> Result<(), IdentityError> {
        match self.record.id_number.as_deref() {
            Some(own) if own != account.id_number => Ok(()),
            Some(_) => Err(IdentityError::Forbidden(
                "an officer cannot act on their own account".into(),
            )),
            None => Err(IdentityError::Forbidden(format!(
                "officer {} has no ID number on record",
                self.record.officer_id
            ))),
        }
    }
}

/// The officer with this id, if they hold `role`.
pub async fn officer_with_role(
    db: &dyn Durable,
    officer_id: &str,
    role: &str,
) -> Result<OfficerRecord, IdentityError> {
    match db.officer(officer_id).await? {
        Some(o) if o.roles.iter().any(|r| r == role) => Ok(o),
        _ => Err(IdentityError::Forbidden(format!(
            "no officer {officer_id} with the {role} role"
        ))),
    }
}

pub async fn verify(
    db: &dyn Durable,
    id_number: &str,
    check: &InPersonCheck,
    by: &Officer<'_>,
    now: UnixTime,
) -> Result<AccountRecord, IdentityError> {
    let invalid = |field, reason: &str| IdentityError::Invalid {
        field,
        reason: reason.into(),
    };
    if !by.has_role(ROLE_OFFICER) {
        return Err(IdentityError::Forbidden(format!(
            "officer {} lacks the {ROLE_OFFICER} role",
            by.record.officer_id
        )));
    }
    let account = db
        .account_by_id_number(id_number)
        .await?
        .ok_or(IdentityError::NoAccount)?;
    by.check_not_own(&account)?;
    if !usable(&account) {
        return Err(invalid("state", "a locked account cannot be verified"));
    }
    if check.evidence_ref.trim().is_empty() {
        return Err(invalid("evidence", "an evidence reference is required"));
    }
    db.insert_verification(&VerificationRecord {
        id_number: account.id_number.clone(),
        officer_id: by.record.officer_id.clone(),
        unit: by.record.unit.clone(),
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
        actor: by.actor(),
        action: actions::LEVEL2,
        subject: Some(account.sub.to_string()),
        client_id: by.client_id.map(String::from),
        detail: json!({"evidence_ref": check.evidence_ref, "chip_authentic": true, "biometric_match": true, "previous_level": account.level}),
        ip: by.ip.map(String::from),
    };
    audit::record(db, event, now).await?;
    Ok(AccountRecord {
        level: 2,
        ..account
    })
}
