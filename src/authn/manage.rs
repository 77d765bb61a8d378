//! The holder's own changes to how their account signs in, as the account page asks for
//! them: a new password, an authenticator app added (confirmed by a first code) or removed,
//! recovery codes made, a passkey renamed or removed, a session ended. Each change of a
//! factor or the password is gated by a recent confirmation ([`gate`], `reauth`),
//! recorded before it is made and told to the holder (`changes`). Adding a passkey is a
//! WebAuthn ceremony (`webauthn`) and comes through the same gate.

use super::changes::{self, Change, Notifier, Origin};
use super::reauth::{self, Requirement};
use super::{AuthnError, Session, factors, inventory, password, session};
use crate::backchannel;
use crate::clock::UnixTime;
use crate::crypto::Kek;
use crate::identity::password_policy;
use crate::store::{AccountRecord, Durable, Ephemeral, PasskeyRecord, StoreError};

/// How long an authenticator app being added waits for its first code.
const PENDING_TOTP_SECS: u64 = 600;

fn pending_totp_key(sub: &str) -> String {
    format!("totp-pending:{sub}")
}

/// What a change needs before it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// A recent confirmation with the account's strongest factor first.
    Confirm,
    /// The account has nothing to confirm with: only an officer can help.
    Impossible,
}

/// The confirmation `account` needs before a change, or `None` when it has nothing to
/// confirm with. `passkeys_usable`: whether the issuer can run WebAuthn ceremonies.
pub async fn requirement(
    db: &dyn Durable,
    account: &AccountRecord,
    passkeys_usable: bool,
) -> Result<Option<Requirement>, StoreError> {
    // Account changes are confirmed with held factors; a face match is a sign-in step only.
    let inv = inventory::of(db, account, passkeys_usable, false).await?;
    Ok(reauth::requirement(&inv))
}

/// May `sess` change `account` now?
pub async fn gate(
    db: &dyn Durable,
    passkeys_usable: bool,
    sess: &Session,
    account: &AccountRecord,
    now: UnixTime,
) -> Result<Gate, StoreError> {
    Ok(match requirement(db, account, passkeys_usable).await? {
        None => Gate::Impossible,
        Some(r) if reauth::satisfied(&r, sess, now) => Gate::Open,
        Some(_) => Gate::Confirm,
    })
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("the current password is wrong")]
    CurrentPassword,
    #[error("the new passwords differ")]
    PasswordMismatch,
    #[error("the new password breaks the policy")]
    PasswordPolicy,
    /// The code does not match the app being added; it may be tried again.
    #[error("wrong code")]
    WrongCode,
    /// Nothing waits for confirmation (never started, or its time ran out).
    #[error("nothing to confirm")]
    Expired,
    /// No such passkey or session on this account, or an empty name.
    #[error("no such item")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<AuthnError> for ManageError {
    fn from(e: AuthnError) -> Self {
        match e {
            AuthnError::Store(s) => ManageError::Store(s),
            other => ManageError::Internal(other.to_string()),
        }
    }
}

/// An authenticator app being added: what the page shows to scan.
pub struct PendingTotp {
    pub secret: Vec<u8>,
    pub uri: String,
    /// PNG, base64.
    pub qr: String,
}

/// A password changed: the session this browser keeps, under a new cookie.
pub struct PasswordChanged {
    pub account: AccountRecord,
    pub session: Session,
    pub cookie: String,
}

/// The holder's account changes, for one request.
pub struct Manage<'a> {
    pub db: &'a dyn Durable,
    pub eph: &'a dyn Ephemeral,
    pub kek: &'a Kek,
    pub notifier: Notifier<'a>,
    pub ip: &'a str,
    pub now: UnixTime,
}

impl Manage<'_> {
    fn origin(&self) -> Origin<'_> {
        Origin {
            ip: self.ip,
            now: self.now,
        }
    }

    async fn apply<T>(
        &self,
        account: &AccountRecord,
        what: Change,
        make: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ManageError> {
        let origin = self.origin();
        Ok(changes::apply(self.db, &self.notifier, account, what, &origin, make).await?)
    }

    /// A new password. Every other session ends and every grant is revoked (their tokens
    /// die), and relying parties with back-channel logout are told; `sess` goes on under the
    /// new epoch with a new cookie replacing `cookie`.
    pub async fn change_password(
        &self,
        sess: &Session,
        cookie: Option<&str>,
        account: &AccountRecord,
        (current, new, confirm): (String, String, String),
    ) -> Result<PasswordChanged, ManageError> {
        if !password::matches(current, account.password_hash.clone()).await {
            return Err(ManageError::CurrentPassword);
        }
        if new != confirm {
            return Err(ManageError::PasswordMismatch);
        }
        if password_policy::check(&new).is_err() {
            return Err(ManageError::PasswordPolicy);
        }
        let hash = password::hash_async(new)
            .await
            .map_err(|e| ManageError::Internal(e.to_string()))?;
        let (db, now) = (self.db, self.now);
        let epoch = self
            .apply(account, Change::PasswordChanged, async {
                // Relying parties are told before the grants that name them are revoked.
                backchannel::for_account(db, &account.sub, now).await?;
                let epoch = db.set_password(&account.sub, &hash, now).await?;
                db.revoke_grants_of(&account.sub, now).await?;
                Ok(epoch)
            })
            .await?;
        let kept = Session {
            epoch,
            ..sess.clone()
        };
        let cookie = session::reissue(self.eph, cookie, &kept, now)
            .await
            .map_err(AuthnError::from)?;
        let account = AccountRecord {
            session_epoch: epoch,
            password_hash: hash,
            ..account.clone()
        };
        Ok(PasswordChanged {
            account,
            session: kept,
            cookie,
        })
    }

    /// Begin adding an authenticator app: a new secret, kept sealed until the first code
    /// confirms it.
    pub async fn totp_start(&self, account: &AccountRecord) -> Result<PendingTotp, ManageError> {
        let secret = factors::new_totp_secret()?;
        let sealed = factors::seal_totp(self.kek, &account.sub, &secret)?;
        let key = pending_totp_key(&account.sub);
        self.eph.put(&key, &sealed, PENDING_TOTP_SECS).await?;
        self.totp_view(account, secret)
    }

    /// The app being added, to show again (after a wrong code).
    pub async fn totp_pending(&self, account: &AccountRecord) -> Result<PendingTotp, ManageError> {
        let (secret, _) = self.pending_secret(account).await?;
        self.totp_view(account, secret)
    }

    fn totp_view(
        &self,
        account: &AccountRecord,
        secret: Vec<u8>,
    ) -> Result<PendingTotp, ManageError> {
        let t = factors::totp(&secret, &account.id_number, "eidp")?;
        let (uri, qr) = factors::enrolment_view(&t)?;
        Ok(PendingTotp { secret, uri, qr })
    }

    async fn pending_secret(
        &self,
        account: &AccountRecord,
    ) -> Result<(Vec<u8>, Vec<u8>), ManageError> {
        let sealed = self.eph.get(&pending_totp_key(&account.sub)).await?;
        let sealed = sealed.ok_or(ManageError::Expired)?;
        let secret = self
            .kek
            .open(&format!("totp:{}", account.sub), &sealed)
            .map_err(|e| ManageError::Internal(e.to_string()))?;
        Ok((secret, sealed))
    }

    /// Confirm the app being added with its first code; that code is spent too, so it cannot
    /// sign in a second time.
    pub async fn totp_confirm(
        &self,
        account: &AccountRecord,
        code: &str,
    ) -> Result<(), ManageError> {
        let (secret, sealed) = self.pending_secret(account).await?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let t = factors::totp(&secret, &account.id_number, "eidp")?;
        let step = (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.check(&code, self.now.max(0) as u64))
            .flatten()
            .ok_or(ManageError::WrongCode)?;
        let (db, eph, now) = (self.db, self.eph, self.now);
        self.apply(account, Change::TotpAdded, async {
            db.put_totp(&account.sub, &sealed, now).await?;
            db.use_totp_step(&account.sub, step as i64).await?;
            eph.delete(&pending_totp_key(&account.sub)).await
        })
        .await
    }

    pub async fn totp_remove(&self, account: &AccountRecord) -> Result<(), ManageError> {
        let removed = self.db.delete_totp(&account.sub);
        self.apply(account, Change::TotpRemoved, removed).await
    }

    /// Ten new recovery codes, replacing any earlier set; shown once.
    pub async fn recovery_codes(
        &self,
        account: &AccountRecord,
    ) -> Result<Vec<String>, ManageError> {
        let made = async {
            factors::new_recovery_codes(self.db, self.kek, &account.sub, self.now)
                .await
                .map_err(|e| match e {
                    AuthnError::Store(e) => e,
                    other => StoreError::Other(other.to_string()),
                })
        };
        self.apply(account, Change::RecoveryCodesMade, made).await
    }

    /// A passkey's name, as the holder wants it shown (trimmed, at most 60 characters). Not a
    /// change of how the account signs in: no confirmation, no notice.
    pub async fn rename_passkey(
        &self,
        account: &AccountRecord,
        cred_id: &[u8],
        name: &str,
    ) -> Result<(), ManageError> {
        let name: String = name.trim().chars().take(60).collect();
        if name.is_empty() {
            return Err(ManageError::NotFound);
        }
        match self.db.rename_passkey(&account.sub, cred_id, &name).await? {
            true => Ok(()),
            false => Err(ManageError::NotFound),
        }
    }

    /// Keep a passkey its WebAuthn ceremony registered (`webauthn::finish_registration`).
    pub async fn add_passkey(
        &self,
        account: &AccountRecord,
        rec: &PasskeyRecord,
    ) -> Result<(), ManageError> {
        let added = self.db.insert_passkey(rec);
        let what = Change::PasskeyAdded(rec.name.clone());
        self.apply(account, what, added).await
    }

    pub async fn remove_passkey(
        &self,
        account: &AccountRecord,
        cred_id: &[u8],
    ) -> Result<(), ManageError> {
        let keys = self.db.passkeys_of(&account.sub).await?;
        let key = keys.into_iter().find(|k| k.cred_id == cred_id);
        let key = key.ok_or(ManageError::NotFound)?;
        let db = self.db;
        let removed = async {
            db.delete_passkey(&account.sub, &key.cred_id)
                .await
                .map(|_| ())
        };
        self.apply(account, Change::PasskeyRemoved(key.name.clone()), removed)
            .await
    }

    /// End one of the account's sessions by its public id; the relying parties signed in
    /// through it are told (back-channel logout) first.
    pub async fn end_session(&self, account: &AccountRecord, sid: &str) -> Result<(), ManageError> {
        let live = session::of(self.eph, &account.sub, self.now).await?;
        if !live.iter().any(|(_, s)| s.sid == sid) {
            return Err(ManageError::NotFound);
        }
        backchannel::for_session(self.db, &account.sub, sid, self.now).await?;
        match session::end_sid(self.eph, &account.sub, sid, self.now).await? {
            true => Ok(()),
            false => Err(ManageError::NotFound),
        }
    }
}
