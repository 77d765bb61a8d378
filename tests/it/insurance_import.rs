//! The insurance register import (issue #17): each defect class found on a crafted file, a
//! second identical import changes nothing, synthetic cards match a synthetic register; and
//! the storage contract of the insurance register on SQLite and PostgreSQL.

use std::sync::Arc;

use eidp::identity::insurance::content_hash;
use eidp::store::insurance::Lookups;
use eidp::store::sql::SqlStore;
use eidp::store::{AliasRecord, Durable, PersonRecord};
use serde_json::Value;

use crate::common::{TestServer, services};
use crate::insurance::card;

const HEADER: &str = "id_number,card_code,valid_from,valid_to,facility_code,facility_name,benefit_level,five_years_since,status";

fn import(s: &TestServer, path: &std::path::Path) -> Value {
    let (ok, out, err) = s.cli(
        &[
            "admin",
            "insurance",
            "import",
            path.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

fn rejected_at(r: &Value, line: u64) -> Vec<String> {
    r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["line"] == line)
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_defect_class_is_found_and_a_second_import_changes_nothing() {
    let s = TestServer::start().await;
    let who = s.citizen(721).await;
    let other = s.citizen(722).await;
    // The population register already links this code to someone else.
    let alias = AliasRecord {
        kind: "bhyt".into(),
        value: "GD4790000000999".into(),
        id_number: other.id_number.clone(),
    };
    s.provider.db.add_alias(&alias).await.unwrap();
    let id = &who.id_number;
    let lines = [
        HEADER.to_string(),
        format!("{id},DN4790000000721,2026-01-01,2026-12-31,01-001,Bệnh viện Bạch Mai,4,2021-07-01,active"), // 2 ok
        "079190100723,DN4790000000723,2026-01-01,2026-12-31,01-001,\"Bệnh viện Bạch Mai, cơ sở 2\",4,,active".into(), // 3 ok, not in register
        "07919010072,DN4790000000724,2026-01-01,2026-12-31,01-001,BV,4,,active".into(), // 4 id_number
        "079190100725,dn4790000000725,2026-01-01,2026-12-31,01-001,BV,4,,active".into(), // 5 card_code shape
        "079190100726,DN4790000000726,2026-01-01,2026-12-31,01-001,BV,3,,active".into(), // 6 level ≠ code
        "079190100727,DN4790000000727,2026-13-01,2026-12-31,01-001,BV,4,,active".into(), // 7 date
        "079190100728,DN4790000000728,2026-06-01,2026-01-31,01-001,BV,4,,active".into(), // 8 order
        "079190100729,DN4790000000729,2026-01-01,2026-12-31,1-001,BV,4,,active".into(), // 9 facility
        "079190100730,DN4790000000730,2026-01-01,2026-12-31,01-001,,4,,active".into(), // 10 name
        "079190100731,DN4790000000731,2026-01-01,2026-12-31,01-001,BV,4,,lapsed".into(), // 11 status
        format!("{id},DN4790000000732,2026-01-01,2026-12-31,01-001,BV,4,,active"), // 12 repeated id
        "079190100733,DN4790000000721,2026-01-01,2026-12-31,01-001,BV,4,,active".into(), // 13 repeated code
        "079190100734,GD4790000000999,2026-01-01,2026-12-31,01-001,BV,4,,active".into(), // 14 someone else's
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cards.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();

    let r = import(&s, &path);
    assert_eq!(
        (r["rows"].as_u64(), r["accepted"].as_u64()),
        (Some(13), Some(2)),
        "{r}"
    );
    assert_eq!(r["rejected_count"], 11);
    let expect: [(u64, &str); 11] = [
        (4, "id_number"),
        (5, "card_code"),
        (6, "benefit_level"),
        (7, "valid_from"),
        (8, "valid_to"),
        (9, "facility_code"),
        (10, "facility_name"),
        (11, "status"),
        (12, "id_number"),
        (13, "card_code"),
        (14, "card_code"),
    ];
    for (line, field) in expect {
        assert_eq!(rejected_at(&r, line), [field], "line {line}: {r}");
    }
    assert_eq!(r["not_in_register_count"], 1);
    assert_eq!(r["not_in_register"][0]["id_number"], "079190100723");
    let stored = s.provider.db.insurance_card(id).await.unwrap().unwrap();
    assert_eq!(stored.facility_name, "Bệnh viện Bạch Mai");

    let again = import(&s, &path);
    assert_eq!(
        (
            again["accepted"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(2)),
        "{again}"
    );
    assert_eq!(again["rejected_count"], 11);

    // JSON Lines with the same columns; a changed card is an update, a broken line a rejection.
    let jsonl = dir.path().join("cards.jsonl");
    let changed = format!(
        r#"{{"id_number":"{id}","card_code":"DN4790000000721","valid_from":"2026-01-01","valid_to":"2027-12-31","facility_code":"01-001","facility_name":"Bệnh viện Bạch Mai","benefit_level":4,"five_years_since":"2021-07-01","status":"active"}}"#
    );
    std::fs::write(&jsonl, format!("{changed}\n[1,2]\n")).unwrap();
    let r = import(&s, &jsonl);
    assert_eq!(
        (r["updated"].as_u64(), r["rejected_count"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(rejected_at(&r, 2), ["(line)"]);
}

#[tokio::test]
async fn synthetic_cards_match_a_synthetic_register() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (ok, register, err) = s.cli(
        &[
            "admin", "citizens", "generate", "--count", "300", "--seed", "5",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, cards, err) = s.cli(
        &[
            "admin",
            "insurance",
            "generate",
            "--count",
            "300",
            "--seed",
            "5",
        ],
        None,
    );
    assert!(ok, "{err}");
    std::fs::write(dir.path().join("r.csv"), register).unwrap();
    std::fs::write(dir.path().join("c.csv"), &cards).unwrap();
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "citizens",
            "import",
            dir.path().join("r.csv").to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "{err}");
    let r = import(&s, &dir.path().join("c.csv"));
    let n = cards.lines().count() as u64 - 1;
    assert!(n > 200, "most are insured");
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected_count"].as_u64()),
        (Some(n), Some(0)),
        "{r}"
    );
    assert_eq!(r["not_in_register_count"], 0);
}

async fn insurance_contract(db: Arc<dyn Durable>) {
    let mut a = card("079190100741", "DN4790000000741");
    let b = card("079190100742", "DN4790000000742");
    let rows: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|c| {
            let h = content_hash(&c);
            (c, h)
        })
        .collect();
    db.upsert_cards(&rows).await.unwrap();
    assert_eq!(
        db.insurance_card(&a.id_number).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        db.insurance_card_by_code("DN4790000000742").await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(db.insurance_card("079190100743").await.unwrap(), None);
    let ids = vec![a.id_number.clone(), "079190100743".to_string()];
    let hashes = db.card_hashes(&ids).await.unwrap();
    assert_eq!(hashes.len(), 1);
    assert_eq!(
        hashes[&a.id_number],
        ("DN4790000000741".to_string(), content_hash(&a))
    );
    // An update keeps created_at and moves updated_at.
    a.valid_to = "2030-12-31".into();
    a.created_at = 99;
    a.updated_at = 99;
    db.upsert_cards(&[(a.clone(), content_hash(&a))])
        .await
        .unwrap();
    let stored = db.insurance_card(&a.id_number).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.valid_to.as_str(),
            stored.created_at,
            stored.updated_at
        ),
        ("2030-12-31", 1, 99)
    );
    let holder = PersonRecord {
        id_number: "079190100744".into(),
        full_name: "Trần Thị Bình".into(),
        birth_date: "1990-03-08".into(),
        sex: "female".into(),
        nationality: "VN".into(),
        ..Default::default()
    };
    db.upsert_person(&holder).await.unwrap();
    db.add_alias(&AliasRecord {
        kind: "bhyt".into(),
        value: "HS4790000000001".into(),
        id_number: "079190100744".into(),
    })
    .await
    .unwrap();
    let mut holders = db
        .card_code_holders(&[
            "DN4790000000742".into(),
            "HS4790000000001".into(),
            "XX1000000000000".into(),
        ])
        .await
        .unwrap();
    holders.sort();
    assert_eq!(
        holders,
        [
            ("DN4790000000742".to_string(), b.id_number.clone()),
            ("HS4790000000001".to_string(), "079190100744".to_string()),
        ]
    );
    for (i, client) in ["h1", "h1", "h2"].into_iter().enumerate() {
        let e = eidp::audit::Event {
            actor: format!("client:{client}"),
            action: eidp::audit::actions::INSURANCE_LOOKUP,
            subject: Some(a.id_number.clone()),
            client_id: Some(client.into()),
            detail: serde_json::json!({"lookup_id": format!("l{i}")}),
            ip: None,
        };
        eidp::audit::record(db.as_ref(), e, 7200 + i as i64)
            .await
            .unwrap();
    }
    let mine = db
        .insurance_lookups(Lookups::Client("h1"), 0, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine[0].at > mine[1].at, "newest first");
    assert_eq!(
        db.insurance_lookups(Lookups::Patient(&a.id_number), 0, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        db.insurance_lookups(Lookups::Patient(&a.id_number), 7202, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db.insurance_lookup_hours("h1", 0).await.unwrap(),
        [(7200, 2)]
    );
    assert!(
        db.officers_with_id_number("001085000999")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_insurance_register_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("i.db").display());
    insurance_contract(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
    match services::fresh_postgres().await {
        Some(url) => insurance_contract(Arc::new(SqlStore::connect(&url).await.unwrap())).await,
        None => services::skip("insurance register on PostgreSQL"),
    }
}
