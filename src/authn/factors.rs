//! Second factors: TOTP (RFC 6238), SMS and e-mail one-time codes (through `crate::otp`, the
//! rules every code path shares), and recovery codes. Each is checked here; which level a
//! combination reaches is decided in `assurance`.

use totp_rs::{Algorithm, Builder, Totp};

use super::AuthnError;
use crate::clock::UnixTime;
use crate::crypto::{self, Kek};
use crate::notify::MessageSender;
use crate::otp::{Checked, CodeFor, Codes, OtpError};
use crate::store::{AccountRecord, MfaStore, StoreError};

/// Accept the previous and next 30-second step too (clock drift on phones).
const TOTP_SKEW: u16 = 1;
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

    /// The code path's purpose in `crate::otp` (a sign-in step-up and an account-change
    /// confirmation share it: either way the code proves the same phone or address).
    fn purpose(self) -> &'static str {
        match self {
            Channel::Sms => "2fa-sms",
            Channel::Email => "2fa-email",
        }
    }

    pub fn method(self) -> super::Method {
        match self {
            Channel::Sms => super::Method::Sms,
            Channel::Email => super::Method::Email,
        }
    }
}

fn code_for<'a>(ch: Channel, account: &'a AccountRecord) -> CodeFor<'a> {
    CodeFor {
        purpose: ch.purpose(),
        flow: &account.sub,
        holder: &account.id_number,
    }
}

/// Make a code for the account and send it to `to` (the phone or address on record), within
/// the send limits every code path shares.
pub async fn send_code(
    codes: &Codes<'_>,
    ch: Channel,
    account: &AccountRecord,
    to: &str,
    ip: &str,
    sender: &dyn MessageSender,
    now: UnixTime,
) -> Result<(), OtpError> {
    let text = |code: &str| {
        format!(
            "Ma xac thuc eidp: {code}. Hieu luc 5 phut. Khong chia se ma nay. / Your eidp code: {code}"
        )
    };
    codes
        .send(&code_for(ch, account), to, ip, sender, text, now)
        .await
}

/// Check a code sent with [`send_code`].
pub async fn check_code(
    codes: &Codes<'_>,
    ch: Channel,
    account: &AccountRecord,
    code: &str,
    now: UnixTime,
) -> Result<Checked, OtpError> {
    codes.check(&code_for(ch, account), code, now).await
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
