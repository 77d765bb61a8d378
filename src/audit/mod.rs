//! The usage and administration log: who did what to which account, when, from where, and
//! what was disclosed to whom. Append-only and hash-chained, so a removed or altered entry
//! shows; kept five years (Decree 69/2024 practice), visible to the person it is about.

use ring::digest::{Context, SHA256};
use serde_json::Value;

use crate::clock::UnixTime;
use crate::store::{AuditRecord, AuditStore, StoreError, StoreResult};

/// Five years of 365.25 days.
pub const RETENTION_SECS: i64 = 5 * 36525 * 864;

pub mod actions {
    pub const ENROLLED: &str = "enrolled";
    pub const ACCOUNT_CREATED: &str = "account_created";
    pub const SIGNIN: &str = "signin";
    pub const SIGNIN_FAILED: &str = "signin_failed";
    pub const CONSENT: &str = "consent";
    pub const TOKEN: &str = "token";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const LOCKED: &str = "locked";
    pub const UNLOCKED: &str = "unlocked";
    pub const LEVEL2: &str = "level2";
    pub const REGISTER_UPDATED: &str = "register_updated";
    pub const THROTTLED: &str = "throttled";
    pub const STEPUP: &str = "stepup";
    pub const TOTP_ENROLLED: &str = "totp_enrolled";
    pub const TOTP_REMOVED: &str = "totp_removed";
    pub const RECOVERY_CODES: &str = "recovery_codes";
    pub const PASSKEY_ADDED: &str = "passkey_added";
    pub const PASSKEY_REMOVED: &str = "passkey_removed";
    /// The person confirmed it is them before an account change.
    pub const REAUTHENTICATED: &str = "reauthenticated";
    /// A relying party registered (with its policy, and any override's reason).
    pub const CLIENT_REGISTERED: &str = "client_registered";
    /// The person withdrew their consent for a service.
    pub const CONSENT_WITHDRAWN: &str = "consent_withdrawn";
    /// Claims released to a service (names, never values), and the consent they rest on.
    pub const DISCLOSURE: &str = "disclosure";
    /// A back-channel logout was given up after its last allowed attempt: the relying party
    /// may still hold a session for the person.
    pub const BACKCHANNEL_LOGOUT_FAILED: &str = "backchannel_logout_failed";
    /// A client's registration changed (each field, old and new; any override's reason).
    pub const CLIENT_UPDATED: &str = "client_updated";
    /// A client got a new secret (never the secret itself).
    pub const CLIENT_SECRET_ROTATED: &str = "client_secret_rotated";
    /// A client was disabled (its grants revoked) or enabled again.
    pub const CLIENT_DISABLED: &str = "client_disabled";
    pub const CLIENT_ENABLED: &str = "client_enabled";
    /// A batch of the health-insurance register was written (lines, counts).
    pub const INSURANCE_REGISTER_UPDATED: &str = "insurance_register_updated";
    /// A hospital looked up a patient's insurance eligibility (operator, purpose, outcome).
    pub const INSURANCE_LOOKUP: &str = crate::store::insurance::LOOKUP_ACTION;
}

/// What happened, before it gets its place in the chain.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// `sub` of a person, `officer:ID`, `client:ID`, `register`, `cli`, `anonymous`, or
    /// `eidp` (the provider itself, e.g. giving up a back-channel logout).
    pub actor: String,
    pub action: &'static str,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub detail: Value,
    pub ip: Option<String>,
}

fn field(ctx: &mut Context, bytes: &[u8]) {
    ctx.update(&(bytes.len() as u64).to_be_bytes());
    ctx.update(bytes);
}

/// hash = SHA-256(prev ‖ each field length-prefixed), so no two entries can collide by
/// shifting bytes between fields.
pub fn link(prev: &[u8], r: &AuditRecord) -> Vec<u8> {
    let mut ctx = Context::new(&SHA256);
    field(&mut ctx, prev);
    field(&mut ctx, &r.at.to_be_bytes());
    for s in [
        Some(&r.actor),
        Some(&r.action),
        r.subject.as_ref(),
        r.client_id.as_ref(),
        Some(&r.detail),
        r.ip.as_ref(),
    ] {
        field(&mut ctx, s.map(|s| s.as_bytes()).unwrap_or(b"\0none"));
    }
    ctx.finish().as_ref().to_vec()
}

pub async fn record(db: &dyn AuditStore, e: Event, now: UnixTime) -> StoreResult<i64> {
    let rec = entry(e, now);
    db.append_audit(&rec, &link)
        .await
        .map_err(StoreError::history_unwritten)
}

/// The entry `e` becomes, before the chain gives it its position and hash (for a store that
/// writes it with something else, e.g. an import's batch; [`link`] links it).
pub fn entry(e: Event, now: UnixTime) -> AuditRecord {
    AuditRecord {
        seq: 0,
        at: now,
        actor: e.actor,
        action: e.action.to_string(),
        subject: e.subject,
        client_id: e.client_id,
        detail: if e.detail.is_null() {
            "{}".into()
        } else {
            e.detail.to_string()
        },
        ip: e.ip,
        prev_hash: Vec::new(),
        hash: Vec::new(),
    }
}

/// Check a contiguous run of entries (oldest first): each hash is right and points at the one
/// before. Returns the `seq` of the first bad entry.
pub fn verify_chain(entries: &[AuditRecord]) -> Result<(), i64> {
    for (i, e) in entries.iter().enumerate() {
        if link(&e.prev_hash, e) != e.hash {
            return Err(e.seq);
        }
        if i > 0 && entries[i - 1].hash != e.prev_hash {
            return Err(e.seq);
        }
    }
    Ok(())
}

/// The person's own history for the retention period, newest first.
pub async fn history(
    db: &dyn AuditStore,
    sub: &str,
    now: UnixTime,
    limit: i64,
) -> StoreResult<Vec<AuditRecord>> {
    db.audit_for_subject(sub, now - RETENTION_SECS, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: i64, prev: Vec<u8>, action: &str) -> AuditRecord {
        let mut r = AuditRecord {
            seq,
            at: 100 + seq,
            actor: "cli".into(),
            action: action.into(),
            subject: Some("s".into()),
            client_id: None,
            detail: "{}".into(),
            ip: None,
            prev_hash: prev,
            hash: Vec::new(),
        };
        r.hash = link(&r.prev_hash, &r);
        r
    }

    #[test]
    fn chain_detects_edits_and_gaps() {
        let a = rec(1, vec![0; 32], "locked");
        let b = rec(2, a.hash.clone(), "unlocked");
        let c = rec(3, b.hash.clone(), "locked");
        assert_eq!(verify_chain(&[a.clone(), b.clone(), c.clone()]), Ok(()));
        let mut edited = b.clone();
        edited.action = "level2".into();
        assert_eq!(verify_chain(&[a.clone(), edited, c.clone()]), Err(2));
        assert_eq!(
            verify_chain(&[a, c]),
            Err(3),
            "a removed entry breaks the chain"
        );
    }
}
