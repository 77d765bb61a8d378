//! Changes to how an account signs in (factors, password, recovery codes): each is recorded in
//! the audit log **before** it is made — a change the log cannot hold is not made — and the
//! holder is told of it by SMS and e-mail at the addresses on record, so a change they did not
//! make does not go unnoticed.

use serde_json::{Value, json};

use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::notify::MessageSender;
use crate::store::{AccountRecord, Durable, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    PasswordChanged,
    TotpAdded,
    TotpRemoved,
    RecoveryCodesMade,
    PasskeyAdded(String),
    PasskeyRemoved(String),
}

impl Change {
    fn action(&self) -> &'static str {
        match self {
            Change::PasswordChanged => actions::PASSWORD_CHANGED,
            Change::TotpAdded => actions::TOTP_ENROLLED,
            Change::TotpRemoved => actions::TOTP_REMOVED,
            Change::RecoveryCodesMade => actions::RECOVERY_CODES,
            Change::PasskeyAdded(_) => actions::PASSKEY_ADDED,
            Change::PasskeyRemoved(_) => actions::PASSKEY_REMOVED,
        }
    }

    fn detail(&self) -> Value {
        match self {
            Change::PasskeyAdded(name) | Change::PasskeyRemoved(name) => json!({"name": name}),
            _ => json!({}),
        }
    }

    /// The notice, in Vietnamese (without diacritics, as SMS gateways prefer) and English.
    fn notice(&self) -> &'static str {
        match self {
            Change::PasswordChanged => "mat khau da duoc doi / your password was changed",
            Change::TotpAdded => "da them ung dung xac thuc / an authenticator app was added",
            Change::TotpRemoved => "da xoa ung dung xac thuc / the authenticator app was removed",
            Change::RecoveryCodesMade => "da tao ma khoi phuc moi / new recovery codes were made",
            Change::PasskeyAdded(_) => "da them khoa truy cap / a passkey was added",
            Change::PasskeyRemoved(_) => "da xoa khoa truy cap / a passkey was removed",
        }
    }
}

/// Where notices go: the SMS and e-mail senders of the one-time codes.
pub struct Notifier<'a> {
    pub sms: &'a dyn MessageSender,
    pub email: &'a dyn MessageSender,
}

/// Who made the change, from where.
pub struct Origin<'a> {
    pub ip: &'a str,
    pub now: UnixTime,
}

/// Audit `change`, make it with `make`, then notify the holder. When the audit entry cannot
/// be written nothing is made; a notice that cannot be delivered is logged (the change stands,
/// recorded).
pub async fn apply<T, F>(
    db: &dyn Durable,
    notifier: &Notifier<'_>,
    account: &AccountRecord,
    change: Change,
    origin: &Origin<'_>,
    make: F,
) -> Result<T, StoreError>
where
    F: std::future::Future<Output = Result<T, StoreError>>,
{
    let event = Event {
        actor: account.sub.to_string(),
        action: change.action(),
        subject: Some(account.sub.to_string()),
        detail: change.detail(),
        ip: Some(origin.ip.to_string()),
        ..Default::default()
    };
    audit::record(db, event, origin.now).await?;
    let made = make.await?;
    notify(db, notifier, account, &change).await;
    Ok(made)
}

async fn notify(db: &dyn Durable, n: &Notifier<'_>, account: &AccountRecord, change: &Change) {
    let person = match db.person(&account.id_number).await {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "change notice: register record unreadable");
            return;
        }
    };
    let text = format!(
        "eidp: {}. Neu khong phai ban, hay khoa tai khoan ngay. / If this was not you, lock your account now.",
        change.notice()
    );
    for (to, sender, channel) in [
        (person.phone, n.sms, "sms"),
        (person.email, n.email, "email"),
    ] {
        if let Some(to) = to
            && let Err(e) = sender.send(&to, &text).await
        {
            tracing::warn!(error = %e, channel, "change notice not delivered");
        }
    }
}
