//! Store contract, continued: face match results — run by `store_contract::durable_*` on
//! SQLite and PostgreSQL (account `s1` exists there).

use eidp::store::sql::SqlStore;
use eidp::store::{Evidence, FaceCheck, FaceStore, OfficerStore, VerificationRecord};

/// Every result is kept; the latest (by time, then by insertion) comes back as it went in.
pub async fn face_checks(db: &SqlStore) {
    assert_eq!(db.latest_face_check("s1").await.unwrap(), None);
    let check = |matched: bool, score: f64, at: i64| FaceCheck {
        matched,
        score,
        matcher: "development".into(),
        at,
    };
    db.record_face_check("s1", &check(true, 0.97, 100))
        .await
        .unwrap();
    db.record_face_check("s1", &check(false, 0.125, 200))
        .await
        .unwrap();
    assert_eq!(
        db.latest_face_check("s1").await.unwrap(),
        Some(check(false, 0.125, 200))
    );
    db.record_face_check("s1", &check(true, 0.5, 200))
        .await
        .unwrap();
    assert_eq!(
        db.latest_face_check("s1").await.unwrap(),
        Some(check(true, 0.5, 200)),
        "within one second the later one is the latest"
    );
    assert_eq!(db.latest_face_check("nobody").await.unwrap(), None);
    assert!(
        db.record_face_check("nobody", &check(true, 0.9, 300))
            .await
            .is_err(),
        "only for an account"
    );
}

/// The KYC assertion's evidence in one read is what the two reads give apart: the latest
/// passed in-person check and the latest face match, either missing on its own.
pub async fn identity_evidence(db: &SqlStore) {
    let id = "001090000077";
    let nothing = db.identity_evidence(id, "nobody").await.unwrap();
    assert_eq!(nothing, Evidence::default());
    let face_only = db.identity_evidence(id, "s1").await.unwrap();
    assert_eq!(face_only.verification, None);
    assert_eq!(face_only.face, db.latest_face_check("s1").await.unwrap());
    assert!(face_only.face.is_some());
    let check = |at: i64, passed: bool, unit: Option<&str>| VerificationRecord {
        chip_authentic: passed,
        ..crate::store_consents::in_person(id, at, unit)
    };
    db.insert_verification(&check(10, true, Some("Công an phường Hàng Bài")))
        .await
        .unwrap();
    db.insert_verification(&check(20, true, None))
        .await
        .unwrap();
    db.insert_verification(&check(30, false, None))
        .await
        .unwrap();
    let both = db.identity_evidence(id, "s1").await.unwrap();
    assert_eq!(
        both.verification,
        Some(check(20, true, None)),
        "the latest that passed"
    );
    assert_eq!(both.verification, db.latest_verification(id).await.unwrap());
    assert_eq!(both.face, face_only.face);
    let check_only = db.identity_evidence(id, "nobody").await.unwrap();
    assert_eq!(check_only.verification, both.verification);
    assert_eq!(check_only.face, None);
}
