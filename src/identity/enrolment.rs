//! Level-1 self-enrolment: the person's declared data must match the population register,
//! a 6-digit code sent to the own-name phone on record proves possession, then the person
//! chooses a password. Mismatches get one message that does not say which field differed,
//! and are counted per ID number and per IP address and throttled.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{NewAccount, normalize_phone, parse_birth_date};
use super::{IdNumber, IdentityError, names, password_policy};
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::notify::{MessageSender, mask_phone};
use crate::store::{Durable, Ephemeral, StoreError, typed};

pub const OTP_TTL: i64 = 300;
pub const OTP_ATTEMPTS: i64 = 5;
const FLOW_TTL: u64 = 15 * 60;
const MISMATCH_WINDOW: u64 = 3600;
const MAX_MISMATCH_PER_ID: i64 = 5;
const MAX_MISMATCH_PER_IP: i64 = 20;
const RESEND_AFTER: i64 = 60;
const MAX_SENDS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the details do not match the population register")]
    Mismatch,
    #[error("too many attempts; try again later")]
    Throttled,
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
    otp_digest: Vec<u8>,
    otp_expires_at: UnixTime,
    last_sent_at: UnixTime,
    sends: u32,
    verified: bool,
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

fn new_otp() -> Result<String, EnrolError> {
    crypto::numeric_code().map_err(|e| EnrolError::Send(e.to_string()))
}

impl Enrolment<'_> {
    fn digest(&self, flow: &str, otp: &str) -> Vec<u8> {
        self.kek.secret_digest(&format!("enrol-otp\n{flow}\n{otp}"))
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
        let id = IdNumber::parse(d.id_number).map_err(|e| EnrolError::Invalid {
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
            return Err(EnrolError::Throttled);
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
        let otp = new_otp()?;
        let f = Flow {
            id_number: id.as_str().to_string(),
            phone: phone.clone(),
            otp_digest: self.digest(&flow, &otp),
            otp_expires_at: now + OTP_TTL,
            last_sent_at: now,
            sends: 1,
            verified: false,
        };
        typed::put(self.eph, &flow_key(&flow), &f, FLOW_TTL).await?;
        self.sms
            .send(&phone, &otp_text(&otp))
            .await
            .map_err(EnrolError::Send)?;
        Ok((flow, mask_phone(&phone)))
    }

    async fn load(&self, flow: &str) -> Result<Flow, EnrolError> {
        typed::get::<Flow>(self.eph, &flow_key(flow))
            .await?
            .ok_or(EnrolError::Expired)
    }

    /// A new code, at most every minute and three times per enrolment; the old one dies.
    pub async fn resend(&self, flow: &str, now: UnixTime) -> Result<String, EnrolError> {
        let mut f = self.load(flow).await?;
        if f.verified || f.sends >= MAX_SENDS || now - f.last_sent_at < RESEND_AFTER {
            return Err(EnrolError::Throttled);
        }
        let otp = new_otp()?;
        f.otp_digest = self.digest(flow, &otp);
        f.otp_expires_at = now + OTP_TTL;
        f.last_sent_at = now;
        f.sends += 1;
        typed::put(self.eph, &flow_key(flow), &f, FLOW_TTL).await?;
        self.sms
            .send(&f.phone, &otp_text(&otp))
            .await
            .map_err(EnrolError::Send)?;
        Ok(mask_phone(&f.phone))
    }

    /// Step 2: the code. Five wrong tries end the enrolment.
    pub async fn verify_otp(&self, flow: &str, otp: &str, now: UnixTime) -> Result<(), EnrolError> {
        let mut f = self.load(flow).await?;
        let tries = self
            .eph
            .incr(&format!("enrol-otp-tries:{flow}"), FLOW_TTL)
            .await?;
        if tries > OTP_ATTEMPTS {
            self.eph.delete(&flow_key(flow)).await?;
            return Err(EnrolError::OtpExhausted);
        }
        let ok = now < f.otp_expires_at
            && crypto::constant_time_eq(&self.digest(flow, otp.trim()), &f.otp_digest);
        if !ok {
            return Err(if tries == OTP_ATTEMPTS {
                EnrolError::OtpExhausted
            } else {
                EnrolError::OtpInvalid
            });
        }
        f.verified = true;
        f.otp_digest.clear();
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
            actor: account.sub.clone(),
            action: actions::ENROLLED,
            subject: Some(account.sub.clone()),
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
