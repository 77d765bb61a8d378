//! The judges on crafted groups, one rule at a time; dates against a fixed day (2026-06-15).

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::store::PersonRecord;

const NOW: UnixTime = 1_781_481_600; // 2026-06-15

fn p(id: &str, hh: &str, relation: &str, born: &str) -> PersonRecord {
    PersonRecord {
        id_number: id.into(),
        full_name: "Nguyễn Văn An".into(),
        birth_date: born.into(),
        sex: "male".into(),
        nationality: "VN".into(),
        household_id: Some(hh.into()),
        household_relation: Some(relation.into()),
        residence: Some("Số 1 Lê Lợi".into()),
        ..Default::default()
    }
}

fn checks(members: &[PersonRecord]) -> Vec<Check> {
    let refs: Vec<&PersonRecord> = members.iter().collect();
    households::household(&refs, &Today::at(NOW))
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

#[test]
fn today_and_ages() {
    let t = Today::at(NOW);
    assert_eq!(t.date, "2026-06-15");
    assert_eq!(t.born_after(15), "2011-06-15");
    assert!(t.younger_than("2011-06-16", 15));
    assert!(!t.younger_than("2011-06-15", 15));
}

#[test]
fn a_plausible_household_breaks_no_rule() {
    let hh = [
        p("1", "H", "head", "1970-01-01"),
        p("2", "H", "spouse", "1972-01-01"),
        p("3", "H", "child", "1999-01-01"),
        p("4", "H", "parent", "1945-01-01"),
    ];
    assert_eq!(checks(&hh), vec![]);
}

#[test]
fn household_rules_each_found() {
    let head = |born| p("1", "H", "head", born);
    let mut dead = head("1940-01-01");
    dead.deceased_on = Some("2020-01-01".into());
    let mut away = head("1970-01-01");
    away.residence = Some("Số 9 Nguyễn Huệ".into());
    let cases: Vec<(Vec<PersonRecord>, Check)> = vec![
        (
            vec![p("1", "H", "spouse", "1970-01-01")],
            Check::HouseholdNoHead,
        ),
        (
            vec![head("1970-01-01"), p("2", "H", "head", "1971-01-01")],
            Check::HouseholdSeveralHeads,
        ),
        (vec![head("2014-01-01")], Check::HouseholdHeadUnder15),
        (
            vec![head("1980-01-01"), p("2", "H", "child", "1975-01-01")],
            Check::HouseholdRelationAge,
        ),
        (
            vec![head("1980-01-01"), p("2", "H", "parent", "1985-01-01")],
            Check::HouseholdRelationAge,
        ),
        (vec![dead], Check::HouseholdHeadNotMember),
        (
            vec![away, p("2", "H", "spouse", "1971-01-01")],
            Check::HouseholdHeadNotMember,
        ),
    ];
    for (members, check) in cases {
        assert_eq!(checks(&members), vec![check], "{members:?}");
    }
}

#[test]
fn the_relation_finding_names_the_member_and_its_evidence() {
    let hh = [
        p("1", "H", "head", "1980-01-01"),
        p("2", "H", "parent", "1985-01-01"),
    ];
    let refs: Vec<&PersonRecord> = hh.iter().collect();
    let (_, f) = households::household(&refs, &Today::at(NOW)).remove(0);
    assert_eq!(f.persons, vec!["2"]);
    assert_eq!(f.household_id.as_deref(), Some("H"));
    assert_eq!(f.evidence["relation"], "parent");
    assert_eq!(f.evidence["head_birth_date"], "1980-01-01");
}

#[test]
fn duplicates_need_a_shared_cmnd_or_phone() {
    let a = p("1", "H", "head", "1970-01-01");
    let mut b = p("2", "K", "head", "1970-01-01");
    b.full_name = "  NGUYỄN văn an ".into();
    let none = HashMap::new();
    assert!(duplicates::pairs(&[&a, &b], &none).is_empty(), "strangers");
    let cmnd: HashMap<String, Vec<String>> = [
        ("1".to_string(), vec!["012345678".to_string()]),
        ("2".to_string(), vec!["012345678".to_string()]),
    ]
    .into();
    let f = &duplicates::pairs(&[&a, &b], &cmnd)[0];
    assert_eq!(f.confidence, Some(duplicates::CMND));
    assert_eq!(f.evidence["shared_cmnd"][0], "012345678");
    let (mut a2, mut b2) = (a.clone(), b.clone());
    a2.phone = Some("+84901234567".into());
    b2.phone = a2.phone.clone();
    let f = &duplicates::pairs(&[&a2, &b2], &cmnd)[0];
    assert_eq!(f.confidence, Some(duplicates::BOTH));
    assert_eq!(
        duplicates::pairs(&[&a2, &b2], &none)[0].confidence,
        Some(duplicates::PHONE)
    );
    b2.birth_date = "1970-01-02".into();
    assert!(duplicates::pairs(&[&a2, &b2], &cmnd).is_empty());
}

#[test]
fn phones_count_adults_of_different_households() {
    let today = Today::at(NOW);
    let adults: Vec<PersonRecord> = (0..5)
        .map(|i| p(&i.to_string(), &format!("H{i}"), "head", "1980-01-01"))
        .collect();
    let refs: Vec<&PersonRecord> = adults.iter().collect();
    let f = phones::shared("+84900000000", &refs, 5, &today).unwrap();
    assert_eq!(f.persons.len(), 5);
    assert_eq!(f.evidence["households"], 5);
    assert!(phones::shared("+84900000000", &refs, 6, &today).is_none());
    let family: Vec<PersonRecord> = (0..5)
        .map(|i| p(&i.to_string(), "H", "child", "1980-01-01"))
        .collect();
    let refs: Vec<&PersonRecord> = family.iter().collect();
    assert!(phones::shared("+84900000000", &refs, 5, &today).is_none());
    let kids: Vec<PersonRecord> = (0..5)
        .map(|i| p(&i.to_string(), &format!("H{i}"), "child", "2015-01-01"))
        .collect();
    let refs: Vec<&PersonRecord> = kids.iter().collect();
    assert!(phones::shared("+84900000000", &refs, 5, &today).is_none());
}

#[test]
fn unlinked_cmnd_is_defined_by_age_nationality_and_life() {
    let old = p("1", "H", "head", "1990-01-01");
    assert!(cmnd::unlinked_row(&old, false));
    assert!(!cmnd::unlinked_row(&old, true));
    assert!(!cmnd::unlinked_row(
        &p("2", "H", "child", "2005-01-01"),
        false
    ));
    let mut dead = old.clone();
    dead.deceased_on = Some("2020-01-01".into());
    assert!(!cmnd::unlinked_row(&dead, false));
}

#[test]
fn scores_count_the_persons_behind_each_quality() {
    let mut findings: BTreeMap<&'static str, Section> = CHECKS
        .iter()
        .map(|c| (c.name(), Section::default()))
        .collect();
    findings.insert(
        "duplicate_person",
        Section {
            count: 1,
            persons: 2,
            listed: vec![],
        },
    );
    let s = Scores::of(&findings, 100, 3, 4);
    assert_eq!((s.clean.good, s.clean.score), (98, 98.0));
    assert_eq!(s.correct.good, 97);
    assert_eq!(s.correct.problems["rejected_rows"], 3);
    assert_eq!(s.complete.good, 96);
    assert_eq!(s.live.score, 100.0);
    assert_eq!(Scores::of(&findings, 0, 0, 0).live.score, 100.0);
}
