//! What the look-ups left behind, read back from the audit log: a hospital's look-ups for
//! admins — each flagged when its operator has no matching officer record, or when it fell
//! in an hour unusually busy for that hospital — and a person's own, for their account page.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::clock::UnixTime;
use crate::identity::names;
use crate::store::insurance::Lookups;
use crate::store::{AuditRecord, Durable, StoreResult};

/// The hours a hospital's baseline is taken from.
pub const BASELINE_SECS: i64 = 7 * 24 * 3600;
/// An hour is unusual with more than this many times the baseline …
pub const UNUSUAL_FACTOR: i64 = 3;
/// … and at least this many look-ups above it (a quiet hospital's 2 → 7 is not a signal).
pub const UNUSUAL_MARGIN: i64 = 20;

/// The operator named no officer on record (by ID number).
pub const FLAG_NO_OFFICER: &str = "no_officer_record";
/// Officers hold the operator's ID number, under another name.
pub const FLAG_NAME_DIFFERS: &str = "officer_name_differs";
/// The look-up fell in an hour unusually busy for the hospital.
pub const FLAG_UNUSUAL_VOLUME: &str = "unusual_volume";

/// One look-up as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    pub lookup_id: String,
    pub at: UnixTime,
    pub client_id: String,
    pub operator_name: String,
    pub operator_id_number: String,
    pub facility: String,
    pub purpose: String,
    /// The patient as asked for: `{"id_number"}` or `{"card_code"}`.
    pub patient: Value,
    pub eligible: bool,
    pub reason: Option<String>,
    pub flags: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hour {
    pub start: UnixTime,
    pub count: i64,
}

/// A hospital's look-ups with their flags, and the hours that stood out.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub client_id: String,
    pub since: UnixTime,
    /// Median look-ups per busy hour over the week before.
    pub baseline_per_hour: i64,
    pub unusual_hours: Vec<Hour>,
    pub lookups: Vec<Lookup>,
}

fn lookup(r: &AuditRecord) -> Lookup {
    let d: Value = serde_json::from_str(&r.detail).unwrap_or_default();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Lookup {
        lookup_id: s(&d["lookup_id"]),
        at: r.at,
        client_id: r.client_id.clone().unwrap_or_default(),
        operator_name: s(&d["operator"]["name"]),
        operator_id_number: s(&d["operator"]["id_number"]),
        facility: s(&d["facility"]),
        purpose: s(&d["purpose"]),
        patient: d["patient"].clone(),
        eligible: d["eligible"].as_bool().unwrap_or(false),
        reason: d["reason"].as_str().map(String::from),
        flags: Vec::new(),
    }
}

/// The median of the busy hours' counts (the lower middle), 0 when there are none.
fn baseline(hours: &[(UnixTime, i64)]) -> i64 {
    let mut counts: Vec<i64> = hours.iter().map(|(_, n)| *n).collect();
    counts.sort_unstable();
    match counts.len() {
        0 => 0,
        n => counts[(n - 1) / 2],
    }
}

fn unusual(count: i64, baseline: i64) -> bool {
    count > (UNUSUAL_FACTOR * baseline).max(baseline + UNUSUAL_MARGIN)
}

/// A hospital's look-ups since `since`, newest first, flagged.
pub async fn for_client(
    db: &dyn Durable,
    client_id: &str,
    since: UnixTime,
    limit: i64,
    now: UnixTime,
) -> StoreResult<Listing> {
    let rows = db
        .insurance_lookups(Lookups::Client(client_id), since, limit)
        .await?;
    let hours = db
        .insurance_lookup_hours(client_id, since.min(now - BASELINE_SECS))
        .await?;
    let base = baseline(&hours);
    let unusual_hours: Vec<Hour> = hours
        .iter()
        .filter(|(start, n)| *start + 3600 > since && unusual(*n, base))
        .map(|&(start, count)| Hour { start, count })
        .collect();
    let mut officers: HashMap<String, Vec<String>> = HashMap::new();
    let mut lookups = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut l = lookup(r);
        if !officers.contains_key(&l.operator_id_number) {
            let names: Vec<String> = db
                .officers_with_id_number(&l.operator_id_number)
                .await?
                .into_iter()
                .map(|o| o.name)
                .collect();
            officers.insert(l.operator_id_number.clone(), names);
        }
        match officers.get(&l.operator_id_number).map(Vec::as_slice) {
            None | Some([]) => l.flags.push(FLAG_NO_OFFICER),
            Some(ns) if !ns.iter().any(|n| names::matches(n, &l.operator_name)) => {
                l.flags.push(FLAG_NAME_DIFFERS)
            }
            Some(_) => {}
        }
        let hour = r.at - r.at.rem_euclid(3600);
        if unusual_hours.iter().any(|h| h.start == hour) {
            l.flags.push(FLAG_UNUSUAL_VOLUME);
        }
        lookups.push(l);
    }
    Ok(Listing {
        client_id: client_id.into(),
        since,
        baseline_per_hour: base,
        unusual_hours,
        lookups,
    })
}

/// The look-ups of one person's insurance since `since`, newest first (for their account
/// page: which hospital, which operator, when, why).
pub async fn for_patient(
    db: &dyn Durable,
    id_number: &str,
    since: UnixTime,
    limit: i64,
) -> StoreResult<Vec<Lookup>> {
    let rows = db
        .insurance_lookups(Lookups::Patient(id_number), since, limit)
        .await?;
    Ok(rows.iter().map(lookup).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_hour_stands_out_from_the_median() {
        let hours = [(0, 2), (3600, 3), (7200, 2), (10_800, 50)];
        let b = baseline(&hours);
        assert_eq!(b, 2);
        assert!(unusual(50, b));
        assert!(!unusual(20, b), "within the margin");
        assert!(!unusual(300, 120), "a busy hospital at 2.5× its usual");
        assert!(unusual(400, 120));
        assert_eq!(baseline(&[]), 0);
    }
}
