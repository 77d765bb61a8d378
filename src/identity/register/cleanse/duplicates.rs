//! The same person under two ID numbers: the same folded name, birth date and sex (the
//! register's match key, re-checked on the fields), *and* a shared old CMND number or phone.
//! Name, birth date and sex alone are common enough to match strangers; what two records share
//! besides is the evidence, and sets the confidence.

use std::collections::HashMap;

use serde_json::json;

use super::{Check, Finding, Sink};
use crate::store::PersonRecord;
use crate::store::register::fold_name;

/// Confidence with a shared CMND and phone, a CMND only, a phone only.
pub const BOTH: f64 = 0.99;
pub const CMND: f64 = 0.95;
pub const PHONE: f64 = 0.8;

/// Groups of (match key, person) rows in key order, with the CMND numbers of their persons.
pub(super) fn judge(
    rows: Vec<(String, PersonRecord)>,
    cmnds: &HashMap<String, Vec<String>>,
    sink: Sink<'_>,
) {
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let people: Vec<&PersonRecord> = group.iter().map(|(_, p)| p).collect();
        for f in pairs(&people, cmnds) {
            sink(Check::DuplicatePerson, f);
        }
    }
}

/// Every pair of one match-key group that is the same person, with the evidence.
pub(super) fn pairs(
    people: &[&PersonRecord],
    cmnds: &HashMap<String, Vec<String>>,
) -> Vec<Finding> {
    let none = Vec::new();
    let mut out = Vec::new();
    for (i, a) in people.iter().enumerate() {
        for b in &people[i + 1..] {
            let same = fold_name(&a.full_name) == fold_name(&b.full_name)
                && a.birth_date == b.birth_date
                && a.sex == b.sex;
            if !same || a.id_number == b.id_number {
                continue;
            }
            let of = |p: &PersonRecord| cmnds.get(&p.id_number).unwrap_or(&none);
            let shared_cmnd: Vec<&String> = of(a).iter().filter(|c| of(b).contains(c)).collect();
            let shared_phone = a.phone.as_ref().filter(|p| b.phone.as_ref() == Some(*p));
            let confidence = match (!shared_cmnd.is_empty(), shared_phone.is_some()) {
                (true, true) => BOTH,
                (true, false) => CMND,
                (false, true) => PHONE,
                (false, false) => continue,
            };
            out.push(Finding {
                persons: vec![a.id_number.clone(), b.id_number.clone()],
                household_id: None,
                line: None,
                confidence: Some(confidence),
                evidence: json!({
                    "full_name": a.full_name,
                    "birth_date": a.birth_date,
                    "sex": a.sex,
                    "shared_cmnd": shared_cmnd,
                    "shared_phone": shared_phone,
                    "same_residence": a.residence.is_some() && a.residence == b.residence,
                }),
            });
        }
    }
    out
}
