//! Households: exactly one head, at least [`HEAD_MIN_AGE`], living and living with the
//! household; relations to the head that ages allow. A "child" is at least
//! [`GENERATION_YEARS`] birth years younger than the head, a "parent" at least as much older,
//! a "spouse" at least [`SPOUSE_MIN_AGE`]. A head "not a member": recorded as head without a
//! household, recorded deceased, or living at another address than every other member.

use serde_json::json;

use super::{Check, Finding, GENERATION_YEARS, HEAD_MIN_AGE, SPOUSE_MIN_AGE, Sink, Today};
use crate::store::PersonRecord;

/// Members of suspect households, in household order.
pub(super) fn judge(rows: Vec<PersonRecord>, today: &Today, sink: Sink<'_>) {
    for group in rows.chunk_by(|a, b| a.household_id == b.household_id) {
        let members: Vec<&PersonRecord> = group.iter().collect();
        for (check, f) in household(&members, today) {
            sink(check, f);
        }
    }
}

fn year(birth_date: &str) -> i64 {
    birth_date
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0)
}

fn is(p: &PersonRecord, relation: &str) -> bool {
    p.household_relation.as_deref() == Some(relation)
}

fn finding(hh: &str, persons: Vec<String>, evidence: serde_json::Value) -> Finding {
    Finding {
        persons,
        household_id: Some(hh.to_string()),
        line: None,
        confidence: None,
        evidence,
    }
}

/// Every rule one household breaks.
pub(super) fn household(members: &[&PersonRecord], today: &Today) -> Vec<(Check, Finding)> {
    let Some(hh) = members.first().and_then(|m| m.household_id.as_deref()) else {
        return Vec::new();
    };
    let ids = || members.iter().map(|m| m.id_number.clone()).collect();
    let heads: Vec<&&PersonRecord> = members.iter().filter(|m| is(m, "head")).collect();
    let head = match heads.as_slice() {
        [] => {
            let ev = json!({"members": members.len()});
            return vec![(Check::HouseholdNoHead, finding(hh, ids(), ev))];
        }
        [one] => *one,
        several => {
            let ev = json!({"heads": several.iter().map(|h| &h.id_number).collect::<Vec<_>>()});
            let persons = several.iter().map(|h| h.id_number.clone()).collect();
            return vec![(Check::HouseholdSeveralHeads, finding(hh, persons, ev))];
        }
    };
    let mut out = Vec::new();
    let just = |ev| finding(hh, vec![head.id_number.clone()], ev);
    if today.younger_than(&head.birth_date, HEAD_MIN_AGE) {
        let ev = json!({"head_birth_date": head.birth_date, "min_age": HEAD_MIN_AGE});
        out.push((Check::HouseholdHeadUnder15, just(ev)));
    }
    let others: Vec<&&PersonRecord> = members
        .iter()
        .filter(|m| m.id_number != head.id_number)
        .collect();
    let elsewhere = head.residence.as_ref().is_some_and(|r| {
        !others.is_empty()
            && others
                .iter()
                .all(|o| o.residence.as_ref().is_some_and(|x| x != r))
    });
    if head.deceased_on.is_some() {
        let ev = json!({"reason": "deceased", "deceased_on": head.deceased_on});
        out.push((Check::HouseholdHeadNotMember, just(ev)));
    } else if elsewhere {
        let ev = json!({"reason": "lives_elsewhere", "head_residence": head.residence,
                        "household_residence": others[0].residence});
        out.push((Check::HouseholdHeadNotMember, just(ev)));
    }
    let hy = year(&head.birth_date);
    for m in others {
        let my = year(&m.birth_date);
        let wrong = (is(m, "child") && my < hy + GENERATION_YEARS)
            || (is(m, "parent") && my > hy - GENERATION_YEARS)
            || (is(m, "spouse") && today.younger_than(&m.birth_date, SPOUSE_MIN_AGE));
        if wrong {
            let ev = json!({"relation": m.household_relation, "birth_date": m.birth_date,
                            "head": head.id_number, "head_birth_date": head.birth_date});
            out.push((
                Check::HouseholdRelationAge,
                finding(hh, vec![m.id_number.clone()], ev),
            ));
        }
    }
    out
}

/// A person recorded as a head without a household.
pub(super) fn no_household(id: String) -> Finding {
    Finding {
        persons: vec![id],
        household_id: None,
        line: None,
        confidence: None,
        evidence: json!({"reason": "no_household"}),
    }
}
