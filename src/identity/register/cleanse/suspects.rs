//! From a pass's groups to findings: the persons of suspect groups are read in full, put in
//! group order, and judged by the check that owns the rule.

use std::collections::{HashMap, HashSet};

use super::scan::{Scanned, groups};
use super::{Check, IdSet, Options, Sink, Today, cmnd, duplicates, households, phones};
use crate::store::register::SUSPECT_ROWS;
use crate::store::{Durable, PersonRecord, StoreError};

/// The full records of the persons `rows` name, by ID number.
async fn records(
    db: &dyn Durable,
    s: &Scanned,
    rows: &[(u64, u64)],
) -> Result<HashMap<String, PersonRecord>, StoreError> {
    let mut ids: Vec<String> = rows.iter().map(|(_, n)| s.ids.text(*n)).collect();
    ids.sort_unstable();
    ids.dedup();
    let found = db.persons_by_ids(&ids).await?;
    Ok(found
        .into_iter()
        .map(|p| (p.id_number.clone(), p))
        .collect())
}

/// `rows` (key, person) in their order, each with its record and the key as text.
fn keyed(
    s: &Scanned,
    rows: &[(u64, u64)],
    mut found: HashMap<String, PersonRecord>,
    key: impl Fn(u64, &PersonRecord) -> Option<String>,
) -> Vec<(String, PersonRecord)> {
    rows.iter()
        .filter_map(|(k, n)| {
            let p = found.remove(&s.ids.text(*n))?;
            Some((key(*k, &p)?, p))
        })
        .collect()
}

/// The CMND numbers of `wanted` persons, sorted, from the scan's (person, number) list.
fn cmnds_of(s: &Scanned, wanted: &HashSet<u64>) -> HashMap<String, Vec<String>> {
    wanted
        .iter()
        .map(|&n| (s.ids.text(n), s.cmnds_of(n)))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Judge every check on one pass; whether a check had more suspects than it reads.
pub(super) async fn judge_all(
    db: &dyn Durable,
    s: &mut Scanned,
    opts: Options,
    today: &Today,
    relevant: Option<&IdSet>,
    sink: Sink<'_>,
) -> Result<bool, StoreError> {
    let (same, t1) = s.same_person_groups(relevant, SUSPECT_ROWS);
    let (held, t2) = groups(&mut std::mem::take(&mut s.cmnds), 2, relevant, SUSPECT_ROWS);
    let mut truncated = t1 || t2;
    let wanted: HashSet<u64> = same.iter().chain(&held).map(|(_, n)| *n).collect();
    let cmnds = cmnds_of(s, &wanted);

    let found = records(db, s, &same).await?;
    let same_key = keyed(s, &same, found, |k, _| {
        Some(i64::from_ne_bytes(k.to_ne_bytes()).to_string())
    });
    duplicates::judge(same_key, &cmnds, sink);

    judge_cmnd(db, s, &held, &cmnds, sink).await?;

    let (rows, t) = s.suspect_households(today, relevant, SUSPECT_ROWS);
    truncated |= t;
    // A few thousand members at a time, whole households each (records are ~1 KB).
    for part in rows
        .chunk_by(|a, b| a.0 == b.0)
        .collect::<Vec<_>>()
        .chunks(1_000)
    {
        let part: Vec<(u64, u64)> = part.iter().flat_map(|g| g.iter().copied()).collect();
        let mut members: Vec<PersonRecord> = records(db, s, &part).await?.into_values().collect();
        members.sort_unstable_by(|a, b| {
            (&a.household_id, &a.id_number).cmp(&(&b.household_id, &b.id_number))
        });
        households::judge(members, today, sink);
    }
    for id in std::mem::take(&mut s.counts.heads_without_household) {
        sink(Check::HouseholdHeadNotMember, households::no_household(id));
    }

    let threshold = opts.phone_threshold.max(2);
    let (rows, t) = s.shared_phones(threshold, relevant, SUSPECT_ROWS);
    truncated |= t;
    let found = records(db, s, &rows).await?;
    let mut shared = keyed(s, &rows, found, |_, p| p.phone.clone());
    // Grouped by the number itself (hash order kept groups together, not numbers apart).
    shared.sort_by(|a, b| (&a.0, &a.1.id_number).cmp(&(&b.0, &b.1.id_number)));
    phones::judge(shared, threshold, today, sink);
    Ok(truncated)
}

/// CMND numbers held by several persons: `rows` are grouped by the number; a person's numbers
/// (`cmnds`) name which of their numbers put them in a group.
async fn judge_cmnd(
    db: &dyn Durable,
    s: &Scanned,
    rows: &[(u64, u64)],
    cmnds: &HashMap<String, Vec<String>>,
    sink: Sink<'_>,
) -> Result<(), StoreError> {
    let numbers: HashSet<u64> = rows.iter().map(|(c, _)| *c).collect();
    let found = records(db, s, rows).await?;
    let mut held: Vec<(String, PersonRecord)> = Vec::new();
    for (id, p) in &found {
        for value in cmnds.get(id).into_iter().flatten() {
            if s.values.code(value).is_some_and(|c| numbers.contains(&c)) {
                held.push((value.clone(), p.clone()));
            }
        }
    }
    held.sort_by(|a, b| (&a.0, &a.1.id_number).cmp(&(&b.0, &b.1.id_number)));
    cmnd::judge_shared(held, sink);
    Ok(())
}
