//! One phone number shared by many unrelated adults: a sign of SIM cards registered by an
//! agent in other people's names. Unrelated: not of the same household (a person without a
//! household is a household of one); adults: living and at least [`ADULT_AGE`].

use std::collections::HashSet;

use serde_json::json;

use super::{ADULT_AGE, Check, Finding, Sink, Today};
use crate::store::PersonRecord;

/// Groups of (phone, person) rows in phone order.
pub(super) fn judge(
    rows: Vec<(String, PersonRecord)>,
    threshold: usize,
    today: &Today,
    sink: Sink<'_>,
) {
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let people: Vec<&PersonRecord> = group.iter().map(|(_, p)| p).collect();
        if let Some(f) = shared(&group[0].0, &people, threshold, today) {
            sink(Check::PhoneShared, f);
        }
    }
}

pub(super) fn shared(
    phone: &str,
    people: &[&PersonRecord],
    threshold: usize,
    today: &Today,
) -> Option<Finding> {
    let adults: Vec<&&PersonRecord> = people
        .iter()
        .filter(|p| p.deceased_on.is_none() && !today.younger_than(&p.birth_date, ADULT_AGE))
        .collect();
    let households: HashSet<&str> = adults
        .iter()
        .map(|p| p.household_id.as_deref().unwrap_or(p.id_number.as_str()))
        .collect();
    (households.len() >= threshold).then(|| Finding {
        persons: adults.iter().map(|p| p.id_number.clone()).collect(),
        household_id: None,
        line: None,
        confidence: None,
        evidence: json!({"phone": phone, "adults": adults.len(),
                         "households": households.len(), "threshold": threshold}),
    })
}
