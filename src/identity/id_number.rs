//! The personal ID number (số định danh cá nhân) and the identifiers that alias it.
//!
//! This module owns the shape rules for the 12-digit number `PPP G YY RRRRRR` laid down by
//! Circular 07/2016/TT-BCA: `PPP` is the province of *birth registration* (one of the 63 codes in
//! `province-codes.csv`, still valid after the 2025 merger), `G` encodes century and sex, `YY` the
//! last two digits of the birth year, `RRRRRR` is random. There is no check digit, so the province
//! table and the consistency with date of birth and sex are the only checks available.
//! It also validates the legacy aliases kept for record linking: the old CMND (9 or 12 digits)
//! and the 15-character health-insurance (BHYT) code.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// Embedded so that validation never depends on the working directory or a deploy step.
static PROVINCES: LazyLock<BTreeMap<&'static str, &'static str>> = LazyLock::new(|| {
    include_str!("province-codes.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let code = fields.next()?.trim();
            let name = fields.next()?.trim();
            (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
                .then_some((code, name))
        })
        .collect()
});

/// Name of a birth-registration province code of Circular 07/2016, e.g. `"001"` → `"Hà Nội"`.
pub fn province_name_for(code: &str) -> Option<&'static str> {
    PROVINCES.get(code).copied()
}

/// All 63 (code, name) pairs in code order; synthetic register generators draw from this.
pub fn provinces() -> impl Iterator<Item = (&'static str, &'static str)> {
    PROVINCES.iter().map(|(code, name)| (*code, *name))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Exact lowercase match only: these are our own wire values, not free text.
    pub fn parse(s: &str) -> Option<Sex> {
        match s {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error type for all three identifiers so the HTTP layer maps a single type; the message
/// names the form field and the rule, and [`IdNumberError::code`] is the stable machine form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdNumberError {
    Length { found: usize },
    NonDigit { position: usize, found: char },
    UnknownProvince { code: String },
    CenturyMismatch { expected_year: u16, digit: u8 },
    BirthYearMismatch { expected_year: u16, digits: u8 },
    SexMismatch { expected: Sex, digit: u8 },
    BirthYearOutOfRange { year: u16 },
    SerialOutOfRange { found: u32 },
    LegacyCmndLength { found: usize },
    LegacyCmndNonDigit { position: usize, found: char },
    HealthInsuranceLength { found: usize },
    HealthInsuranceGroup { position: usize, found: char },
    HealthInsuranceBenefitLevel { found: char },
    HealthInsuranceNonDigit { position: usize, found: char },
}

impl IdNumberError {
    /// Stable machine code for API error bodies and metrics; never change an existing value.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "length",
            Self::NonDigit { .. } => "non_digit",
            Self::UnknownProvince { .. } => "unknown_province",
            Self::CenturyMismatch { .. } => "century_mismatch",
            Self::BirthYearMismatch { .. } => "birth_year_mismatch",
            Self::SexMismatch { .. } => "sex_mismatch",
            Self::BirthYearOutOfRange { .. } => "birth_year_out_of_range",
            Self::SerialOutOfRange { .. } => "serial_out_of_range",
            Self::LegacyCmndLength { .. } => "legacy_cmnd_length",
            Self::LegacyCmndNonDigit { .. } => "legacy_cmnd_non_digit",
            Self::HealthInsuranceLength { .. } => "health_insurance_length",
            Self::HealthInsuranceGroup { .. } => "health_insurance_group",
            Self::HealthInsuranceBenefitLevel { .. } => "health_insurance_benefit_level",
            Self::HealthInsuranceNonDigit { .. } => "health_insurance_non_digit",
        }
    }
}

impl fmt::Display for IdNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { found } => {
                write!(f, "id_number must be exactly 12 digits (found {found})")
            }
            Self::NonDigit { position, found } => write!(
                f,
                "id_number must contain only digits 0-9 (found {found:?} at position {position})"
            ),
            Self::UnknownProvince { code } => write!(
                f,
                "id_number: province code {code} is not a birth-registration province code (Circular 07/2016)"
            ),
            Self::CenturyMismatch {
                expected_year,
                digit,
            } => {
                let start = century_start(*digit);
                write!(
                    f,
                    "id_number: century/sex digit {digit} denotes birth in {start}-{}, but birth year is {expected_year}",
                    start + 99
                )
            }
            Self::BirthYearMismatch {
                expected_year,
                digits,
            } => write!(
                f,
                "id_number: birth-year digits {digits:02} do not match birth year {expected_year}"
            ),
            Self::SexMismatch { expected, digit } => write!(
                f,
                "id_number: century/sex digit {digit} denotes {}, but sex is {expected}",
                sex_of(*digit)
            ),
            Self::BirthYearOutOfRange { year } => write!(
                f,
                "id_number: birth year {year} cannot be encoded (the century/sex digit covers 1900-2399)"
            ),
            Self::SerialOutOfRange { found } => {
                write!(
                    f,
                    "id_number: random serial must be 0-999999 (found {found})"
                )
            }
            Self::LegacyCmndLength { found } => {
                write!(f, "legacy_cmnd must be 9 or 12 digits (found {found})")
            }
            Self::LegacyCmndNonDigit { position, found } => write!(
                f,
                "legacy_cmnd must contain only digits 0-9 (found {found:?} at position {position})"
            ),
            Self::HealthInsuranceLength { found } => write!(
                f,
                "health_insurance_code must be exactly 15 characters (found {found})"
            ),
            Self::HealthInsuranceGroup { position, found } => write!(
                f,
                "health_insurance_code: characters 1-2 (beneficiary group) must be uppercase letters A-Z (found {found:?} at position {position})"
            ),
            Self::HealthInsuranceBenefitLevel { found } => write!(
                f,
                "health_insurance_code: character 3 (benefit level) must be a digit 1-5 (found {found:?})"
            ),
            Self::HealthInsuranceNonDigit { position, found } => write!(
                f,
                "health_insurance_code: characters 4-15 (province and social-insurance code) must be digits 0-9 (found {found:?} at position {position})"
            ),
        }
    }
}

impl std::error::Error for IdNumberError {}

fn century_start(g: u8) -> u16 {
    1900 + 100 * u16::from(g / 2)
}

fn sex_of(g: u8) -> Sex {
    if g.is_multiple_of(2) {
        Sex::Male
    } else {
        Sex::Female
    }
}

/// First non-ASCII-digit as (1-based char position, char). Full-width or other Unicode digits
/// count as non-digits: the number is stored and compared byte-for-byte.
fn first_non_digit(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
        .map(|(i, c)| (i + 1, c))
}

/// A validated personal ID number: 12 ASCII digits with a known birth-registration province.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Only surrounding whitespace is removed; anything else (inner spaces, dashes, full-width
    /// digits) is rejected rather than repaired, so a stored number is always what was typed.
    pub fn parse(s: &str) -> Result<IdNumber, IdNumberError> {
        let s = s.trim();
        if let Some((position, found)) = first_non_digit(s) {
            return Err(IdNumberError::NonDigit { position, found });
        }
        if s.len() != 12 {
            return Err(IdNumberError::Length { found: s.len() });
        }
        let code = s.get(..3).unwrap_or_default();
        if province_name_for(code).is_none() {
            return Err(IdNumberError::UnknownProvince {
                code: code.to_owned(),
            });
        }
        Ok(IdNumber(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    // The invariant guarantees 12 ASCII digits; the fallbacks only keep this panic-free.
    fn digit(&self, i: usize) -> u8 {
        self.0.as_bytes().get(i).map_or(0, |b| b.wrapping_sub(b'0'))
    }

    pub fn province_code(&self) -> &str {
        self.0.get(..3).unwrap_or_default()
    }

    pub fn province_name(&self) -> &'static str {
        province_name_for(self.province_code()).unwrap_or_default()
    }

    pub fn sex(&self) -> Sex {
        sex_of(self.digit(3))
    }

    pub fn birth_century_start(&self) -> u16 {
        century_start(self.digit(3))
    }

    pub fn birth_year(&self) -> u16 {
        self.birth_century_start() + u16::from(self.digit(4) * 10 + self.digit(5))
    }

    /// Checks G and YY against register facts; century is checked first because a wrong
    /// century makes the YY and sex comparisons meaningless to report.
    pub fn check_consistency(&self, birth_year: u16, sex: Sex) -> Result<(), IdNumberError> {
        let g = self.digit(3);
        let start = century_start(g);
        if !(start..start + 100).contains(&birth_year) {
            return Err(IdNumberError::CenturyMismatch {
                expected_year: birth_year,
                digit: g,
            });
        }
        if self.birth_year() != birth_year {
            let digits = self.digit(4) * 10 + self.digit(5);
            return Err(IdNumberError::BirthYearMismatch {
                expected_year: birth_year,
                digits,
            });
        }
        if self.sex() != sex {
            return Err(IdNumberError::SexMismatch {
                expected: sex,
                digit: g,
            });
        }
        Ok(())
    }
}

/// Builds a valid number; `random6` is rejected rather than reduced modulo 10^6 so a caller's
/// off-by-one shows up instead of silently colliding with another serial.
pub fn make(
    province: &str,
    birth_year: u16,
    sex: Sex,
    random6: u32,
) -> Result<IdNumber, IdNumberError> {
    if province_name_for(province).is_none() {
        return Err(IdNumberError::UnknownProvince {
            code: province.to_owned(),
        });
    }
    if !(1900..2400).contains(&birth_year) {
        return Err(IdNumberError::BirthYearOutOfRange { year: birth_year });
    }
    if random6 > 999_999 {
        return Err(IdNumberError::SerialOutOfRange { found: random6 });
    }
    let g = (birth_year - 1900) / 100 * 2 + u16::from(sex == Sex::Female);
    IdNumber::parse(&format!("{province}{g}{:02}{random6:06}", birth_year % 100))
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masked so that `{:?}` in logs and panics never carries a full personal identifier.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IdNumber({}*******{})",
            self.province_code(),
            self.0.get(10..).unwrap_or_default()
        )
    }
}

impl FromStr for IdNumber {
    type Err = IdNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

/// Old CMND numbers are a search alias only; the 9-digit prefix names the issuing police, not a
/// birth province, and some were issued twice, so only the shape can be checked.
pub fn parse_legacy_cmnd(s: &str) -> Result<String, IdNumberError> {
    let s = s.trim();
    if let Some((position, found)) = first_non_digit(s) {
        return Err(IdNumberError::LegacyCmndNonDigit { position, found });
    }
    if s.len() != 9 && s.len() != 12 {
        return Err(IdNumberError::LegacyCmndLength { found: s.len() });
    }
    Ok(s.to_owned())
}

/// Legacy 15-character BHYT code `XX N PP DDDDDDDDDD`, kept as an alias after 08/2025.
/// The 2-digit province is not checked against a table: the regex is the only published rule.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HealthInsuranceCode(String);

impl HealthInsuranceCode {
    /// Same policy as [`IdNumber::parse`]: trim only, no case folding.
    pub fn parse(s: &str) -> Result<HealthInsuranceCode, IdNumberError> {
        let s = s.trim();
        let found = s.chars().count();
        if found != 15 {
            return Err(IdNumberError::HealthInsuranceLength { found });
        }
        for (i, c) in s.chars().enumerate() {
            let position = i + 1;
            match position {
                1 | 2 if !c.is_ascii_uppercase() => {
                    return Err(IdNumberError::HealthInsuranceGroup { position, found: c });
                }
                3 if !('1'..='5').contains(&c) => {
                    return Err(IdNumberError::HealthInsuranceBenefitLevel { found: c });
                }
                4.. if !c.is_ascii_digit() => {
                    return Err(IdNumberError::HealthInsuranceNonDigit { position, found: c });
                }
                _ => {}
            }
        }
        Ok(HealthInsuranceCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn group(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }

    pub fn benefit_level(&self) -> u8 {
        self.0.as_bytes().get(2).map_or(0, |b| b.wrapping_sub(b'0'))
    }

    pub fn province(&self) -> &str {
        self.0.get(3..5).unwrap_or_default()
    }

    pub fn social_insurance_code(&self) -> &str {
        self.0.get(5..).unwrap_or_default()
    }
}

impl fmt::Display for HealthInsuranceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masked for the same reason as `IdNumber`: the social-insurance code identifies a person.
impl fmt::Debug for HealthInsuranceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.0.get(..5).unwrap_or_default();
        let tail = self.0.get(13..).unwrap_or_default();
        write!(f, "HealthInsuranceCode({head}********{tail})")
    }
}

impl FromStr for HealthInsuranceCode {
    type Err = IdNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HealthInsuranceCode::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
