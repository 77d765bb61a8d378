//! Second factors: TOTP (RFC 6238), SMS one-time codes, and recovery codes. Each is checked
//! here; which level a combination reaches is decided in `assurance`.

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Totp};

use super::AuthnError;
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::store::{Ephemeral, MfaStore, StoreError, typed};

/// Accept the previous and next 30-second step too (clock drift on phones).
const TOTP_SKEW: u16 = 1;
pub const SMS_OTP_TTL: i64 = 300;
pub const SMS_OTP_ATTEMPTS: u32 = 5;
const SMS_RESEND_AFTER: i64 = 60;
pub const RECOVERY_CODES: usize = 10;

fn internal(e: impl std::fmt::Display) -> AuthnError {
    AuthnError::Internal(e.to_string())
}

pub fn totp(secret: &[u8], account: &str, issuer: &str) -> Result<Totp, AuthnError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(TOTP_SKEW)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(internal)
}

pub fn new_totp_secret() -> Result<Vec<u8>, AuthnError> {
    Ok(crypto::random_bytes::<20>().map_err(internal)?.to_vec())
}

/// What the account page shows while enrolling: the `otpauth://` URI and a QR code (PNG, base64).
pub fn enrolment_view(t: &Totp) -> Result<(String, String), AuthnError> {
    Ok((
        t.to_url().map_err(internal)?,
        t.to_qr_base64().map_err(internal)?,
    ))
}

/// Check a TOTP code; the matching step is accepted at most once (replay protection).
pub async fn check_totp(
    db: &dyn MfaStore,
    kek: &Kek,
    sub: &str,
    code: &str,
    now: UnixTime,
) -> Result<bool, AuthnError> {
    let Some((sealed, _)) = db.totp(sub).await? else {
        return Ok(false);
    };
    let secret = kek
        .open(&format!("totp:{sub}"), &sealed)
        .map_err(internal)?;
    let t = totp(&secret, sub, "eidp")?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    match t.check(&code, now.max(0) as u64) {
        Some(step) => Ok(db.use_totp_step(sub, step as i64).await?),
        None => Ok(false),
    }
}

pub fn seal_totp(kek: &Kek, sub: &str, secret: &[u8]) -> Result<Vec<u8>, AuthnError> {
    kek.seal(&format!("totp:{sub}"), secret).map_err(internal)
}

/// Where a one-time code is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// A code challenge in the ephemeral store: the code only as a keyed digest.
#[derive(Debug, Serialize, Deserialize)]
struct CodeChallenge {
    digest: Vec<u8>,
    expires_at: UnixTime,
    sent_at: UnixTime,
}

fn code_key(ch: Channel, sub: &str) -> String {
    format!("{}2fa:{sub}", ch.as_str())
}

fn tries_key(ch: Channel, sub: &str) -> String {
    format!("{}2fa-tries:{sub}", ch.as_str())
}

fn code_digest(kek: &Kek, ch: Channel, sub: &str, code: &str) -> Vec<u8> {
    kek.secret_digest(&format!("{}-2fa\n{sub}\n{code}", ch.as_str()))
}

/// Make and store a new code; returns it for sending. Resends wait a minute.
pub async fn new_code(
    eph: &dyn Ephemeral,
    kek: &Kek,
    ch: Channel,
    sub: &str,
    now: UnixTime,
) -> Result<String, AuthnError> {
    if let Some(prev) = typed::get::<CodeChallenge>(eph, &code_key(ch, sub)).await?
        && now - prev.sent_at < SMS_RESEND_AFTER
    {
        return Err(AuthnError::Throttled);
    }
    let code = crypto::numeric_code().map_err(internal)?;
    let c = CodeChallenge {
        digest: code_digest(kek, ch, sub, &code),
        expires_at: now + SMS_OTP_TTL,
        sent_at: now,
    };
    typed::put(eph, &code_key(ch, sub), &c, (SMS_OTP_TTL + 60) as u64).await?;
    eph.delete(&tries_key(ch, sub)).await?;
    Ok(code)
}

/// Check an SMS code: 5 minutes, 5 attempts, then the challenge is gone.
pub async fn check_code(
    eph: &dyn Ephemeral,
    kek: &Kek,
    ch: Channel,
    sub: &str,
    code: &str,
    now: UnixTime,
) -> Result<bool, AuthnError> {
    let Some(c) = typed::get::<CodeChallenge>(eph, &code_key(ch, sub)).await? else {
        return Ok(false);
    };
    let tries = eph
        .incr(&tries_key(ch, sub), (SMS_OTP_TTL + 60) as u64)
        .await?;
    if tries > i64::from(SMS_OTP_ATTEMPTS) || now >= c.expires_at {
        eph.delete(&code_key(ch, sub)).await?;
        return Ok(false);
    }
    let ok = crypto::constant_time_eq(&code_digest(kek, ch, sub, code.trim()), &c.digest);
    if ok {
        // Single use: take it so a second submission (or another node) cannot reuse it.
        return Ok(eph.take(&code_key(ch, sub)).await?.is_some());
    }
    Ok(false)
}

fn recovery_digest(kek: &Kek, sub: &str, code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    kek.secret_digest(&format!("recovery\n{sub}\n{normal}"))
}

/// Ten new single-use codes (`xxxx-xxxx-xxxx`), replacing any earlier set; shown once.
pub async fn new_recovery_codes(
    db: &dyn MfaStore,
    kek: &Kek,
    sub: &str,
    now: UnixTime,
) -> Result<Vec<String>, AuthnError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let raw = crypto::random_bytes::<12>().map_err(internal)?;
        let chars: String = raw
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        codes.push(format!(
            "{}-{}-{}",
            &chars[0..4],
            &chars[4..8],
            &chars[8..12]
        ));
    }
    let digests: Vec<Vec<u8>> = codes.iter().map(|c| recovery_digest(kek, sub, c)).collect();
    db.replace_recovery_codes(sub, &digests, now).await?;
    Ok(codes)
}

pub async fn use_recovery_code(
    db: &dyn MfaStore,
    kek: &Kek,
    sub: &str,
    code: &str,
    now: UnixTime,
) -> Result<bool, StoreError> {
    db.use_recovery_code(sub, &recovery_digest(kek, sub, code), now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_rfc6238_sha1_vector() {
        // RFC 6238 Appendix B: secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // our 6-digit code is its last six digits.
        let t = totp(b"12345678901234567890", "a", "eidp").unwrap();
        assert_eq!(t.generate(59).to_string(), "287082");
        assert_eq!(t.check("287082", 59), Some(1));
        assert_eq!(t.check("287082", 89), Some(1), "one step of skew");
        assert_eq!(t.check("287082", 150), None);
    }
}
