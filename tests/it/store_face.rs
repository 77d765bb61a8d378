//! Store contract, continued: face match results — run by `store_contract::durable_*` on
//! SQLite and PostgreSQL (account `s1` exists there).

use eidp::store::sql::SqlStore;
use eidp::store::{FaceCheck, FaceStore};

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
