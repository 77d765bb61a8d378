use std::collections::{HashMap, HashSet};

use super::*;
use crate::identity::register::{split_csv_line, validate_row};
use crate::store::PersonRecord;

fn plan(count: usize, defects: f64) -> Plan {
    Plan {
        count,
        seed: 42,
        defects,
        today: "2026-06-15".into(),
    }
}

fn rows(plan: &Plan) -> Vec<PersonRecord> {
    let mut lines = Vec::new();
    generate(plan, |l| lines.push(l.to_string()));
    let header = split_csv_line(&lines[0]);
    lines
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, l)| {
            let cells = split_csv_line(l);
            let get = |n: &str| {
                header
                    .iter()
                    .position(|h| h == n)
                    .map(|p| cells[p].clone())
                    .unwrap_or_default()
            };
            let (p, _) = validate_row(i + 1, get, 0).unwrap_or_else(|e| panic!("line {i}: {e:?}"));
            p
        })
        .collect()
}

#[test]
fn generated_rows_validate_are_unique_and_repeatable() {
    let people = rows(&plan(2_000, 0.0));
    assert_eq!(people.len(), 2_000);
    let ids: HashSet<&str> = people.iter().map(|p| p.id_number.as_str()).collect();
    assert_eq!(ids.len(), people.len());
    let phones: Vec<&String> = people.iter().filter_map(|p| p.phone.as_ref()).collect();
    let unique: HashSet<&&String> = phones.iter().collect();
    assert_eq!(unique.len(), phones.len(), "each adult their own phone");
    assert_eq!(rows(&plan(2_000, 0.0)), people, "same plan, same register");
}

#[test]
fn a_clean_household_has_one_head_one_address_and_plausible_ages() {
    let people = rows(&plan(3_000, 0.0));
    let mut households: HashMap<&str, Vec<&PersonRecord>> = HashMap::new();
    for p in &people {
        households
            .entry(p.household_id.as_deref().unwrap())
            .or_default()
            .push(p);
    }
    assert!(households.len() > 500, "{} households", households.len());
    let year = |p: &PersonRecord| p.birth_date[..4].parse::<i32>().unwrap();
    for (id, members) in households {
        let heads: Vec<_> = members
            .iter()
            .filter(|m| m.household_relation.as_deref() == Some("head"))
            .collect();
        assert_eq!(heads.len(), 1, "{id}");
        let head = heads[0];
        assert!(
            members.iter().all(|m| m.residence == head.residence),
            "{id}"
        );
        for m in &members {
            match m.household_relation.as_deref() {
                Some("child") => assert!(year(m) >= year(head) + 20, "{id}"),
                Some("parent") => assert!(year(m) <= year(head) - 20, "{id}"),
                _ => {}
            }
        }
    }
}

#[test]
fn defects_appear_at_about_their_rate() {
    let people = rows(&plan(20_000, 0.02));
    let dead = people.iter().filter(|p| p.deceased_on.is_some()).count();
    let heads_others = people
        .iter()
        .filter(|p| p.household_relation.as_deref() == Some("other"))
        .count();
    assert!(dead > 20 && dead < 400, "{dead} deceased");
    assert!(heads_others > 20, "{heads_others} headless or duplicates");
    assert_ne!(rows(&plan(20_000, 0.0)), people);
}
