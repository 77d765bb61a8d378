//! The population register: records loaded from CSV files, validated field by field, and
//! kept "correct, complete, clean, live" — a re-import updates records, and deaths or expired
//! cards in the register lock the matching accounts automatically.

use serde::Serialize;

use super::accounts::{normalize_phone, parse_birth_date};
use super::id_number::{HealthInsuranceCode, IdNumber, Sex, parse_legacy_cmnd, province_name_for};
use super::{lifecycle, names};
use crate::clock::UnixTime;
use crate::store::{AliasRecord, Durable, PersonRecord, StoreError};

pub const COLUMNS: [&str; 15] = [
    "id_number",
    "full_name",
    "birth_date",
    "sex",
    "nationality",
    "birth_place",
    "residence",
    "household_id",
    "household_relation",
    "phone",
    "email",
    "cmnd",
    "bhyt",
    "card_expires_on",
    "deceased_on",
];

pub const RELATIONS: [&str; 5] = ["head", "spouse", "child", "parent", "other"];

/// One field that broke one rule, reported with its CSV line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub line: usize,
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn at(line: usize, field: &str, rule: String) -> FieldError {
        FieldError {
            line,
            field: field.into(),
            rule,
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    /// Nothing was written: the counts say what an import would do.
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub updated: usize,
    /// Rows whose record is on file with the same content: not written.
    pub unchanged: usize,
    /// The first [`import::LISTED`] repeats and rejections, with line and reason; the counts
    /// are of all.
    pub duplicates: Vec<FieldError>,
    pub duplicates_count: usize,
    pub invalid: Vec<FieldError>,
    pub invalid_count: usize,
    /// ID numbers whose accounts were locked because the register says so.
    pub locked: Vec<String>,
    /// Those of them locked because the row records a death.
    #[serde(skip)]
    pub locked_deceased: Vec<String>,
    /// The cleansing report on the file's rows (not on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleansing: Option<cleanse::CleanseReport>,
}

/// RFC 4180 fields of one line (quotes, doubled quotes, commas inside quotes).
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A trimmed cell, `None` when empty.
pub(crate) fn opt(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Validate one row (already split and mapped to column names) into a record and its aliases.
pub fn validate_row(
    line: usize,
    get: impl Fn(&str) -> String,
    now: UnixTime,
) -> Result<(PersonRecord, Vec<AliasRecord>), Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut bad = |field: &str, rule: String| errs.push(FieldError::at(line, field, rule));
    let id = IdNumber::parse(&get("id_number"))
        .map_err(|e| bad("id_number", e.to_string()))
        .ok();
    let full_name = names::check(&get("full_name"))
        .map_err(|r| bad("full_name", format!("full_name {r}")))
        .ok();
    let birth_date = get("birth_date").trim().to_string();
    let year = parse_birth_date(&birth_date)
        .map_err(|e| bad("birth_date", e.to_string()))
        .ok();
    let sex = match get("sex").trim() {
        "" => id.as_ref().map(|i| i.sex()),
        s => Sex::parse(s).or_else(|| {
            bad("sex", "sex must be male or female".into());
            None
        }),
    };
    if let (Some(id), Some(year), Some(sex)) = (&id, year, sex)
        && let Err(e) = id.check_consistency(year, sex)
    {
        bad("id_number", e.to_string());
    }
    let nationality = opt(&get("nationality")).unwrap_or_else(|| "VN".into());
    if nationality.len() != 2 || !nationality.bytes().all(|b| b.is_ascii_uppercase()) {
        bad(
            "nationality",
            "nationality must be an ISO 3166 two-letter code".into(),
        );
    }
    let birth_place = opt(&get("birth_place"));
    if let (Some(bp), Some(id)) = (&birth_place, &id)
        && (province_name_for(bp).is_none() || bp != id.province_code())
    {
        bad(
            "birth_place",
            "birth_place must be the ID number's birth-registration province code".into(),
        );
    }
    let relation = opt(&get("household_relation"));
    if relation.as_deref().is_some_and(|r| !RELATIONS.contains(&r)) {
        bad(
            "household_relation",
            format!("household_relation must be one of {}", RELATIONS.join(", ")),
        );
    }
    let phone = opt(&get("phone")).and_then(|p| {
        normalize_phone(&p)
            .map_err(|e| bad("phone", e.to_string()))
            .ok()
    });
    let email = opt(&get("email"));
    if email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.contains(' '))
    {
        bad(
            "email",
            "email must be an address like name@example.vn".into(),
        );
    }
    let mut aliases = Vec::new();
    for (kind, raw) in [("cmnd", get("cmnd")), ("bhyt", get("bhyt"))] {
        let Some(v) = opt(&raw) else { continue };
        let parsed = if kind == "cmnd" {
            parse_legacy_cmnd(&v).map_err(|e| e.to_string())
        } else {
            HealthInsuranceCode::parse(&v)
                .map(|c| c.as_str().to_string())
                .map_err(|e| e.to_string())
        };
        match (parsed, &id) {
            (Ok(value), Some(id)) => aliases.push(AliasRecord {
                kind: kind.into(),
                value,
                id_number: id.as_str().into(),
            }),
            (Ok(_), None) => {}
            (Err(e), _) => bad(kind, e),
        }
    }
    for field in ["card_expires_on", "deceased_on"] {
        if let Some(d) = opt(&get(field))
            && parse_birth_date(&d).is_err()
        {
            bad(
                field,
                format!("{field} must be a real date written YYYY-MM-DD"),
            );
        }
    }
    let (Some(id), Some(full_name), Some(sex)) = (id, full_name, sex) else {
        return Err(errs);
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok((
        PersonRecord {
            id_number: id.as_str().to_string(),
            full_name,
            birth_date,
            sex: sex.as_str().into(),
            nationality,
            phone,
            email,
            residence: opt(&get("residence")),
            birth_place: birth_place.or_else(|| Some(id.province_code().to_string())),
            household_id: opt(&get("household_id")),
            household_relation: relation,
            card_expires_on: opt(&get("card_expires_on")),
            deceased_on: opt(&get("deceased_on")),
            created_at: now,
            updated_at: now,
        },
        aliases,
    ))
}

/// `today` as `YYYY-MM-DD` (for card expiry), from `now`.
pub fn date_of(now: UnixTime) -> String {
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = now.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Load a register CSV (header naming the columns in any order). Valid rows are written;
/// every problem is reported with its line and field; nothing is half-written per row.
/// One row of a register file: its line number and the record with its aliases, or what is
/// wrong with it.
pub type Row = Result<(usize, (PersonRecord, Vec<AliasRecord>)), Vec<FieldError>>;
/// One row validated: the record and its aliases, or what is wrong with it.
pub type RowResult = Result<(PersonRecord, Vec<AliasRecord>), Vec<FieldError>>;

/// A register file's rows, each validated on its own: its line number and the record with
/// its aliases, or what is wrong with it. Pure, so every rule runs on untrusted input alone
/// (and is fuzzed as such); blank lines are skipped and the first line names the columns.
pub fn rows(csv: &str, now: UnixTime) -> impl Iterator<Item = Row> + '_ {
    let mut lines = csv
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(|(_, h)| {
            split_csv_line(h)
                .into_iter()
                .map(|h| h.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    lines.map(move |(i, line)| import::csv_row(&header, line, i + 1, now).map(|ok| (i + 1, ok)))
}

/// Import a whole CSV text (see [`import::import_stream`]).
pub async fn import(
    db: &dyn Durable,
    csv: &str,
    now: UnixTime,
) -> Result<ImportReport, StoreError> {
    let opts = import::Options {
        format: import::Format::Csv,
        dry_run: false,
        actor: "register",
        progress: &mut |_, _| {},
        cleanse: None,
        alone: false,
    };
    import::import_stream(db, csv.as_bytes(), opts, now)
        .await
        .map_err(|e| match e {
            import::ImportError::Store(e) => e,
            import::ImportError::Read(e) => StoreError::Other(e.to_string()),
        })
}

pub mod cleanse;
pub mod import;
#[cfg(test)]
mod tests;
