//! Store contract, continued: consents with their receipts and withdrawal, in-person checks,
//! and the register import's bulk writes — run by `store_contract::durable_*` on SQLite and
//! PostgreSQL.

use eidp::ids::{ClientId, Subject};
use eidp::store::sql::SqlStore;
use eidp::store::{
    AliasRecord, AuditStore, ConsentRecord, ConsentStore, Entry, GrantRecord, GrantStore,
    OfficerStore, PeopleBatch, PersonRecord, PersonStore, VerificationRecord,
};

use crate::store_contract::grant;

/// The standing consent and its receipts, and withdrawal ending the client's grants.
pub async fn consents(db: &SqlStore) {
    let receipt = |id: &str, at: i64| eidp::store::ConsentReceipt {
        id: id.into(),
        sub: Subject::parse("s1").unwrap(),
        client_id: ClientId::parse("c9").unwrap(),
        shown: eidp::store::ConsentShown {
            client_name: "Cổng dịch vụ công".into(),
            purpose_text: "Nộp hồ sơ".into(),
            items: vec![eidp::store::ShownItem {
                claim: "name".into(),
                value: "Nguyễn Văn An".into(),
                required: true,
                ..Default::default()
            }],
            ..Default::default()
        },
        shown_hash: "ab".repeat(32),
        granted: vec!["name".into()],
        given_at: at,
        withdrawn_at: None,
    };
    let consent = ConsentRecord {
        sub: Subject::parse("s1").unwrap(),
        client_id: ClientId::parse("c9").unwrap(),
        scopes: vec!["openid".into()],
        granted_at: 1,
        claims: Some(vec![]),
        asked: vec!["name".into()],
        purpose: Some("file@1".into()),
        receipt_id: Some("r1".into()),
    };
    db.put_consent(&consent, &receipt("r1", 1)).await.unwrap();
    let wider = ConsentRecord {
        scopes: vec!["openid".into(), "profile".into()],
        granted_at: 2,
        claims: Some(vec!["name".into()]),
        receipt_id: Some("r2".into()),
        ..consent
    };
    db.put_consent(&wider, &receipt("r2", 2)).await.unwrap();
    assert_eq!(db.consent("s1", "c9").await.unwrap(), Some(wider));
    let kept = db.receipts_of("s1").await.unwrap();
    assert_eq!(
        kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2", "r1"]
    );
    assert_eq!(kept[1], receipt("r1", 1), "a receipt comes back as kept");

    let other_client = grant("gw");
    db.insert_grant(&GrantRecord {
        client_id: ClientId::parse("c9").unwrap(),
        ..other_client
    })
    .await
    .unwrap();
    assert_eq!(db.withdraw_consent("s1", "c9", 50).await.unwrap(), 1);
    assert_eq!(db.consent("s1", "c9").await.unwrap(), None);
    assert_eq!(db.grant("gw").await.unwrap().unwrap().revoked_at, Some(50));
    assert!(
        db.receipts_of("s1")
            .await
            .unwrap()
            .iter()
            .all(|r| r.withdrawn_at == Some(50))
    );
}

/// A passed in-person check of `id_number` at `at`, by an officer of `unit`.
pub fn in_person(id_number: &str, at: i64, unit: Option<&str>) -> VerificationRecord {
    VerificationRecord {
        id_number: id_number.into(),
        officer_id: "cb-1".into(),
        unit: unit.map(String::from),
        evidence_ref: format!("HS-{at}"),
        chip_authentic: true,
        biometric_match: true,
        verified_at: at,
    }
}

/// In-person checks: the latest that passed is the one identity assurance describes.
pub async fn verifications(db: &SqlStore) {
    let check = |at: i64, passed: bool, unit: Option<&str>| VerificationRecord {
        biometric_match: passed,
        ..in_person("079190999001", at, unit)
    };
    assert_eq!(db.latest_verification("079190999001").await.unwrap(), None);
    db.insert_verification(&check(10, true, Some("Công an phường Hàng Bài")))
        .await
        .unwrap();
    db.insert_verification(&check(20, false, None))
        .await
        .unwrap();
    assert_eq!(
        db.latest_verification("079190999001").await.unwrap(),
        Some(check(10, true, Some("Công an phường Hàng Bài"))),
        "a failed check later does not replace the passed one"
    );
}

/// Many records in one transaction, with their history entry; their content hashes read back
/// once the import has ended; a record on file keeps its creation time when written again.
/// The first batches as the command line writes them (alone), the last as an upload.
pub async fn people(db: &SqlStore) {
    let before = db.audit_since(0, i64::MAX).await.unwrap().len();
    let rec = eidp::audit::entry(
        eidp::audit::Event {
            actor: "cli".into(),
            action: "register_updated",
            ..Default::default()
        },
        10,
    );
    let history = Entry {
        record: &rec,
        link: &eidp::audit::link,
    };
    let person = |id: &str, name: &str, at: i64| PersonRecord {
        id_number: id.into(),
        full_name: name.into(),
        birth_date: "1990-01-01".into(),
        sex: "male".into(),
        nationality: "VN".into(),
        created_at: at,
        updated_at: at,
        ..Default::default()
    };
    let ids = ["079090000001".to_string(), "079090000002".to_string()];
    let first = [
        (person(&ids[0], "Lê Văn A", 10), "h1".to_string()),
        (person(&ids[1], "Lê Văn B", 10), "h2".to_string()),
    ];
    let alias = AliasRecord {
        kind: "cmnd".into(),
        value: "025000001".into(),
        id_number: ids[0].clone(),
    };
    let new = PeopleBatch {
        people: &first,
        aliases: std::slice::from_ref(&alias),
    };
    db.upsert_people(new, PeopleBatch::default(), history, true)
        .await
        .unwrap();
    db.end_bulk_load().await.unwrap();
    let hashes = db.person_hashes(&ids).await.unwrap();
    assert_eq!(hashes.get(&ids[1]), Some(&Some("h2".to_string())));
    let again = [(person(&ids[0], "Lê Văn Á", 20), "h1b".to_string())];
    // Classified as new, but on file after all (another import wrote it meanwhile): updated.
    let new = PeopleBatch {
        people: &again,
        aliases: std::slice::from_ref(&alias),
    };
    db.upsert_people(new, PeopleBatch::default(), history, true)
        .await
        .unwrap();
    db.end_bulk_load().await.unwrap();
    let a = db.person(&ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (a.full_name.as_str(), a.created_at, a.updated_at),
        ("Lê Văn Á", 10, 20)
    );
    assert_eq!(
        db.persons_by_alias("cmnd", "025000001")
            .await
            .unwrap()
            .len(),
        1
    );
    let changed = [(person(&ids[1], "Lê Văn Bê", 30), "h2b".to_string())];
    let changed = PeopleBatch {
        people: &changed,
        aliases: &[],
    };
    db.upsert_people(PeopleBatch::default(), changed, history, false)
        .await
        .unwrap();
    db.end_bulk_load().await.unwrap();
    let log = db.audit_since(0, i64::MAX).await.unwrap();
    assert_eq!(log.len(), before + 3, "one history entry per batch");
    assert_eq!(eidp::audit::verify_chain(&log), Ok(()));
    let hashes = db.person_hashes(&ids).await.unwrap();
    assert_eq!(hashes.get(&ids[0]), Some(&Some("h1b".to_string())));
    assert_eq!(hashes.get(&ids[1]), Some(&Some("h2b".to_string())));
    assert_eq!(
        db.person_hashes(&["079090000003".into()])
            .await
            .unwrap()
            .len(),
        0
    );
    let stray = AliasRecord {
        kind: "cmnd".into(),
        value: "025000009".into(),
        id_number: "079090000003".into(),
    };
    assert!(
        db.add_alias(&stray).await.is_err(),
        "an alias needs a person on file"
    );
    assert!(
        db.persons_by_alias("cmnd", "025000009")
            .await
            .unwrap()
            .is_empty()
    );
}
