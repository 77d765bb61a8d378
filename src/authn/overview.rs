//! What the holder sees of their own account: the register record, the further factors, the
//! usage history and the sessions still honoured. Read in one place, so the account page
//! only renders it, and a store that cannot answer shows as "try again later" rather than as
//! an empty history or a missing passkey.

use super::{Session, session};
use crate::audit;
use crate::clock::UnixTime;
use crate::identity;
use crate::store::{
    AccountRecord, AuditRecord, ConsentReceipt, Durable, Ephemeral, PasskeyRecord, PersonRecord,
    StoreResult,
};

/// How many history lines the page shows.
pub const HISTORY_ROWS: i64 = 50;

pub struct Overview {
    pub person: PersonRecord,
    pub passkeys: Vec<PasskeyRecord>,
    pub totp: bool,
    pub recovery_left: i64,
    /// Newest first, within the retention period.
    pub history: Vec<AuditRecord>,
    /// Newest first, each with the digest that names it (never the cookie); only sessions
    /// still honoured (not from before a lock or a password change).
    pub sessions: Vec<(String, Session)>,
    /// The consents given, newest first: the services connected and their receipts.
    pub receipts: Vec<ConsentReceipt>,
}

pub async fn of(
    db: &dyn Durable,
    eph: &dyn Ephemeral,
    account: &AccountRecord,
    now: UnixTime,
) -> StoreResult<Overview> {
    let sub = account.sub.as_str();
    let (person, passkeys, totp, recovery_left, history, receipts) = tokio::try_join!(
        db.person(&account.id_number),
        db.passkeys_of(sub),
        db.totp(sub),
        db.recovery_codes_left(sub),
        audit::history(db, sub, now, HISTORY_ROWS),
        db.receipts_of(sub),
    )?;
    let sessions = session::of(eph, sub, now)
        .await?
        .into_iter()
        .filter(|(_, s)| identity::honours(account, s.epoch))
        .collect();
    Ok(Overview {
        person: person.unwrap_or_default(),
        passkeys,
        totp: totp.is_some(),
        recovery_left,
        history,
        sessions,
        receipts,
    })
}
