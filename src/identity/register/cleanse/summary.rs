//! The report as a person reads it on a terminal.

use std::fmt::Write;

use super::{CHECKS, CleanseReport, Score};

pub fn summary(r: &CleanseReport) -> String {
    let mut s = String::new();
    let what = if r.scope == "file" {
        "rows of the file"
    } else {
        "records in the register"
    };
    let _ = writeln!(s, "Cleansing report: {} {what}", r.records);
    for (label, score) in [
        ("correct  (đúng)", &r.scores.correct),
        ("complete (đủ)  ", &r.scores.complete),
        ("clean    (sạch)", &r.scores.clean),
        ("live     (sống)", &r.scores.live),
    ] {
        let _ = writeln!(s, "  {label} {:>7.2} %  {}", score.score, behind(score));
    }
    let found: Vec<_> = CHECKS
        .iter()
        .filter_map(|c| r.findings.get(c.name()).map(|sec| (c, sec)))
        .filter(|(_, sec)| sec.count > 0)
        .collect();
    if found.is_empty() {
        let _ = writeln!(s, "  no findings");
    }
    for (c, sec) in found {
        let _ = write!(s, "  {:>8}  {}", sec.count, c.describe());
        if let Some(f) = sec.listed.first() {
            let _ = write!(s, " — e.g. {}", f.persons.join(", "));
            if let Some(hh) = &f.household_id {
                let _ = write!(s, " (household {hh})");
            }
            if let Some(line) = f.line {
                let _ = write!(s, " (line {line})");
            }
            if let Some(conf) = f.confidence {
                let _ = write!(s, " (confidence {conf})");
            }
        }
        let _ = writeln!(s);
    }
    if r.truncated {
        let _ = writeln!(
            s,
            "  (a check reached its row bound: counts are at least these)"
        );
    }
    s.trim_end().to_string()
}

fn behind(score: &Score) -> String {
    let problems: Vec<String> = score
        .problems
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let tail = if problems.is_empty() {
        String::new()
    } else {
        format!(" — {}", problems.join(", "))
    };
    format!("{}/{} good{tail}", score.good, score.total)
}
