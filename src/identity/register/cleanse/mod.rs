//! The register's cleansing report (issue #18): checks across records — the same person under
//! two ID numbers, old CMND numbers, households, deaths and expired cards, over-shared phones —
//! and four scores, correct (đúng), complete (đủ), clean (sạch), live (sống), with the counts
//! behind each.
//!
//! The checks read the register in two narrow scans and group it in memory (`scan`: a few
//! numbers per person, in passes above a million persons, so memory stays bounded whatever
//! the register's size); only the persons of suspect groups are read in full and judged
//! (`suspects`), one group at a time. An import runs them after its batches are written and
//! keeps the findings that name one of its rows (`file`): that covers the file against itself
//! and against the register already loaded. Row-level facts of the file (rejected rows, missing fields, no
//! CMND, expired cards) are tallied while it streams ([`FileTally`]).

mod aggregate;
mod checks;
mod cmnd;
mod duplicates;
mod households;
mod numbering;
mod phones;
mod scan;
mod score;
mod summary;
mod suspects;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

pub use checks::{CHECKS, Check, Quality};
pub use scan::PASS_PERSONS;
pub use score::{Score, Scores};
pub use summary::summary;

use serde_json::json;

use super::date_of;
use crate::clock::UnixTime;
use crate::identity::lifecycle::{self, LockReason};
use crate::store::{AliasRecord, Durable, PersonRecord, StoreError};

/// At most this many findings are listed per check (all are counted).
pub const LISTED: usize = 1_000;
/// A living Vietnamese national born on or before this day turned 14 by the end of 2015: old
/// enough to have been issued a 9-digit CMND (from 14, Decree 05/1999) before the 12-digit
/// CCCD replaced it in 2016.
pub const CMND_BORN_BY: &str = "2001-12-31";
/// Parents are at least this many birth years older than their children.
pub const GENERATION_YEARS: i64 = 12;
/// A household head is at least this old.
pub const HEAD_MIN_AGE: i64 = 15;
/// A spouse is at least this old.
pub const SPOUSE_MIN_AGE: i64 = 16;
/// An adult, for shared phones.
pub const ADULT_AGE: i64 = 18;

/// How to check.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A phone shared by at least this many adults of different households is reported.
    pub phone_threshold: usize,
    /// Persons one pass of the scans holds at most: fewer, less memory and more passes
    /// (each reads the persons again).
    pub pass_persons: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            phone_threshold: 5,
            pass_persons: scan::PASS_PERSONS,
        }
    }
}

/// One finding: who, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// ID numbers of the persons it names.
    pub persons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_id: Option<String>,
    /// The file's line, for row-level findings of an import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// How sure (0–1), where the finding is an inference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    pub evidence: serde_json::Value,
}

/// The findings of one check: how many, how many persons they name, the first [`LISTED`].
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Section {
    pub count: u64,
    pub persons: u64,
    pub listed: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanseReport {
    /// `file` (an import's rows) or `register` (everything on file).
    pub scope: &'static str,
    /// Rows of the file, or records of the register.
    pub records: u64,
    /// Every check by name, found or not.
    pub findings: BTreeMap<&'static str, Section>,
    pub scores: Scores,
    /// A suspect-group query hit its row bound: counts are at least these.
    pub truncated: bool,
}

/// What an import learnt row by row while streaming (see the module note).
#[derive(Debug, Default)]
pub struct FileTally {
    pub rows: u64,
    /// Rows rejected (invalid, or an ID number repeated in the file).
    pub rejected: u64,
    /// Valid rows of living persons without residence, household or relation.
    pub incomplete: u64,
    pub unlinked_cmnd: Section,
    pub expired_cards: Section,
    /// Accounts the import locked because the row records a death.
    pub deceased_locked: Section,
    /// The file's ID numbers (as numbers): a finding naming one is the file's.
    pub ids: HashSet<u64>,
}

/// The file's ID numbers for the report, sorted: the import needs a set it can add to as it
/// reads (a repeated ID number is refused on the spot), the report only asks whether a number
/// is the file's — and at a million rows the sorted numbers take 8 MB where the set took 19,
/// at the moment the report's scans need the most.
#[derive(Debug, Default)]
pub struct IdSet(Vec<u64>);

impl IdSet {
    pub fn contains(&self, n: &u64) -> bool {
        self.0.binary_search(n).is_ok()
    }
}

impl From<HashSet<u64>> for IdSet {
    fn from(set: HashSet<u64>) -> IdSet {
        let mut ids: Vec<u64> = set.into_iter().collect();
        ids.sort_unstable();
        IdSet(ids)
    }
}

impl FileTally {
    /// One valid row of a living person: what it says on its own (`today` as `YYYY-MM-DD`).
    pub fn note(&mut self, line: usize, p: &PersonRecord, aliases: &[AliasRecord], today: &str) {
        if p.deceased_on.is_some() {
            return;
        }
        if p.residence.is_none() || p.household_id.is_none() || p.household_relation.is_none() {
            self.incomplete += 1;
        }
        let has_cmnd = aliases.iter().any(|a| a.kind == "cmnd");
        if cmnd::unlinked_row(p, has_cmnd) {
            let f = cmnd::unlinked(p.id_number.clone(), Some(line));
            add_to(&mut self.unlinked_cmnd, f);
        }
        if p.card_expires_on.as_deref().is_some_and(|e| e < today) {
            add_to(
                &mut self.expired_cards,
                expired(p.id_number.clone(), Some(line)),
            );
        }
    }
}

/// Findings gathered for one scope, and the facts its scores need.
#[derive(Debug, Default)]
struct Gathered {
    findings: BTreeMap<&'static str, Section>,
    truncated: bool,
}

impl Gathered {
    fn new() -> Gathered {
        Gathered {
            findings: CHECKS
                .iter()
                .map(|c| (c.name(), Section::default()))
                .collect(),
            truncated: false,
        }
    }

    fn add(&mut self, check: Check, f: Finding) {
        add_to(self.findings.entry(check.name()).or_default(), f);
    }

    fn section(&mut self, check: Check) -> &mut Section {
        self.findings.entry(check.name()).or_default()
    }
}

pub(crate) fn add_to(s: &mut Section, f: Finding) {
    s.count += 1;
    s.persons += f.persons.len() as u64;
    if s.listed.len() < LISTED {
        s.listed.push(f);
    }
}

/// Dates the checks compare with, from `now`.
#[derive(Debug, Clone)]
pub(crate) struct Today {
    pub date: String,
}

impl Today {
    pub fn at(now: UnixTime) -> Today {
        Today { date: date_of(now) }
    }

    /// Born after this day: younger than `years` today.
    pub fn born_after(&self, years: i64) -> String {
        let year: i64 = self.date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        format!(
            "{:04}{}",
            year - years,
            self.date.get(4..).unwrap_or("-01-01")
        )
    }

    pub fn younger_than(&self, birth_date: &str, years: i64) -> bool {
        birth_date > self.born_after(years).as_str()
    }
}

/// Where findings go as the checks produce them.
pub(crate) type Sink<'a> = &'a mut (dyn FnMut(Check, Finding) + Send);

/// Run every cross-record check over the register, each finding into `sink` (the groups that
/// name one of `relevant`, where given); the register's counts, and whether a check had more
/// suspects than it reads.
async fn gather(
    db: &dyn Durable,
    opts: Options,
    today: &Today,
    relevant: Option<&IdSet>,
    sink: Sink<'_>,
) -> Result<(bool, scan::Counts), StoreError> {
    let expected = db.count_persons().await?;
    let of = expected.div_ceil(opts.pass_persons.max(1)).max(1);
    let (mut truncated, mut counts) = (false, scan::Counts::default());
    let mut cmnds = None;
    for index in 0..of {
        let pass = scan::Pass { index, of };
        let mut s = scan::scan(db, pass, expected, today, cmnds.take()).await?;
        if s.counts.missing_match_keys > 0 {
            db.fill_match_keys().await?;
            s = scan::scan(db, pass, expected, today, None).await?;
        }
        truncated |= suspects::judge_all(db, &mut s, opts, today, relevant, sink).await?;
        counts.merge(std::mem::take(&mut s.counts));
        cmnds = Some(s.into_cmnds());
    }
    Ok((truncated, counts))
}

/// `eidp admin citizens report`: the register as it stands. Accounts of the deceased that are
/// still open are locked (reason `deceased`, audited) and reported.
pub async fn register(
    db: &dyn Durable,
    opts: Options,
    now: UnixTime,
) -> Result<CleanseReport, StoreError> {
    let today = Today::at(now);
    let mut g = Gathered::new();
    let (truncated, counts) = gather(db, opts, &today, None, &mut |c, f| g.add(c, f)).await?;
    g.truncated = truncated;
    for id in db.deceased_with_open_account().await? {
        let locked = lifecycle::lock_from_register(db, &id, LockReason::Deceased, now).await?;
        g.add(Check::DeceasedActiveAccount, locked_finding(id, locked));
    }
    let s = g.section(Check::CmndUnlinked);
    (s.count, s.persons) = (counts.unlinked_cmnd, counts.unlinked_cmnd);
    s.listed = counts
        .unlinked_listed
        .into_iter()
        .map(|id| cmnd::unlinked(id, None))
        .collect();
    let s = g.section(Check::CardExpired);
    (s.count, s.persons) = (counts.expired_cards, counts.expired_cards);
    s.listed = counts
        .expired_listed
        .into_iter()
        .map(|id| expired(id, None))
        .collect();
    let scores = Scores::of(&g.findings, counts.persons, 0, counts.incomplete);
    Ok(CleanseReport {
        scope: "register",
        records: counts.persons,
        findings: g.findings,
        scores,
        truncated: g.truncated,
    })
}

/// After an import: the findings that name one of its rows, with its row-level tally.
pub async fn file(
    db: &dyn Durable,
    mut tally: FileTally,
    opts: Options,
    now: UnixTime,
) -> Result<CleanseReport, StoreError> {
    let today = Today::at(now);
    let mut g = Gathered::new();
    let ids = &IdSet::from(std::mem::take(&mut tally.ids));
    let (truncated, _) = gather(db, opts, &today, Some(ids), &mut |c, f| {
        let ours = f
            .persons
            .iter()
            .any(|p| p.parse::<u64>().is_ok_and(|n| ids.contains(&n)));
        if ours {
            g.add(c, f)
        }
    })
    .await?;
    g.truncated = truncated;
    *g.section(Check::CmndUnlinked) = tally.unlinked_cmnd;
    *g.section(Check::CardExpired) = tally.expired_cards;
    *g.section(Check::DeceasedActiveAccount) = tally.deceased_locked;
    let scores = Scores::of(&g.findings, tally.rows, tally.rejected, tally.incomplete);
    Ok(CleanseReport {
        scope: "file",
        records: tally.rows,
        findings: g.findings,
        scores,
        truncated: g.truncated,
    })
}

pub(crate) fn locked_finding(id: String, locked: bool) -> Finding {
    Finding {
        persons: vec![id],
        household_id: None,
        line: None,
        confidence: None,
        evidence: json!({"deceased": true, "account_locked": locked, "reason": "deceased"}),
    }
}

pub(crate) fn expired(id: String, line: Option<usize>) -> Finding {
    Finding {
        persons: vec![id],
        household_id: None,
        line,
        confidence: None,
        evidence: json!({"card_expired": true}),
    }
}
