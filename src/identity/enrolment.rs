//! Level-1 self-enrolment: the person's declared data must match the population register,
//! a 6-digit code sent to the own-name phone on record proves possession, then the person
//! chooses a password. Mismatches get one message that does not say which field differed,
//! and are counted per ID number and per IP address and throttled. The code follows the
//! rules of every code path (`crate::otp`): sends limited per ID number, phone and address
//! with growing waits, three tries per code, ten wrong guesses a day per ID number however
//! often the enrolment is started again.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{NewAccount, normalize_phone, parse_birth_date};
use super::{IdNumber, IdentityError, names, password_policy};
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::notify::{MessageSender, mask_phone};
use crate::otp::{Checked, CodeFor, Codes, OtpError};
use crate::store::{Durable, Ephemeral, StoreError, typed};

const FLOW_TTL: u64 = 15 * 60;
const MISMATCH_WINDOW: u64 = 3600;
const MAX_MISMATCH_PER_ID: i64 = 5;
const MAX_MISMATCH_PER_IP: i64 = 20;
const PURPOSE: &str = "enrol";

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the details do not match the population register")]
    Mismatch,
    /// Too many attempts or codes: try again in this many seconds.
    #[error("too many attempts; try again in {0} s")]
    Throttled(i64),
    #[error("an account already exists for this ID number")]
    AccountExists,
    #[error("the code is wrong or expired")]
    OtpInvalid,
    #[error("too many wrong codes; start again")]
    OtpExhausted,
    #[error("the enrolment expired; start again")]
    Expired,
    #[error("the code could not be sent: {0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

pub struct Declared<'a> {
    pub id_number: &'a str,
    pub full_name: &'a str,
    pub birth_date: &'a str,
    pub phone: &'a str,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Flow {
    id_number: String,
    phone: String,
    verified: bool,
}

impl From<OtpError> for EnrolError {
    fn from(e: OtpError) -> Self {
        match e {
            OtpError::Wait(s) | OtpError::LimitReached(s) => EnrolError::Throttled(s),
            OtpError::Store(s) => EnrolError::Store(s),
            OtpError::Send(m) | OtpError::Internal(m) => EnrolError::Send(m),
        }
    }
}

pub struct Enrolment<'a> {
    pub db: &'a dyn Durable,
    pub eph: &'a dyn Ephemeral,
    pub kek: &'a Kek,
    pub sms: &'a dyn MessageSender,
}

fn flow_key(flow: &str) -> String {
    format!("enrol:{flow}")
}

impl Enrolment<'_> {
    fn codes(&self) -> Codes<'_> {
        Codes {
            eph: self.eph,
            kek: self.kek,
        }
    }

    async fn send_code(
        &self,
        flow: &str,
        f: &Flow,
        ip: &str,
        now: UnixTime,
    ) -> Result<(), EnrolError> {
        let code_for = CodeFor {
            purpose: PURPOSE,
            flow,
            holder: &f.id_number,
        };
        self.codes()
            .send(&code_for, &f.phone, ip, self.sms, otp_text, now)
            .await?;
        Ok(())
    }

    async fn throttled(&self, id: &str, ip: &str) -> Result<bool, StoreError> {
        let count = |k: String| async move {
            let v = self.eph.get(&k).await?;
            Ok::<i64, StoreError>(
                v.and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            )
        };
        Ok(
            count(format!("enrol-miss-id:{id}")).await? >= MAX_MISMATCH_PER_ID
                || count(format!("enrol-miss-ip:{ip}")).await? >= MAX_MISMATCH_PER_IP,
        )
    }

    async fn count_mismatch(&self, id: &str, ip: &str) -> Result<(), StoreError> {
        self.eph
            .incr(&format!("enrol-miss-id:{id}"), MISMATCH_WINDOW)
            .await?;
        self.eph
            .incr(&format!("enrol-miss-ip:{ip}"), MISMATCH_WINDOW)
            .await?;
        Ok(())
    }

    /// Step 1: match against the register and send the code. Returns the flow id and the
    /// masked phone number the code went to.
    pub async fn start(
        &self,
        d: &Declared<'_>,
        ip: &str,
        now: UnixTime,
    ) -> Result<(String, String), EnrolError> {
        // An old CMND number that points at one person stands for their ID number.
        let typed = super::cmnd::resolve(self.db, d.id_number)
            .await?
            .map_err(|_| EnrolError::Invalid {
                field: "cmnd",
                reason: "the old CMND number belongs to several people".into(),
            })?;
        let id = IdNumber::parse(&typed).map_err(|e| EnrolError::Invalid {
            field: "id_number",
            reason: e.to_string(),
        })?;
        parse_birth_date(d.birth_date).map_err(|_| EnrolError::Invalid {
            field: "birth_date",
            reason: "must be YYYY-MM-DD".into(),
        })?;
        let phone = normalize_phone(d.phone).map_err(|e| EnrolError::Invalid {
            field: "phone",
            reason: e.to_string(),
        })?;
        if names::normalize(d.full_name).is_empty() {
            return Err(EnrolError::Invalid {
                field: "full_name",
                reason: "required".into(),
            });
        }
        if self.throttled(id.as_str(), ip).await? {
            return Err(EnrolError::Throttled(MISMATCH_WINDOW as i64));
        }
        let person = self.db.person(id.as_str()).await?;
        let matched = person.as_ref().is_some_and(|p| {
            names::matches(&p.full_name, d.full_name)
                && p.birth_date == d.birth_date.trim()
                && p.phone.as_deref() == Some(phone.as_str())
                && p.deceased_on.is_none()
        });
        if !matched {
            self.count_mismatch(id.as_str(), ip).await?;
            return Err(EnrolError::Mismatch);
        }
        if self.db.account_by_id_number(id.as_str()).await?.is_some() {
            return Err(EnrolError::AccountExists);
        }
        let flow = crypto::random_token().map_err(|e| EnrolError::Send(e.to_string()))?;
        let f = Flow {
            id_number: id.as_str().to_string(),
            phone: phone.clone(),
            verified: false,
        };
        // The send limits decide first; a refused send leaves no enrolment behind.
        self.send_code(&flow, &f, ip, now).await?;
        typed::put(self.eph, &flow_key(&flow), &f, FLOW_TTL).await?;
        Ok((flow, mask_phone(&phone)))
    }

    async fn load(&self, flow: &str) -> Result<Flow, EnrolError> {
        typed::get::<Flow>(self.eph, &flow_key(flow))
            .await?
            .ok_or(EnrolError::Expired)
    }

    /// A new code (the old one dies), within the send limits of every code path.
    pub async fn resend(&self, flow: &str, ip: &str, now: UnixTime) -> Result<String, EnrolError> {
        let f = self.load(flow).await?;
        if f.verified {
            return Err(EnrolError::Expired);
        }
        self.send_code(flow, &f, ip, now).await?;
        Ok(mask_phone(&f.phone))
    }

    /// Step 2: the code. Three wrong tries end the code (a new one may be sent); ten wrong
    /// guesses a day per ID number end all enrolments for the day.
    pub async fn verify_otp(&self, flow: &str, otp: &str, now: UnixTime) -> Result<(), EnrolError> {
        let mut f = self.load(flow).await?;
        let code_for = CodeFor {
            purpose: PURPOSE,
            flow,
            holder: &f.id_number,
        };
        match self.codes().check(&code_for, otp, now).await? {
            Checked::Accepted => {}
            Checked::Wrong { tries_left } if tries_left > 0 => return Err(EnrolError::OtpInvalid),
            Checked::Wrong { .. } | Checked::NoCode => return Err(EnrolError::OtpExhausted),
            Checked::LockedOut => {
                return Err(EnrolError::Throttled(crate::otp::GUESS_WINDOW as i64));
            }
        }
        f.verified = true;
        typed::put(self.eph, &flow_key(flow), &f, FLOW_TTL).await?;
        Ok(())
    }

    /// Step 3: the password; the Level-1 account is created from the register record.
    pub async fn finish(
        &self,
        flow: &str,
        password: &str,
        confirm: &str,
        hash: impl FnOnce(&str) -> Result<String, String>,
        ip: &str,
        now: UnixTime,
    ) -> Result<String, EnrolError> {
        let f = self.load(flow).await?;
        if !f.verified {
            return Err(EnrolError::OtpInvalid);
        }
        if password != confirm {
            return Err(EnrolError::Invalid {
                field: "password_confirm",
                reason: "the passwords differ".into(),
            });
        }
        password_policy::check(password).map_err(|e| EnrolError::Invalid {
            field: "password",
            reason: e.to_string(),
        })?;
        let input = NewAccount {
            id_number: f.id_number.clone(),
            phone: f.phone.clone(),
            ..Default::default()
        };
        let (account, _) = super::create_account(self.db, &input, password, hash, now)
            .await
            .map_err(|e| match e {
                IdentityError::AccountExists => EnrolError::AccountExists,
                other => other.into(),
            })?;
        self.eph.delete(&flow_key(flow)).await?;
        let event = Event {
            actor: account.sub.to_string(),
            action: actions::ENROLLED,
            subject: Some(account.sub.to_string()),
            detail: json!({"level": 1, "phone_verified": mask_phone(&f.phone)}),
            ip: Some(ip.to_string()),
            ..Default::default()
        };
        audit::record(self.db, event, now).await?;
        Ok(f.id_number)
    }
}

fn otp_text(otp: &str) -> String {
    format!(
        "Ma xac thuc eidp cua ban la {otp}. Hieu luc 5 phut. Khong chia se ma nay. / Your eidp code is {otp}."
    )
}
