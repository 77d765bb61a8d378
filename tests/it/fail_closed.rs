//! Security records fail closed (issue #13, finding 8): a throttle counter or an audit entry
//! that cannot be written refuses the action — replayed against a store whose writes fail.

use std::sync::Arc;

use async_trait::async_trait;
use eidp::store::memory::MemoryStore;
use eidp::store::{Ephemeral, StoreError, StoreResult};

use crate::common::browser::input_value;
use crate::common::{self, Browser, Citizen, Options, TestServer, authorize_url, pkce};
use crate::security::account_post;

/// An ephemeral store where writes of some keys fail: counters (`incr_by`) whose key starts
/// with `incr`, plain writes (`put`) whose key starts with `put`; everything else works.
struct Failing {
    inner: MemoryStore,
    incr: &'static str,
    put: &'static str,
}

impl Failing {
    fn new(incr: &'static str, put: &'static str) -> Arc<Failing> {
        Arc::new(Failing {
            inner: MemoryStore::new(),
            incr,
            put,
        })
    }
}

fn down() -> StoreError {
    StoreError::Unavailable("counter store down".into())
}

#[async_trait]
impl Ephemeral for Failing {
    async fn put(&self, k: &str, v: &[u8], t: u64) -> StoreResult<()> {
        if !self.put.is_empty() && k.starts_with(self.put) {
            return Err(down());
        }
        self.inner.put(k, v, t).await
    }
    async fn put_new(&self, k: &str, v: &[u8], t: u64) -> StoreResult<bool> {
        self.inner.put_new(k, v, t).await
    }
    async fn get(&self, k: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(k).await
    }
    async fn take(&self, k: &str) -> StoreResult<Option<Vec<u8>>> {
        self.inner.take(k).await
    }
    async fn delete(&self, k: &str) -> StoreResult<()> {
        self.inner.delete(k).await
    }
    async fn incr_by(&self, k: &str, d: i64, t: u64) -> StoreResult<i64> {
        if !self.incr.is_empty() && k.starts_with(self.incr) {
            return Err(down());
        }
        self.inner.incr_by(k, d, t).await
    }
    async fn set_add(&self, k: &str, m: &str, t: u64) -> StoreResult<()> {
        self.inner.set_add(k, m, t).await
    }
    async fn set_members(&self, k: &str) -> StoreResult<Vec<String>> {
        self.inner.set_members(k).await
    }
    async fn set_remove(&self, k: &str, m: &str) -> StoreResult<()> {
        self.inner.set_remove(k, m).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}

async fn sign_in_status(
    s: &TestServer,
    b: &Browser,
    client_id: &str,
    who: &Citizen,
    password: &str,
) -> u16 {
    let url = authorize_url(&s.base, client_id, &pkce().1, &[]);
    match b.sign_in(&url, &who.id_number, password).await {
        common::Landing::Page(status, _) => status,
        common::Landing::Redirect(_) => 302,
    }
}

#[tokio::test]
async fn a_throttle_that_cannot_count_refuses_the_sign_in() {
    let s = TestServer::start_with(Options {
        ephemeral: Some(Failing::new("fail", "")),
        ..Default::default()
    })
    .await;
    let who = s.citizen(315).await;
    let (c, _) = s.confidential().await;
    for pw in ["Wrong-pass-1", who.password.as_str()] {
        let b = Browser::new();
        assert_eq!(
            sign_in_status(&s, &b, &c.client_id, &who, pw).await,
            503,
            "{pw}"
        );
        let (_, _, page) = b.go(&s.url("/account")).await;
        assert!(page.contains("name=\"next\""), "no session");
    }
    // The wait after a failure is a security record too: when it cannot be written, the
    // failure is not answered as a plain "wrong password" that costs nothing.
    let s = TestServer::start_with(Options {
        ephemeral: Some(Failing::new("", "wait:")),
        ..Default::default()
    })
    .await;
    let who = s.citizen(315).await;
    let (c, _) = s.confidential().await;
    let free = eidp::authn::throttle::FREE_TRIES;
    for i in 1..=free {
        let status = sign_in_status(&s, &Browser::new(), &c.client_id, &who, "Wrong-pass-1").await;
        assert_eq!(status, if i < free { 401 } else { 503 }, "try {i}");
    }
}

#[tokio::test]
async fn a_history_that_cannot_be_written_refuses_the_action() {
    let s = TestServer::start().await;
    let who = s.citizen(316).await;
    let (c, _) = s.confidential().await;
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    common::confirm(&s, &b, &who, ("sms", None)).await;
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&pool)
        .await
        .unwrap();
    // Sign-in: refused, no session.
    let fresh = Browser::new();
    assert_eq!(
        sign_in_status(&s, &fresh, &c.client_id, &who, &who.password).await,
        503
    );
    let (_, _, page) = fresh.go(&s.url("/account")).await;
    assert!(page.contains("name=\"next\""), "no session");
    // A wrong password: refused as unavailable, not as a plain failure nobody recorded.
    assert_eq!(
        sign_in_status(&s, &Browser::new(), &c.client_id, &who, "Wrong-pass-1").await,
        503
    );
    // An account change: not made.
    let (status, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(status, 503, "{page}");
    assert_eq!(
        s.provider.db.recovery_codes_left(&who.sub).await.unwrap(),
        0
    );
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&pool)
        .await
        .unwrap();
    let (status, _) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "works again once the history can be written");
}

#[tokio::test]
async fn a_disclosure_the_history_cannot_hold_is_not_made() {
    let s = TestServer::start().await;
    let who = s.citizen(317).await;
    let (c, secret) = s.confidential().await;
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&pool)
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(!body.contains("Trần Thị Bình"), "nothing released: {body}");
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&pool)
        .await
        .unwrap();
    let info = common::userinfo(&s, &access).await;
    assert_eq!(
        info["name"], "Trần Thị Bình",
        "released once it can be recorded"
    );
}

/// A register import whose history cannot be written writes nothing: an upload answers 503,
/// the command line fails; both go through once the history can be written.
#[tokio::test]
async fn an_import_the_history_cannot_hold_writes_nothing() {
    let s = TestServer::start().await;
    let admin = common::officer(&s, "qt-9", "admin", "001080000999").await;
    let csv = "id_number,full_name,birth_date,sex\n001085000456,Đặng Văn Nam,1985-12-01,male\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    std::fs::write(&file, csv).unwrap();
    let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
    sqlx::query("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&pool)
        .await
        .unwrap();
    let upload = || {
        reqwest::Client::new()
            .post(s.url("/admin/v1/citizens/import"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let refused = upload().await.unwrap();
    assert_eq!(refused.status(), 503, "{}", refused.text().await.unwrap());
    let path = file.to_str().unwrap();
    let (ok, _, err) = s.cli(&["admin", "citizens", "import", path, "--json"], None);
    assert!(!ok, "the command line fails too");
    assert!(err.contains("audit log not written"), "{err}");
    assert_eq!(s.provider.db.person("001085000456").await.unwrap(), None);
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(upload().await.unwrap().status(), 200);
    assert!(
        s.provider
            .db
            .person("001085000456")
            .await
            .unwrap()
            .is_some()
    );
}
