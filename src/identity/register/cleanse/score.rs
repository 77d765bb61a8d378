//! The four scores. Each is the share of records without a problem of its kind:
//! `score = 100 × max(0, total − problems) / total`, where `problems` adds up, per check, the
//! persons its findings name (a person named by two checks counts twice), plus for a file the
//! rows it rejected (correct) and its rows missing a field (complete). See docs/identity.md.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CHECKS, Quality, Section};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Score {
    /// Percent, two decimals.
    pub score: f64,
    pub good: u64,
    pub total: u64,
    /// What counted against it, by name.
    pub problems: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    pub correct: Score,
    pub complete: Score,
    pub clean: Score,
    pub live: Score,
}

impl Scores {
    /// From the findings by check, the records' total, rejected rows and records missing a
    /// field.
    pub fn of(
        findings: &BTreeMap<&'static str, Section>,
        total: u64,
        rejected: u64,
        incomplete: u64,
    ) -> Scores {
        let score = |q: Quality, extra: &[(&'static str, u64)]| {
            let mut problems: BTreeMap<&'static str, u64> = CHECKS
                .iter()
                .filter(|c| c.quality() == q)
                .map(|c| (c.name(), findings.get(c.name()).map_or(0, |s| s.persons)))
                .collect();
            problems.extend(extra.iter().copied());
            let bad: u64 = problems.values().sum();
            let good = total.saturating_sub(bad);
            let share = if total == 0 {
                100.0
            } else {
                (good as f64 * 10_000.0 / total as f64).round() / 100.0
            };
            Score {
                score: share,
                good,
                total,
                problems,
            }
        };
        Scores {
            correct: score(Quality::Correct, &[("rejected_rows", rejected)]),
            complete: score(Quality::Complete, &[("missing_fields", incomplete)]),
            clean: score(Quality::Clean, &[]),
            live: score(Quality::Live, &[]),
        }
    }
}
