//! The register read whole but narrow: one scan of the CMND aliases and one of the persons,
//! keeping per person only numbers — the ID number, its match key, hashes of its phone and
//! household, a household's aggregate — so grouping a million records is a sort in memory
//! (~100 bytes a person), not a `GROUP BY` per check that builds a temporary B-tree on disk.
//! Only the persons of *suspect* groups are then read in full and judged.
//!
//! Memory stays bounded on a register of any size: above [`PASS_PERSONS`] the scans run in
//! passes, each keeping the groups whose key hashes to it (a group is never split).

use std::collections::{HashMap, HashSet};

use super::aggregate::{Bounds, Household};
use super::numbering::{Ids, Values};
use super::{ADULT_AGE, CMND_BORN_BY, HEAD_MIN_AGE, IdSet, LISTED, SPOUSE_MIN_AGE, Today};
use crate::store::register::ScanRow;
use crate::store::{Durable, StoreError};

/// Persons one pass holds at most.
pub const PASS_PERSONS: u64 = 600_000;

/// Which share of the key space a pass keeps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pass {
    pub index: u64,
    pub of: u64,
}

impl Pass {
    fn mine(self, hash: u64) -> bool {
        mix(hash) % self.of == self.index
    }

    fn first(self) -> bool {
        self.index == 0
    }
}

/// FNV-1a: a text key as a number (collisions only merge groups; the judging compares the
/// fields themselves).
pub(super) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Spreads a key over the passes (ID numbers and match keys are not uniform in their low bits).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

/// `YYYY-MM-DD` as `YYYYMMDD`; `None` when it is not a date of that shape.
fn ymd(date: &str) -> Option<u32> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
        .then(|| Some(digits(0..4)? * 10_000 + digits(5..7)? * 100 + digits(8..10)?))
        .flatten()
}

/// Facts over every person, for the register's scores (the first pass gathers them, except
/// the unlinked CMND numbers, which each pass adds to for its share of ID numbers).
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub persons: u64,
    pub deceased: u64,
    pub incomplete: u64,
    pub unlinked_cmnd: u64,
    /// The first [`LISTED`] of them.
    pub unlinked_listed: Vec<String>,
    pub expired_cards: u64,
    pub expired_listed: Vec<String>,
    pub heads_without_household: Vec<String>,
    /// Records written before match keys existed (the scan is run again after filling them).
    pub missing_match_keys: u64,
}

impl Counts {
    /// Another pass's counts added to the first's.
    pub fn merge(&mut self, other: Counts) {
        self.persons += other.persons;
        self.deceased += other.deceased;
        self.incomplete += other.incomplete;
        self.unlinked_cmnd += other.unlinked_cmnd;
        let room = LISTED.saturating_sub(self.unlinked_listed.len());
        self.unlinked_listed
            .extend(other.unlinked_listed.into_iter().take(room));
        self.expired_cards += other.expired_cards;
        let room = LISTED.saturating_sub(self.expired_listed.len());
        self.expired_listed
            .extend(other.expired_listed.into_iter().take(room));
        self.heads_without_household
            .extend(other.heads_without_household);
    }
}

fn list(to: &mut Vec<String>, id: &str) {
    if to.len() < LISTED {
        to.push(id.to_string());
    }
}

/// One pass over the register: its keys, sorted into groups by [`Scanned::suspects`].
#[derive(Default)]
pub(super) struct Scanned {
    pub ids: Ids,
    /// (match key, person, phone's hash or 0).
    match_keys: Vec<(u64, u64, u64)>,
    /// (person, CMND number) of every CMND alias — all, whatever the pass: the same-person
    /// check asks for the CMND numbers of any person.
    cmnd_by_person: Vec<(u64, u64)>,
    /// The CMND numbers' texts (see [`Values`]).
    pub values: Values,
    /// (phone's hash, person, household's hash — or the person's, alone) of living adults:
    /// the only persons `phones` counts.
    phones: Vec<(u64, u64, u64)>,
    pub cmnds: Vec<(u64, u64)>,
    members: Vec<(u64, u64)>,
    households: HashMap<u64, Household>,
    pub counts: Counts,
}

/// Every CMND alias as a pass reads it, kept for the next pass: the same for all of them (the
/// ID numbers' numbering with it), so the aliases are read once, not once per pass.
pub(super) struct Cmnds {
    ids: Ids,
    values: Values,
    by_person: Vec<(u64, u64)>,
}

impl Scanned {
    /// What the next pass can take over instead of reading the aliases again.
    pub fn into_cmnds(self) -> Cmnds {
        Cmnds {
            ids: self.ids,
            values: self.values,
            by_person: self.cmnd_by_person,
        }
    }

    /// The CMND numbers of person `n`, sorted.
    pub fn cmnds_of(&self, n: u64) -> Vec<String> {
        let mut v: Vec<String> = cmnd_numbers(&self.cmnd_by_person, n)
            .map(|c| self.values.text(c))
            .collect();
        v.sort_unstable();
        v
    }
}

/// Read one pass of the register (see the module note), the CMND aliases from the pass
/// before where there was one.
pub(super) async fn scan(
    db: &dyn Durable,
    pass: Pass,
    expected: u64,
    today: &Today,
    before: Option<Cmnds>,
) -> Result<Scanned, StoreError> {
    let mut s = Scanned::default();
    let room = usize::try_from(expected / pass.of + expected / pass.of / 8).unwrap_or(0);
    match before {
        Some(c) => {
            s.cmnds = (c.by_person.iter())
                .filter(|(_, h)| pass.mine(*h))
                .map(|&(n, h)| (h, n))
                .collect();
            (s.ids, s.values, s.cmnd_by_person) = (c.ids, c.values, c.by_person);
        }
        None => {
            db.scan_cmnd(&mut |(id, value): (String, String)| {
                let n = s.ids.num(&id);
                let h = s.values.num(&value);
                if pass.mine(h) {
                    s.cmnds.push((h, n));
                }
                s.cmnd_by_person.push((n, h));
            })
            .await?;
            s.cmnd_by_person.sort_unstable();
        }
    }
    let with_cmnd = std::mem::take(&mut s.cmnd_by_person);
    s.match_keys.reserve(room);
    s.members.reserve(room);
    let adult_by = today.born_after(ADULT_AGE);
    db.scan_persons(&mut |r: ScanRow<'_>| {
        let n = s.ids.num(r.id_number);
        let birth = ymd(r.birth_date);
        if pass.first() {
            tally(&mut s.counts, &r, &today.date);
        }
        // As `cmnd::unlinked_row`, on the scan's columns.
        if pass.mine(n)
            && !r.deceased
            && r.nationality == "VN"
            && r.birth_date <= CMND_BORN_BY
            && cmnd_numbers(&with_cmnd, n).next().is_none()
        {
            s.counts.unlinked_cmnd += 1;
            list(&mut s.counts.unlinked_listed, r.id_number);
        }
        match r.match_key {
            Some(k) => {
                let k = u64::from_ne_bytes(k.to_ne_bytes());
                if pass.mine(k) {
                    s.match_keys.push((k, n, r.phone.map_or(0, fnv)));
                }
            }
            None => s.counts.missing_match_keys += 1,
        }
        let adult = !r.deceased && r.birth_date <= adult_by.as_str();
        if let Some(h) = r.phone.map(fnv).filter(|h| adult && pass.mine(*h)) {
            s.phones
                .push((h, n, r.household_id.map_or(n | 1 << 63, fnv)));
        }
        if let Some(h) = r.household_id.map(fnv).filter(|h| pass.mine(*h)) {
            s.members.push((h, n));
            s.households.entry(h).or_default().add(&r, birth);
        }
    })
    .await?;
    s.cmnd_by_person = with_cmnd;
    Ok(s)
}

/// The CMND numbers of person `n` (`by_person` sorted by person).
fn cmnd_numbers(by_person: &[(u64, u64)], n: u64) -> impl Iterator<Item = u64> + '_ {
    let at = by_person.partition_point(|(p, _)| *p < n);
    by_person[at..]
        .iter()
        .take_while(move |(p, _)| *p == n)
        .map(|(_, h)| *h)
}

/// The first pass's tally of one person (`today` as `YYYY-MM-DD`).
fn tally(c: &mut Counts, r: &ScanRow<'_>, today: &str) {
    c.persons += 1;
    if r.household_relation == Some("head") && r.household_id.is_none() {
        c.heads_without_household.push(r.id_number.to_string());
    }
    if r.deceased {
        c.deceased += 1;
        return;
    }
    if r.residence.is_none() || r.household_id.is_none() || r.household_relation.is_none() {
        c.incomplete += 1;
    }
    if r.card_expires_on.is_some_and(|e| e < today) {
        c.expired_cards += 1;
        list(&mut c.expired_listed, r.id_number);
    }
}

/// Groups of at least `at_least` members (sorted by key, then ID number), those that name one
/// of `relevant` where given; at most `bound` rows, and whether more were suspect.
pub(super) fn groups(
    v: &mut [(u64, u64)],
    at_least: usize,
    relevant: Option<&IdSet>,
    bound: usize,
) -> (Vec<(u64, u64)>, bool) {
    v.sort_unstable();
    let mut out = Vec::new();
    for g in v.chunk_by(|a, b| a.0 == b.0) {
        let ours = relevant.is_none_or(|set| g.iter().any(|(_, id)| set.contains(id)));
        if g.len() >= at_least && ours {
            if out.len() + g.len() > bound {
                return (out, true);
            }
            out.extend_from_slice(g);
        }
    }
    (out, false)
}

impl Scanned {
    /// Phones held by living adults of at least `threshold` households, as (phone, person) in
    /// phone order — what `phones` judges (it counts nobody else).
    pub fn shared_phones(
        &mut self,
        threshold: usize,
        relevant: Option<&IdSet>,
        bound: usize,
    ) -> (Vec<(u64, u64)>, bool) {
        let mut v = std::mem::take(&mut self.phones);
        v.sort_unstable();
        let mut keep = Vec::new();
        for g in v
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() >= threshold)
        {
            let units: HashSet<u64> = g.iter().map(|(_, _, u)| *u).collect();
            if units.len() >= threshold {
                keep.extend(g.iter().map(|(h, n, _)| (*h, *n)));
            }
        }
        groups(&mut keep, threshold, relevant, bound)
    }

    /// Match-key groups in which two persons share a phone or a CMND number — the only ones
    /// `duplicates` can find anything in (most groups of a large register are namesakes born
    /// the same day) — as (key, person), in key order.
    pub fn same_person_groups(
        &mut self,
        relevant: Option<&IdSet>,
        bound: usize,
    ) -> (Vec<(u64, u64)>, bool) {
        let mut v = std::mem::take(&mut self.match_keys);
        v.sort_unstable();
        let cmnds = |n: u64| cmnd_numbers(&self.cmnd_by_person, n);
        let mut keep = Vec::new();
        for g in v.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() >= 2) {
            let shares = g.iter().enumerate().any(|(i, a)| {
                g[i + 1..].iter().any(|b| {
                    (a.2 != 0 && a.2 == b.2) || cmnds(a.1).any(|h| cmnds(b.1).any(|x| x == h))
                })
            });
            if shares {
                keep.extend(g.iter().map(|(k, n, _)| (*k, *n)));
            }
        }
        groups(&mut keep, 2, relevant, bound)
    }

    /// Members of households whose aggregate may break a rule, sorted by household.
    pub fn suspect_households(
        &mut self,
        today: &Today,
        relevant: Option<&IdSet>,
        bound: usize,
    ) -> (Vec<(u64, u64)>, bool) {
        let b = Bounds {
            head_born_after: ymd(&today.born_after(HEAD_MIN_AGE)).unwrap_or(0),
            spouse_born_after: ymd(&today.born_after(SPOUSE_MIN_AGE)).unwrap_or(0),
        };
        let suspect: HashSet<u64> = self
            .households
            .iter()
            .filter(|(_, h)| h.suspect(&b))
            .map(|(k, _)| *k)
            .collect();
        let mut members: Vec<(u64, u64)> = std::mem::take(&mut self.members)
            .into_iter()
            .filter(|(h, _)| suspect.contains(h))
            .collect();
        groups(&mut members, 1, relevant, bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_numbers() {
        assert_eq!(ymd("1990-05-15"), Some(19_900_515));
        assert_eq!(ymd("1990-5-15"), None);
        assert_eq!(ymd("199a-05-15"), None);
    }

    #[test]
    fn groups_keep_the_shared_keys_that_name_a_relevant_person() {
        let mut v = vec![(7, 1), (3, 2), (7, 3), (5, 4), (3, 5), (3, 6)];
        assert_eq!(
            groups(&mut v, 2, None, 100),
            (vec![(3, 2), (3, 5), (3, 6), (7, 1), (7, 3)], false)
        );
        let only = IdSet::from(HashSet::from([3]));
        assert_eq!(
            groups(&mut v, 2, Some(&only), 100),
            (vec![(7, 1), (7, 3)], false)
        );
        assert_eq!(
            groups(&mut v, 2, None, 4),
            (vec![(3, 2), (3, 5), (3, 6)], true)
        );
    }

    #[test]
    fn passes_split_the_key_space_without_overlap() {
        let of = 3;
        for h in 0..1000u64 {
            let owners = (0..of).filter(|&i| Pass { index: i, of }.mine(h)).count();
            assert_eq!(owners, 1);
        }
    }
}
