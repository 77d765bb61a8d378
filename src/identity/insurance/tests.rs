use std::collections::HashMap;

use super::*;

fn row(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = [
        ("id_number", "079190100501"),
        ("card_code", "DN4790123456789"),
        ("valid_from", "2026-01-01"),
        ("valid_to", "2026-12-31"),
        ("facility_code", "01-001"),
        ("facility_name", "Bệnh viện Bạch Mai"),
        ("benefit_level", "4"),
        ("five_years_since", "2020-07-01"),
        ("status", "active"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

fn check(pairs: &[(&str, &str)]) -> Result<InsuranceCardRecord, Vec<FieldError>> {
    let m = row(pairs);
    validate_row(2, |k| m.get(k).cloned().unwrap_or_default(), 0)
}

fn fields(pairs: &[(&str, &str)]) -> Vec<String> {
    check(pairs)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_good_row_is_a_card() {
    let c = check(&[]).unwrap();
    assert_eq!(c.benefit_level, 4);
    assert_eq!(c.five_years_since.as_deref(), Some("2020-07-01"));
    assert!(check(&[("five_years_since", "")]).is_ok(), "optional");
}

#[test]
fn each_defect_names_its_field() {
    assert_eq!(fields(&[("id_number", "07919010050")]), ["id_number"]);
    assert_eq!(fields(&[("card_code", "dn4790123456789")]), ["card_code"]);
    assert_eq!(fields(&[("valid_from", "2026-02-30")]), ["valid_from"]);
    assert_eq!(fields(&[("valid_to", "2025-12-31")]), ["valid_to"]);
    assert_eq!(fields(&[("facility_code", "01001")]), ["facility_code"]);
    assert_eq!(fields(&[("facility_name", " ")]), ["facility_name"]);
    assert_eq!(fields(&[("benefit_level", "6")]), ["benefit_level"]);
    assert_eq!(
        fields(&[("benefit_level", "3")]),
        ["benefit_level"],
        "the card code's digit is 4"
    );
    assert_eq!(fields(&[("status", "paused")]), ["status"]);
    assert_eq!(
        fields(&[("five_years_since", "2020/07/01")]),
        ["five_years_since"]
    );
}

#[test]
fn the_standing_follows_status_then_dates() {
    let c = check(&[]).unwrap();
    assert_eq!(standing(&c, "2026-06-01"), Standing::Active);
    assert_eq!(standing(&c, "2027-01-01"), Standing::Expired);
    assert_eq!(standing(&c, "2025-12-31"), Standing::NotYetValid);
    let s = InsuranceCardRecord {
        status: "suspended".into(),
        ..c
    };
    assert_eq!(standing(&s, "2026-06-01"), Standing::Suspended);
    assert_eq!(claim(&s, "2026-06-01")["eligible"], false);
}

#[test]
fn synthetic_cards_validate_and_match_the_register() {
    let mut people = std::collections::HashSet::new();
    let plan = crate::identity::synthetic::Plan {
        count: 200,
        seed: 7,
        defects: 0.0,
        today: "2026-11-30".into(),
    };
    crate::identity::synthetic::generate(&plan, |l| {
        people.insert(l.split(',').next().unwrap_or_default().to_string());
    });
    let mut lines = Vec::new();
    synthetic::generate(200, 7, 2026, "2026-11-30", |l| lines.push(l.to_string()));
    let header = crate::identity::register::split_csv_line(&lines[0]);
    assert!(
        lines.len() > 150,
        "most people are insured: {}",
        lines.len()
    );
    for (i, l) in lines.iter().enumerate().skip(1) {
        let cells = crate::identity::register::split_csv_line(l);
        let get = |n: &str| {
            let p = header.iter().position(|h| h == n).unwrap();
            cells[p].clone()
        };
        let c = validate_row(i + 1, get, 0).unwrap_or_else(|e| panic!("line {i}: {e:?}"));
        assert!(people.contains(&c.id_number));
    }
    let mut again = Vec::new();
    synthetic::generate(200, 7, 2026, "2026-11-30", |l| again.push(l.to_string()));
    assert_eq!(lines, again, "same arguments, same cards");
}

#[test]
fn day_start_inverts_date_of() {
    use crate::identity::accounts::day_start;
    for t in [0, 86_400 * 365, 1_767_225_600, 1_798_675_200] {
        let d = crate::identity::register::date_of(t);
        assert_eq!(day_start(&d), Some(t - t.rem_euclid(86_400)), "{d}");
    }
    assert_eq!(day_start("2026-02-30"), None);
}
