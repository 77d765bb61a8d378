//! The health-insurance (BHYT) register: card facts per person, keyed by the personal ID
//! number, the legacy 15-character card code kept as an alias. Facts only — validity, the
//! registered primary-care facility, the benefit level, the five-year date, the status —
//! never medical data. Rows are validated here; `import` loads files, `synthetic` makes
//! cards for a generated population register.

use serde::Serialize;
use serde_json::{Value, json};

use super::accounts::parse_birth_date;
use super::id_number::{HealthInsuranceCode, IdNumber};
use super::register::{FieldError, opt};
use crate::clock::UnixTime;
use crate::store::InsuranceCardRecord;

pub mod import;
pub mod synthetic;
#[cfg(test)]
mod tests;

/// The import columns (the contract with the insurance fund's export).
pub const COLUMNS: [&str; 9] = [
    "id_number",
    "card_code",
    "valid_from",
    "valid_to",
    "facility_code",
    "facility_name",
    "benefit_level",
    "five_years_since",
    "status",
];

/// Vietnam keeps UTC+7 all year: a card valid to 31 December is valid all that local day.
pub const LOCAL_OFFSET_SECS: i64 = 7 * 3600;

/// Statuses the fund records.
pub const STATUSES: [&str; 3] = ["active", "expired", "suspended"];

/// The share of covered costs the fund pays at each benefit level (Decree 146/2018/NĐ-CP
/// art. 14): 1 and 2 in full (2 with a cap on high-tech services), 3 at 95 %, 4 at 80 %, 5 in
/// full including transport.
pub fn benefit_percent(level: i64) -> Option<i64> {
    match level {
        1 | 2 | 5 => Some(100),
        3 => Some(95),
        4 => Some(80),
        _ => None,
    }
}

/// A primary-care facility code `PP-NNN`: two digits of province, three of facility.
pub fn is_facility_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6
        && b[2] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
}

/// Where a card stands today: the fund's status, and the dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Active,
    Expired,
    Suspended,
    NotYetValid,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Expired => "expired",
            Standing::Suspended => "suspended",
            Standing::NotYetValid => "not_yet_valid",
        }
    }
}

/// The card's standing on `today` (`YYYY-MM-DD`): a suspension wins, then the fund's
/// `expired`, then the dates (a card past `valid_to` is expired whatever its status says).
pub fn standing(c: &InsuranceCardRecord, today: &str) -> Standing {
    match c.status.as_str() {
        "suspended" => Standing::Suspended,
        "expired" => Standing::Expired,
        _ if today > c.valid_to.as_str() => Standing::Expired,
        _ if today < c.valid_from.as_str() => Standing::NotYetValid,
        "active" => Standing::Active,
        // A status this version does not know: not eligible (the safe side).
        _ => Standing::Suspended,
    }
}

/// The card facts as a claim (`health_insurance`, in UserInfo after consent): the same
/// facts the eligibility answer gives, never medical data.
pub fn claim(c: &InsuranceCardRecord, today: &str) -> Value {
    let s = standing(c, today);
    json!({
        "eligible": s == Standing::Active,
        "card": {"code": c.card_code, "valid_from": c.valid_from, "valid_to": c.valid_to,
                 "status": s.as_str()},
        "registered_facility": {"code": c.facility_code, "name": c.facility_name},
        "benefit_level": c.benefit_level,
        "benefit_percent": benefit_percent(c.benefit_level),
        "five_years_since": c.five_years_since,
    })
}

/// Validate one row (mapped to column names) into a card. What needs the other rows or the
/// stores (a code held by someone else, an ID number outside the population register) is
/// `import`'s.
pub fn validate_row(
    line: usize,
    get: impl Fn(&str) -> String,
    now: UnixTime,
) -> Result<InsuranceCardRecord, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut bad = |field: &str, rule: String| errs.push(FieldError::at(line, field, rule));
    let id = IdNumber::parse(&get("id_number"))
        .map_err(|e| bad("id_number", e.to_string()))
        .ok();
    let code = HealthInsuranceCode::parse(&get("card_code"))
        .map_err(|e| {
            bad(
                "card_code",
                e.to_string().replace("health_insurance_code", "card_code"),
            )
        })
        .ok();
    let mut date = |field: &str, required: bool| -> Option<String> {
        match opt(&get(field)) {
            None if required => {
                bad(field, format!("{field} is required (YYYY-MM-DD)"));
                None
            }
            None => None,
            Some(d) if parse_birth_date(&d).is_err() => {
                bad(
                    field,
                    format!("{field} must be a real date written YYYY-MM-DD"),
                );
                None
            }
            Some(d) => Some(d),
        }
    };
    let valid_from = date("valid_from", true);
    let valid_to = date("valid_to", true);
    let five_years_since = date("five_years_since", false);
    if let (Some(f), Some(t)) = (&valid_from, &valid_to)
        && f > t
    {
        bad("valid_to", "valid_to must not be before valid_from".into());
    }
    let facility_code = get("facility_code").trim().to_string();
    if !is_facility_code(&facility_code) {
        bad(
            "facility_code",
            "facility_code must be a facility code PP-NNN (e.g. 01-001)".into(),
        );
    }
    let facility_name = get("facility_name").trim().to_string();
    if facility_name.is_empty() || facility_name.chars().count() > 200 {
        bad(
            "facility_name",
            "facility_name must be 1-200 characters".into(),
        );
    }
    let level = get("benefit_level").trim().parse::<i64>().ok();
    match (level.and_then(benefit_percent).and(level), &code) {
        (None, _) => bad("benefit_level", "benefit_level must be a digit 1-5".into()),
        (Some(l), Some(c)) if i64::from(c.benefit_level()) != l => bad(
            "benefit_level",
            format!(
                "benefit_level {l} differs from the card code's benefit level digit {}",
                c.benefit_level()
            ),
        ),
        _ => {}
    }
    let status = get("status").trim().to_string();
    if !STATUSES.contains(&status.as_str()) {
        bad(
            "status",
            format!("status must be one of {}", STATUSES.join(", ")),
        );
    }
    let (Some(id), Some(code), Some(valid_from), Some(valid_to), Some(benefit_level)) =
        (id, code, valid_from, valid_to, level)
    else {
        return Err(errs);
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(InsuranceCardRecord {
        id_number: id.as_str().to_string(),
        card_code: code.as_str().to_string(),
        valid_from,
        valid_to,
        facility_code,
        facility_name,
        benefit_level,
        five_years_since,
        status,
        created_at: now,
        updated_at: now,
    })
}

/// Every fact of a card, hashed: two rows with the same facts are the same card.
pub fn content_hash(c: &InsuranceCardRecord) -> String {
    let doc = json!([
        c.id_number,
        c.card_code,
        c.valid_from,
        c.valid_to,
        c.facility_code,
        c.facility_name,
        c.benefit_level,
        c.five_years_since,
        c.status
    ]);
    crate::crypto::digest_hex_bytes(doc.to_string().as_bytes())
}
