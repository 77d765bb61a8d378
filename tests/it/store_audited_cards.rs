//! An eligibility look-up by ID number reads the card as its audit entry is written
//! (`InsuranceStore::audited_card`): look-ups that wait for the log together share one read
//! of their cards. On both engines, two stores on one database (two nodes), mixed with plain
//! appends: each caller gets its own card (or none), each entry is made from that card, the
//! chain stays one line — and a card read that fails answers the look-up with an error and
//! writes no entry for it, while the appends beside it still land.

use std::sync::Arc;

use eidp::identity::insurance::content_hash;
use eidp::store::insurance::CardEntry;
use eidp::store::sql::SqlStore;
use eidp::store::*;
use serde_json::json;

use crate::common::services;
use crate::insurance::card;

fn id_number(i: u32) -> String {
    format!("0791901{i:05}")
}

/// Every third ID number holds a card.
fn has_card(i: u32) -> bool {
    i.is_multiple_of(3)
}

/// The entry a look-up makes: what it found, in the detail.
fn entry(asked: String, at: i64) -> CardEntry {
    Box::new(move |card: Option<&InsuranceCardRecord>| {
        let event = eidp::audit::Event {
            actor: "client:hospital".into(),
            action: eidp::audit::actions::INSURANCE_LOOKUP,
            subject: Some(asked),
            detail: json!({"found": card.map(|c| c.card_code.clone())}),
            ..Default::default()
        };
        eidp::audit::entry(event, at)
    })
}

async fn look_up(db: &SqlStore, i: u32) -> StoreResult<(i64, Option<InsuranceCardRecord>)> {
    let asked = id_number(i);
    db.audited_card(&asked, entry(asked.clone(), 1_000), &eidp::audit::link)
        .await
}

async fn append(db: &SqlStore, i: u32) -> StoreResult<i64> {
    let event = eidp::audit::Event {
        actor: "cli".into(),
        action: eidp::audit::actions::LOCKED,
        subject: Some(format!("plain{i}")),
        ..Default::default()
    };
    eidp::audit::record(db, event, 1_000).await
}

async fn contract(a: Arc<SqlStore>, b: Arc<SqlStore>) {
    let cards: Vec<(InsuranceCardRecord, String)> = (0..240u32)
        .filter(|i| has_card(*i))
        .map(|i| {
            let c = card(&id_number(i), &format!("DN47900{i:08}"));
            let h = content_hash(&c);
            (c, h)
        })
        .collect();
    a.upsert_cards(&cards).await.unwrap();

    let mut looks = Vec::new();
    let mut plains = Vec::new();
    for i in 0..240u32 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        match i % 4 {
            3 => plains.push(tokio::spawn(async move { (i, append(&db, i).await) })),
            _ => looks.push(tokio::spawn(async move { (i, look_up(&db, i).await) })),
        }
    }
    let mut told = Vec::new();
    for t in looks {
        let (i, got) = t.await.unwrap();
        let (seq, found) = got.expect("a look-up fails only when the database does");
        assert_eq!(
            found.as_ref().map(|c| c.id_number.clone()),
            has_card(i).then(|| id_number(i)),
            "each look-up gets its own card, or none"
        );
        told.push((seq, id_number(i), found.map(|c| c.card_code)));
    }
    for t in plains {
        let (i, got) = t.await.unwrap();
        told.push((got.unwrap(), format!("plain{i}"), None));
    }
    let log = b.audit_since(0, i64::MAX).await.unwrap();
    assert_eq!(log.len(), 240, "every look-up and append has its own entry");
    for (seq, subject, code) in &told {
        let e = log.iter().find(|e| e.seq == *seq).expect("the seq told");
        assert_eq!(e.subject.as_ref(), Some(subject), "each caller its own seq");
        if !subject.starts_with("plain") {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            assert_eq!(
                detail["found"],
                json!(code),
                "the entry says what was found"
            );
        }
    }
    assert_eq!(eidp::audit::verify_chain(&log), Ok(()), "the chain forked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audited_cards_sqlite_two_writers() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    contract(a.clone(), b).await;

    // The cards cannot be read: the look-ups fail and leave no entry; the appends queued
    // with them are written.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE insurance_cards RENAME TO cards_away")
        .execute(&pool)
        .await
        .unwrap();
    let mut looks = Vec::new();
    let mut plains = Vec::new();
    for i in 0..20u32 {
        let db = a.clone();
        looks.push(tokio::spawn(async move { look_up(&db, i).await }));
        let db = a.clone();
        plains.push(tokio::spawn(async move { append(&db, 1_000 + i).await }));
    }
    for t in looks {
        let e = t.await.unwrap().expect_err("no card read, no answer");
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    }
    for t in plains {
        t.await.unwrap().expect("the appends beside it land");
    }
    let log = a.audit_since(0, i64::MAX).await.unwrap();
    assert_eq!(log.len(), 260, "20 appends more, no look-up entry");
    assert_eq!(eidp::audit::verify_chain(&log), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audited_cards_postgres_two_nodes() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("audited_cards_postgres_two_nodes");
    };
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    contract(a, b).await;
}
