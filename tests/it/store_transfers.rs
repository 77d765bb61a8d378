//! Store contract, continued: approved bank transfers — the day's total, the cap that makes a
//! transfer need the biometric step, single use, and the cap holding when approvals race —
//! run by `store_contract::durable_*` on SQLite and PostgreSQL.

use std::sync::Arc;

use eidp::store::sql::SqlStore;
use eidp::store::{TransferApproval, TransferStore};

fn approval(id: &str, sub: &str, day: i64, amount: i64) -> TransferApproval {
    TransferApproval {
        id: id.into(),
        sub: sub.into(),
        client_id: "bank".into(),
        day,
        amount,
        grant_id: None,
        approved_at: 1,
    }
}

pub async fn transfers(db: Arc<SqlStore>) {
    const CAP: Option<i64> = Some(20_000_000);
    let day = 20261130;
    assert_eq!(db.transfers_total("p1", "bank", day).await.unwrap(), 0);
    for (i, ok) in [(1, true), (2, true), (3, false)] {
        let a = approval(&format!("t{i}"), "p1", day, 9_000_000);
        assert_eq!(
            db.approve_transfer(&a, CAP).await.unwrap(),
            ok,
            "approval {i}"
        );
    }
    assert_eq!(
        db.transfers_total("p1", "bank", day).await.unwrap(),
        18_000_000
    );
    // Without a cap (a biometric sign-in) it goes through.
    let a = approval("t4", "p1", day, 9_000_000);
    assert!(db.approve_transfer(&a, None).await.unwrap());
    assert_eq!(
        db.transfers_total("p1", "bank", day).await.unwrap(),
        27_000_000
    );
    assert_eq!(db.transfers_total("p1", "bank", day + 1).await.unwrap(), 0);
    assert_eq!(db.transfers_total("p1", "other", day).await.unwrap(), 0);
    // Spent once.
    assert!(db.use_transfer("t1", 5).await.unwrap());
    assert!(!db.use_transfer("t1", 6).await.unwrap());
    assert!(!db.use_transfer("nope", 6).await.unwrap());
    // Forty approvals of 3,000,000 at once under a 20,000,000 cap: six fit, never seven.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let a = approval(&format!("r{i}"), "p2", day, 3_000_000);
                db.approve_transfer(&a, CAP).await.unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap() as usize;
    }
    assert_eq!(won, 6);
    assert_eq!(
        db.transfers_total("p2", "bank", day).await.unwrap(),
        18_000_000
    );
}
