//! Creating accounts on the admin path: the register record is used when present, otherwise
//! one is created from the given fields — and the ID number is validated either way.

use super::id_number::{IdNumber, IdNumberError, Sex};
use super::{AccountState, password_policy};
use crate::clock::UnixTime;
use crate::crypto;
use crate::ids::Subject;
use crate::store::{AccountRecord, Durable, PersonRecord, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    IdNumber(#[from] IdNumberError),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("id_number: an account already exists for this ID number")]
    AccountExists,
    #[error("id_number: no account has this ID number")]
    NoAccount,
    /// The actor may not do this (a missing role, or an officer's own account).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new account's `sub`: 128 random bits, so it says nothing of the person and cannot be
/// guessed from their ID number.
pub fn new_subject() -> Result<Subject, IdentityError> {
    let v = crypto::random_id().map_err(|e| invalid("sub", e.to_string()))?;
    Subject::parse(v).map_err(|e| invalid("sub", e.to_string()))
}

fn invalid(field: &'static str, reason: impl Into<String>) -> IdentityError {
    IdentityError::Invalid {
        field,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub id_number: String,
    pub phone: String,
    pub full_name: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub email: Option<String>,
}

/// `YYYY-MM-DD` with a real calendar date; returns the year.
pub fn parse_birth_date(s: &str) -> Result<u16, IdentityError> {
    let bad = || invalid("birth_date", "must be a real date written YYYY-MM-DD");
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (u16, u8, u8) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        Err(bad())
    } else {
        Ok(y)
    }
}

/// `YYYY-MM-DD` → the Unix time of its start (UTC).
pub fn day_start(d: &str) -> Option<i64> {
    parse_birth_date(d).ok()?;
    let (y, m, day): (i64, i64, i64) = (
        d.get(..4)?.parse().ok()?,
        d.get(5..7)?.parse().ok()?,
        d.get(8..)?.parse().ok()?,
    );
    // Days from civil (H. Hinnant), the inverse of `register::date_of`.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// A Vietnamese mobile number in national (0xxxxxxxxx) or +84 form, returned as +84….
pub fn normalize_phone(s: &str) -> Result<String, IdentityError> {
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let national = if let Some(rest) = digits.strip_prefix("+84") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest.to_string()
    } else {
        return Err(invalid("phone", "must start with 0 or +84"));
    };
    if national.len() != 9 || !national.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            "phone",
            "must be a 10-digit mobile number (0xxxxxxxxx)",
        ));
    }
    Ok(format!("+84{national}"))
}

async fn person_for(
    db: &dyn Durable,
    id: &IdNumber,
    input: &NewAccount,
    phone: &str,
    now: UnixTime,
) -> Result<PersonRecord, IdentityError> {
    if let Some(p) = db.person(id.as_str()).await? {
        return Ok(p);
    }
    let full_name = input
        .full_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("full_name", "required when the register has no record"))?;
    let birth_date = input
        .birth_date
        .as_deref()
        .ok_or_else(|| invalid("birth_date", "required when the register has no record"))?;
    let year = parse_birth_date(birth_date)?;
    let sex = match input.sex.as_deref() {
        Some(s) => Sex::parse(s).ok_or_else(|| invalid("sex", "must be male or female"))?,
        None => id.sex(),
    };
    id.check_consistency(year, sex)?;
    let full_name = super::names::check(full_name).map_err(|r| invalid("full_name", r))?;
    let p = PersonRecord {
        id_number: id.as_str().to_string(),
        full_name,
        birth_date: birth_date.to_string(),
        sex: sex.as_str().to_string(),
        nationality: "VN".into(),
        phone: Some(phone.to_string()),
        email: input.email.clone(),
        birth_place: Some(id.province_code().to_string()),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    db.upsert_person(&p).await?;
    Ok(p)
}

/// Create an active Level-1 account. `password` is checked against the policy here and
/// hashed by `hash` (the caller owns the hashing method).
pub async fn create_account(
    db: &dyn Durable,
    input: &NewAccount,
    password: &str,
    hash: impl FnOnce(&str) -> Result<String, String>,
    now: UnixTime,
) -> Result<(AccountRecord, PersonRecord), IdentityError> {
    let id = IdNumber::parse(&input.id_number)?;
    let phone = normalize_phone(&input.phone)?;
    password_policy::check(password).map_err(|e| invalid("password", e.to_string()))?;
    if db.account_by_id_number(id.as_str()).await?.is_some() {
        return Err(IdentityError::AccountExists);
    }
    let person = person_for(db, &id, input, &phone, now).await?;
    let account = AccountRecord {
        sub: new_subject()?,
        id_number: id.as_str().to_string(),
        password_hash: hash(password).map_err(|e| invalid("password", e))?,
        level: 1,
        state: AccountState::Active,
        lock_reason: None,
        lock_note: None,
        session_epoch: 0,
        created_at: now,
        updated_at: now,
    };
    db.insert_account(&account).await.map_err(|e| match e {
        StoreError::Conflict(_) => IdentityError::AccountExists,
        other => other.into(),
    })?;
    Ok((account, person))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates() {
        assert_eq!(parse_birth_date("1990-02-28").unwrap(), 1990);
        assert_eq!(parse_birth_date("2000-02-29").unwrap(), 2000);
        assert!(parse_birth_date("1900-02-29").is_err());
        assert!(parse_birth_date("1990-13-01").is_err());
        assert!(parse_birth_date("1990-1-01").is_err());
        assert!(parse_birth_date("tomorrow").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("0912 345 678").unwrap(), "+84912345678");
        assert_eq!(normalize_phone("+84912345678").unwrap(), "+84912345678");
        assert!(normalize_phone("912345678").is_err());
        assert!(normalize_phone("09123456789").is_err());
    }
}
