//! Old 9-digit CMND numbers: one that points at several persons (some numbers were issued
//! twice by two provinces' police), and persons whose CMND was never linked to their 12-digit
//! number — a living Vietnamese national born on or before [`CMND_BORN_BY`] (old enough to
//! have held one) whose record carries no `cmnd` alias.

use serde_json::json;

use super::{CMND_BORN_BY, Check, Finding, Sink};
use crate::store::PersonRecord;

/// Groups of (CMND, person) rows in CMND order: each CMND held by several persons.
pub(super) fn judge_shared(rows: Vec<(String, PersonRecord)>, sink: Sink<'_>) {
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        if group.len() < 2 {
            continue;
        }
        let holders: Vec<_> = group
            .iter()
            .map(|(_, p)| {
                json!({"id_number": p.id_number, "full_name": p.full_name,
                       "birth_date": p.birth_date, "birth_place": p.birth_place})
            })
            .collect();
        sink(
            Check::CmndShared,
            Finding {
                persons: group.iter().map(|(_, p)| p.id_number.clone()).collect(),
                household_id: None,
                line: None,
                confidence: None,
                evidence: json!({"cmnd": group[0].0, "holders": holders}),
            },
        );
    }
}

/// Whether a record (with or without a CMND) is one whose CMND was never linked.
pub fn unlinked_row(p: &PersonRecord, has_cmnd: bool) -> bool {
    !has_cmnd
        && p.deceased_on.is_none()
        && p.nationality == "VN"
        && p.birth_date.as_str() <= CMND_BORN_BY
}

pub(crate) fn unlinked(id: String, line: Option<usize>) -> Finding {
    Finding {
        persons: vec![id],
        household_id: None,
        line,
        confidence: None,
        evidence: json!({"cmnd": null, "born_by": CMND_BORN_BY}),
    }
}
