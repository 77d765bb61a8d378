//! Password recovery: the person gives their ID number and the own-name phone on record; a
//! code goes to that phone (the rules of every code path, `crate::otp`); with the code they
//! choose a new password, which ends every other session and revokes every grant, exactly as a
//! password change does.
//!
//! The answers never tell a stranger whether an ID number has an account or which phone it
//! has: a start always looks the same, and only the real holder receives a code. Starts that
//! do not match are counted per ID number and address and throttled.

use serde::{Deserialize, Serialize};

use super::AuthnError;
use super::changes::{self, Change, Notifier, Origin};
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::identity::accounts::normalize_phone;
use crate::identity::{IdNumber, password_policy, usable};
use crate::ids::Subject;
use crate::notify::{MessageSender, mask_phone};
use crate::otp::{Checked, CodeFor, Codes};
use crate::store::{AccountRecord, Durable, Ephemeral, StoreError, typed};

const FLOW_TTL: u64 = 15 * 60;
const PURPOSE: &str = "pwreset";
const MISMATCH_WINDOW: u64 = 3600;
const MAX_MISMATCH_PER_ID: i64 = 5;
const MAX_MISMATCH_PER_IP: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Authn(#[from] AuthnError),
    /// The flow is gone (expired, finished, or never matched an account).
    #[error("the recovery expired; start again")]
    Expired,
}

impl From<StoreError> for RecoveryError {
    fn from(e: StoreError) -> Self {
        RecoveryError::Authn(AuthnError::Store(e))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Flow {
    /// `None` when the details matched no account: the flow looks the same, and no code
    /// ever checks against it.
    sub: Option<Subject>,
    id_number: String,
    phone: String,
    verified: bool,
}

fn flow_key(flow: &str) -> String {
    format!("pwreset:{flow}")
}

pub struct Recovery<'a> {
    pub db: &'a dyn Durable,
    pub eph: &'a dyn Ephemeral,
    pub kek: &'a Kek,
    pub sms: &'a dyn MessageSender,
    pub ip: &'a str,
    pub now: UnixTime,
}

fn text(code: &str) -> String {
    format!(
        "Ma dat lai mat khau eidp: {code}. Hieu luc 5 phut. Khong chia se ma nay. / Your eidp password reset code: {code}"
    )
}

impl Recovery<'_> {
    fn codes(&self) -> Codes<'_> {
        Codes {
            eph: self.eph,
            kek: self.kek,
        }
    }

    async fn count(&self, key: &str) -> Result<i64, StoreError> {
        let v = self.eph.get(key).await?;
        Ok(v.and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// Step 1: the ID number and phone. Returns the flow id and the masked phone; a code was
    /// sent if (and only if) they belong to an active account.
    pub async fn start(
        &self,
        id_number: &str,
        phone: &str,
    ) -> Result<(String, String), RecoveryError> {
        let id = IdNumber::parse(id_number).map_err(|_| RecoveryError::Invalid("id_number"))?;
        let phone = normalize_phone(phone).map_err(|_| RecoveryError::Invalid("phone"))?;
        let (id_key, ip_key) = (
            format!("pwreset-miss-id:{}", id.as_str()),
            format!("pwreset-miss-ip:{}", self.ip),
        );
        if self.count(&id_key).await? >= MAX_MISMATCH_PER_ID
            || self.count(&ip_key).await? >= MAX_MISMATCH_PER_IP
        {
            let wait = super::throttle::Refusal::LockedOut(MISMATCH_WINDOW as i64);
            return Err(AuthnError::Throttled(wait).into());
        }
        let account = self.db.account_by_id_number(id.as_str()).await?;
        let person = self.db.person(id.as_str()).await?;
        let matched = account
            .filter(usable)
            .filter(|_| person.and_then(|p| p.phone).as_deref() == Some(phone.as_str()));
        let flow = crypto::random_token().map_err(|e| AuthnError::Internal(e.to_string()))?;
        let f = Flow {
            sub: matched.as_ref().map(|a| a.sub.clone()),
            id_number: id.as_str().to_string(),
            phone: phone.clone(),
            verified: false,
        };
        if matched.is_some() {
            let code_for = CodeFor {
                purpose: PURPOSE,
                flow: &flow,
                holder: id.as_str(),
            };
            self.codes()
                .send(&code_for, &phone, self.ip, self.sms, text, self.now)
                .await
                .map_err(AuthnError::from)?;
        } else {
            tokio::try_join!(
                self.eph.incr(&id_key, MISMATCH_WINDOW),
                self.eph.incr(&ip_key, MISMATCH_WINDOW)
            )?;
        }
        typed::put(self.eph, &flow_key(&flow), &f, FLOW_TTL).await?;
        Ok((flow, mask_phone(&phone)))
    }

    async fn load(&self, flow: &str) -> Result<Flow, RecoveryError> {
        typed::get::<Flow>(self.eph, &flow_key(flow))
            .await?
            .ok_or(RecoveryError::Expired)
    }

    /// A new code for the same flow, within the send limits.
    pub async fn resend(&self, flow: &str) -> Result<String, RecoveryError> {
        let f = self.load(flow).await?;
        if f.sub.is_some() && !f.verified {
            let code_for = CodeFor {
                purpose: PURPOSE,
                flow,
                holder: &f.id_number,
            };
            self.codes()
                .send(&code_for, &f.phone, self.ip, self.sms, text, self.now)
                .await
                .map_err(AuthnError::from)?;
        }
        Ok(mask_phone(&f.phone))
    }

    /// Step 2: the code.
    pub async fn verify(&self, flow: &str, code: &str) -> Result<(), RecoveryError> {
        let mut f = self.load(flow).await?;
        let code_for = CodeFor {
            purpose: PURPOSE,
            flow,
            holder: &f.id_number,
        };
        // A flow that matched nothing has no code: every guess is wrong, and counted.
        match self
            .codes()
            .check(&code_for, code, self.now)
            .await
            .map_err(AuthnError::from)?
        {
            Checked::Accepted if f.sub.is_some() => {}
            Checked::Accepted | Checked::Wrong { .. } => {
                return Err(AuthnError::InvalidCredentials.into());
            }
            Checked::NoCode if f.sub.is_none() => return Err(AuthnError::InvalidCredentials.into()),
            Checked::NoCode => return Err(AuthnError::CodeSpent.into()),
            Checked::LockedOut => {
                let wait = super::throttle::Refusal::LockedOut(crate::otp::GUESS_WINDOW as i64);
                return Err(AuthnError::Throttled(wait).into());
            }
        }
        f.verified = true;
        typed::put(self.eph, &flow_key(flow), &f, FLOW_TTL).await?;
        Ok(())
    }

    /// Step 3: the new password. Recorded and told to the holder like any password change;
    /// every session and grant of the account ends. Returns the account (with its new session
    /// epoch) for the caller to sign the person in.
    pub async fn finish(
        &self,
        flow: &str,
        password: &str,
        confirm: &str,
        notifier: &Notifier<'_>,
    ) -> Result<AccountRecord, RecoveryError> {
        let f = self.load(flow).await?;
        let sub = f
            .sub
            .clone()
            .filter(|_| f.verified)
            .ok_or(RecoveryError::Expired)?;
        if password != confirm {
            return Err(RecoveryError::Invalid("password_confirm"));
        }
        password_policy::check(password).map_err(|_| RecoveryError::Invalid("password"))?;
        let account = self
            .db
            .account_by_sub(&sub)
            .await?
            .filter(usable)
            .ok_or(RecoveryError::Expired)?;
        let hash = super::password::hash_async(password.to_string()).await?;
        let origin = Origin {
            ip: self.ip,
            now: self.now,
        };
        let db = self.db;
        let epoch = changes::apply(
            db,
            notifier,
            &account,
            Change::PasswordChanged,
            &origin,
            async {
                // Relying parties are told before the grants that name them are revoked.
                crate::backchannel::for_account(db, &account.sub, self.now).await?;
                let epoch = db.set_password(&account.sub, &hash, self.now).await?;
                db.revoke_grants_of(&account.sub, self.now).await?;
                Ok(epoch)
            },
        )
        .await?;
        self.eph.delete(&flow_key(flow)).await?;
        Ok(AccountRecord {
            session_epoch: epoch,
            password_hash: hash,
            ..account
        })
    }
}
