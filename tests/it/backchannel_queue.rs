//! The back-channel logout queue: deliveries given up are audited and listed for admins; a
//! restart loses none; and, at the store level on SQLite and PostgreSQL, two nodes never
//! claim one delivery, a lapsed claim cannot record an outcome, and the backoff holds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use eidp::config::Config;
use eidp::ids::{ClientId, Subject};
use eidp::store::sql::SqlStore;
use eidp::store::*;
use serde_json::Value;

use crate::backchannel::{bcl_client, next_token, rp, rp_on, signed_in, verify};
use crate::common::{self, Browser, Options, TestServer, services};

fn two_attempts(cfg: &mut Config) {
    cfg.backchannel.poll_millis = 100;
    cfg.backchannel.backoff_base_secs = 1;
    cfg.backchannel.backoff_cap_secs = 1;
    cfg.backchannel.max_attempts = 2;
}

fn patient(cfg: &mut Config) {
    cfg.backchannel.poll_millis = 100;
    cfg.backchannel.backoff_base_secs = 1;
    cfg.backchannel.backoff_cap_secs = 1;
    cfg.backchannel.max_attempts = 50;
}

async fn sign_out(s: &TestServer, b: &Browser, id_token: &str) {
    let hint = url::form_urlencoded::byte_serialize(id_token.as_bytes()).collect::<String>();
    let (_, status, page) = b.go(&s.url(&format!("/logout?id_token_hint={hint}"))).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn a_relying_party_that_keeps_failing_is_given_up_audited_and_listed_for_admins() {
    let s = TestServer::start_with(Options {
        configure: Some(two_attempts),
        ..Default::default()
    })
    .await;
    let rp = rp(usize::MAX, 500).await;
    let who = s.citizen(511).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    let b = Browser::new();
    let (raw, _) = signed_in(&s, &b, &who, &c, &secret).await;
    sign_out(&s, &b, &raw).await;
    let db = s.provider.db.clone();
    let mut failed = Vec::new();
    for _ in 0..100 {
        failed = db.logouts(DeliveryFilter::Failed, 10).await.unwrap();
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failed.len(), 1, "given up after the last attempt");
    assert_eq!(rp.hits.load(Ordering::SeqCst), 2);
    let admin = common::officer(&s, "AD-BCL", "admin", "001090000019").await;
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(s.url("/admin/v1/backchannel-logouts?state=failed"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = &listed["deliveries"][0];
    assert_eq!(row["client_id"], c.client_id.as_str(), "{listed}");
    assert_eq!(row["uri"], rp.uri.as_str());
    assert_eq!(row["state"], "failed");
    assert_eq!(row["attempts"], 2);
    assert_eq!(row["last_status"], 500);
    assert_eq!(row["last_error"], "answered HTTP 500");
    assert!(row["failed_at"].is_i64() && row["created_at"].is_i64());
    assert!(row.get("sub").is_none(), "who it is about is not listed");
    // An officer without the admin role may not look.
    let officer = common::officer(&s, "CA-BCL", "officer", "001090000029").await;
    let r = http
        .get(s.url("/admin/v1/backchannel-logouts"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The same listing from the command line.
    let (ok, out, err) = s.cli(
        &["admin", "backchannel", "list", "--failed", "--json"],
        None,
    );
    assert!(ok, "{err}");
    let cli: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(cli["deliveries"][0]["id"], row["id"]);
    let log = db.audit_since(0, 1000).await.unwrap();
    let entry = log
        .iter()
        .find(|e| e.action == "backchannel_logout_failed")
        .expect("the give-up is audited");
    assert_eq!(entry.subject.as_deref(), Some(who.sub.as_str()));
    assert_eq!(entry.client_id.as_deref(), Some(c.client_id.as_str()));
}

#[tokio::test]
async fn a_restart_loses_no_delivery() {
    // The relying party's address, with nothing listening there yet.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let first = TestServer::start_with(Options {
        configure: Some(patient),
        ..Default::default()
    })
    .await;
    let who = first.citizen(512).await;
    let (c, secret) = bcl_client(&first, &format!("http://{addr}/bcl")).await;
    let b = Browser::new();
    let (raw, idt) = signed_in(&first, &b, &who, &c, &secret).await;
    sign_out(&first, &b, &raw).await;
    let pending = first
        .provider
        .db
        .logouts(DeliveryFilter::Pending, 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    // The node goes down before the relying party is reachable.
    let (dir, database_url) = (first.dir(), first.database_url.clone());
    drop(first);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let mut rp = rp_on(listener, 0, 200).await;
    let second = TestServer::start_with(Options {
        configure: Some(patient),
        database_url: Some(database_url),
        dir: Some(dir),
        ..Default::default()
    })
    .await;
    let token = next_token(&mut rp, 15).await;
    verify(&second, &token, &c.client_id, &idt).await;
}

/// A security record never fails open: when the logouts cannot be queued, the sign-out and the
/// lock are not made (the person and the officer are asked to try again).
#[tokio::test]
async fn a_sign_out_or_lock_whose_logouts_cannot_be_queued_is_not_made() {
    let s = TestServer::start_with(Options {
        configure: Some(patient),
        ..Default::default()
    })
    .await;
    let mut rp = rp(0, 200).await;
    let who = s.citizen(513).await;
    let (c, secret) = bcl_client(&s, &rp.uri).await;
    let b = Browser::new();
    let (raw, idt) = signed_in(&s, &b, &who, &c, &secret).await;
    let admin = common::officer(&s, "AD-BCL2", "admin", "001090000039").await;
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    let off = rename("backchannel_logouts", "backchannel_logouts_off");
    sqlx::query(sqlx::AssertSqlSafe(off))
        .execute(&pool)
        .await
        .unwrap();
    let hint = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
    let (_, status, _) = b.go(&s.url(&format!("/logout?id_token_hint={hint}"))).await;
    assert_eq!(status, 503, "try later");
    let (_, _, page) = b.go(&s.url("/account")).await;
    assert!(!page.contains("name=\"next\""), "still signed in");
    let lock = || {
        reqwest::Client::new()
            .post(s.url(&format!("/admin/v1/accounts/{}/lock", who.id_number)))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"reason": "terms_violation", "note": "Quyết định 8"}))
            .send()
    };
    assert_eq!(lock().await.unwrap().status(), 503);
    let account = s
        .provider
        .db
        .account_by_sub(&who.sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.state, AccountState::Active, "not locked");
    let on = rename("backchannel_logouts_off", "backchannel_logouts");
    sqlx::query(sqlx::AssertSqlSafe(on))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(lock().await.unwrap().status(), 200);
    let token = next_token(&mut rp, 10).await;
    verify(&s, &token, &c.client_id, &idt).await;
}

fn delivery(id: &str, due: i64) -> LogoutDelivery {
    LogoutDelivery {
        id: id.into(),
        client_id: ClientId::parse("c1").unwrap(),
        uri: "https://rp.vn/bcl".into(),
        sub: Subject::parse("pairwise-1").unwrap(),
        account_sub: Subject::parse("s1").unwrap(),
        sid: Some("sid-1".into()),
        attempts: 0,
        next_attempt_at: due,
        last_error: None,
        last_status: None,
        delivered_at: None,
        failed_at: None,
        created_at: due,
    }
}

fn grant(id: &str, client: &str, sid: &str, expires_at: i64) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        client_id: ClientId::parse(client).unwrap(),
        sub: Some(Subject::parse("s1").unwrap()),
        rp_sub: None,
        scope: "openid".into(),
        auth_time: Some(1),
        acr: None,
        amr: vec![],
        sid: Some(sid.into()),
        claims: None,
        created_at: 1,
        expires_at,
        revoked_at: None,
        refresh_generation: None,
        refresh_issued_at: None,
        consented: None,
        dpop_jkt: None,
        authorization_details: None,
    }
}

/// Two handles on one database (two nodes), then a third after both are gone (a restart).
async fn queue_contract(url: &str) {
    let a = Arc::new(SqlStore::connect(url).await.unwrap());
    let b = Arc::new(SqlStore::connect(url).await.unwrap());
    // Who must be told comes from live grants only.
    for g in [
        grant("g1", "c1", "x", 500),
        grant("g2", "c2", "x", 500),
        grant("g3", "c1", "y", 500),
        grant("g4", "c1", "x", 50),
    ] {
        a.insert_grant(&g).await.unwrap();
    }
    a.revoke_grant("g3", 10).await.unwrap();
    let ids = |gs: Vec<GrantRecord>| gs.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(
        ids(a.live_grants_of("s1", None, None, 100).await.unwrap()),
        ["g1", "g2"]
    );
    assert_eq!(
        ids(b.live_grants_of("s1", Some("x"), None, 100).await.unwrap()),
        ["g1", "g2"]
    );
    assert_eq!(
        ids(b.live_grants_of("s1", None, Some("c2"), 100).await.unwrap()),
        ["g2"]
    );
    assert!(
        b.live_grants_of("s1", Some("y"), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Queued all at once; two nodes claim in parallel: each delivery goes to one of them.
    let items: Vec<_> = (0..40)
        .map(|i| delivery(&format!("d{i:02}"), 1000))
        .collect();
    a.enqueue_logouts(&items).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            db.claim_logouts(1000, 1100, &format!("claim-{i}"), 4)
                .await
                .unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<_> = claimed.iter().map(|d| d.id.clone()).collect();
    assert_eq!(distinct.len(), claimed.len(), "no delivery claimed twice");
    assert!(
        claimed
            .iter()
            .all(|d| d.attempts == 1 && d.next_attempt_at == 1100)
    );
    let rest = a.claim_logouts(1000, 1100, "late", 100).await.unwrap();
    assert_eq!(
        claimed.len() + rest.len(),
        40,
        "every delivery claimed once"
    );
    assert!(
        b.claim_logouts(1050, 1150, "again", 100)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // Only the claim that holds a delivery records its outcome.
    let one = &rest[0];
    let delivered = DeliveryOutcome::Delivered { status: 200 };
    assert!(
        !b.finish_logout(&one.id, "claim-0", &delivered, 1001)
            .await
            .unwrap()
    );
    let retry = DeliveryOutcome::Retry {
        at: 1200,
        status: Some(503),
        error: "503".into(),
    };
    assert!(
        b.finish_logout(&one.id, "late", &retry, 1001)
            .await
            .unwrap()
    );
    assert!(
        !a.finish_logout(&one.id, "late", &delivered, 1002)
            .await
            .unwrap(),
        "spent"
    );
    let gave_up = DeliveryOutcome::GaveUp {
        status: Some(500),
        error: "500".into(),
    };
    assert!(
        a.finish_logout(&rest[1].id, "late", &gave_up, 1003)
            .await
            .unwrap()
    );
    assert!(
        a.finish_logout(&rest[2].id, "late", &delivered, 1004)
            .await
            .unwrap()
    );
    drop((a, b));
    // After a restart: nothing lost; the retried one is due at its time, with its history.
    let c = SqlStore::connect(url).await.unwrap();
    let failed = c.logouts(DeliveryFilter::Failed, 100).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].failed_at, failed[0].last_status),
        (Some(1003), Some(500))
    );
    let pending = c.logouts(DeliveryFilter::Pending, 100).await.unwrap();
    assert_eq!(pending.len(), 38);
    let undelivered = c.logouts(DeliveryFilter::Undelivered, 100).await.unwrap();
    assert_eq!(undelivered.len(), 39, "pending and failed");
    let due = c.claim_logouts(1199, 1300, "after", 100).await.unwrap();
    assert!(
        due.iter().all(|d| d.id != one.id),
        "not before its retry time"
    );
    let due = c.claim_logouts(1200, 1300, "after", 100).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].attempts, due[0].last_error.as_deref()),
        (2, Some("503"))
    );
    assert_eq!(c.prune_delivered_logouts(1005).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    queue_contract(&format!("sqlite://{}", dir.path().join("q.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_on_postgres() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("queue_on_postgres");
    };
    queue_contract(&url).await;
}
