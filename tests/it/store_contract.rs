//! One contract for every storage backend: SQLite and PostgreSQL (durable), memory and Redis
//! (ephemeral). PostgreSQL and Redis run when `EIDP_TEST_DATABASE_URL` / `EIDP_TEST_REDIS_URL`
//! are set — CI sets both, so there a missing service fails the run.

use std::sync::Arc;

use eidp::store::memory::MemoryStore;
use eidp::store::redis::RedisStore;
use eidp::store::sql::SqlStore;
use eidp::store::*;

use crate::common::services;
use crate::common::{Browser, Options, TestServer};

async fn ephemeral_contract(e: Arc<dyn Ephemeral>) {
    e.put("k", b"v", 60).await.unwrap();
    assert_eq!(e.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(e.take("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(e.take("k").await.unwrap(), None, "take is single-use");
    assert!(e.put_new("n", b"1", 60).await.unwrap());
    assert!(!e.put_new("n", b"2", 60).await.unwrap());
    assert_eq!(e.get("n").await.unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(e.incr("c", 60).await.unwrap(), 1);
    assert_eq!(e.incr("c", 60).await.unwrap(), 2);
    e.delete("n").await.unwrap();
    assert_eq!(e.get("n").await.unwrap(), None);
    e.put("short", b"x", 1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(e.get("short").await.unwrap(), None, "expires after its TTL");
    // Many takers race for one value: exactly one wins.
    e.put("race", b"v", 60).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move { e.take("race").await.unwrap().is_some() })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += t.await.unwrap() as usize;
    }
    assert_eq!(wins, 1);
    e.ping().await.unwrap();
}

fn grant(id: &str) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        client_id: "c1".into(),
        sub: Some("s1".into()),
        scope: "openid".into(),
        auth_time: Some(1),
        acr: Some("urn:vn:eid:loa:1".into()),
        amr: vec!["pwd".into()],
        sid: Some("sid".into()),
        claims: None,
        created_at: 1,
        expires_at: 10_000,
        revoked_at: None,
    }
}

fn refresh(hash: &[u8], grant_id: &str) -> RefreshRecord {
    RefreshRecord {
        token_hash: hash.to_vec(),
        grant_id: grant_id.into(),
        created_at: 1,
        expires_at: 5_000,
        used_at: None,
    }
}

async fn durable_contract(db: Arc<SqlStore>) {
    let person = PersonRecord {
        id_number: "001090000001".into(),
        full_name: "Nguyễn Văn An".into(),
        birth_date: "1990-05-15".into(),
        sex: "male".into(),
        nationality: "VN".into(),
        phone: Some("+84912345678".into()),
        email: None,
        residence: None,
        created_at: 1,
        ..Default::default()
    };
    db.upsert_person(&person).await.unwrap();
    assert_eq!(
        db.person("001090000001").await.unwrap(),
        Some(person.clone())
    );
    let acc = AccountRecord {
        sub: "s1".into(),
        id_number: person.id_number.clone(),
        password_hash: "h".into(),
        level: 1,
        state: "active".into(),
        lock_reason: None,
        created_at: 1,
        updated_at: 1,
        ..Default::default()
    };
    db.insert_account(&acc).await.unwrap();
    let dup = AccountRecord {
        sub: "s2".into(),
        ..acc.clone()
    };
    assert!(matches!(
        db.insert_account(&dup).await,
        Err(StoreError::Conflict(_))
    ));
    db.set_level("s1", 2, 5).await.unwrap();
    assert_eq!(
        db.account_by_id_number("001090000001")
            .await
            .unwrap()
            .unwrap()
            .level,
        2
    );

    db.insert_grant(&grant("g1")).await.unwrap();
    db.insert_refresh(&refresh(b"r1", "g1")).await.unwrap();
    let next = refresh(b"r2", "g1");
    assert!(
        matches!(db.rotate_refresh(b"r1", &next, 100).await.unwrap(), RefreshUse::Fresh(g) if g.id == "g1")
    );
    assert_eq!(
        db.rotate_refresh(b"r1", &refresh(b"r3", "g1"), 101)
            .await
            .unwrap(),
        RefreshUse::Reused("g1".into())
    );
    assert!(
        db.refresh(b"r3").await.unwrap().is_none(),
        "no successor for a replay"
    );
    assert_eq!(
        db.use_refresh(b"nope", 100).await.unwrap(),
        RefreshUse::Unknown
    );
    assert_eq!(
        db.use_refresh(b"r2", 6_000).await.unwrap(),
        RefreshUse::Unknown,
        "expired"
    );
    db.revoke_grant("g1", 200).await.unwrap();
    assert_eq!(db.grant("g1").await.unwrap().unwrap().revoked_at, Some(200));

    let consent = ConsentRecord {
        sub: "s1".into(),
        client_id: "c1".into(),
        scopes: vec!["openid".into()],
        granted_at: 1,
    };
    db.put_consent(&consent).await.unwrap();
    let wider = ConsentRecord {
        scopes: vec!["openid".into(), "profile".into()],
        granted_at: 2,
        ..consent
    };
    db.put_consent(&wider).await.unwrap();
    assert_eq!(db.consent("s1", "c1").await.unwrap(), Some(wider));

    // Two nodes spending one refresh token at once: one wins.
    db.insert_grant(&grant("g2")).await.unwrap();
    db.insert_refresh(&refresh(b"race", "g2")).await.unwrap();
    let a = {
        let db = db.clone();
        tokio::spawn(async move {
            db.rotate_refresh(b"race", &refresh(b"ra", "g2"), 10)
                .await
                .unwrap()
        })
    };
    let b = {
        let db = db.clone();
        tokio::spawn(async move {
            db.rotate_refresh(b"race", &refresh(b"rb", "g2"), 10)
                .await
                .unwrap()
        })
    };
    let outcomes = [a.await.unwrap(), b.await.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, RefreshUse::Fresh(_)))
            .count(),
        1,
        "{outcomes:?}"
    );
    db.ping().await.unwrap();
}

#[tokio::test]
async fn ephemeral_memory() {
    ephemeral_contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn ephemeral_redis() {
    let Some(url) = services::redis_url() else {
        return services::skip("ephemeral_redis");
    };
    let prefix = format!("eidp-test:{}:", eidp::crypto::random_id().unwrap());
    let store = RedisStore::connect(&url, &prefix)
        .await
        .unwrap_or_else(|e| panic!("EIDP_TEST_REDIS_URL is set but Redis is unreachable: {e}"));
    ephemeral_contract(Arc::new(store)).await;
}

/// A three-node Redis Cluster made by the test itself (Redis Cluster for large deployments).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_redis_cluster() {
    if services::redis_url().is_none() {
        return services::skip("ephemeral_redis_cluster");
    }
    let cluster = crate::common::services::RedisCluster::start(3);
    let store = RedisStore::connect(&cluster.url(), "eidp-test:")
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test's Redis Cluster: {e}"));
    ephemeral_contract(Arc::new(store)).await;
}

#[tokio::test]
async fn durable_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    durable_contract(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
}

#[tokio::test]
async fn durable_postgres() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("durable_postgres");
    };
    durable_contract(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
}

#[tokio::test]
async fn migrations_are_safe_when_nodes_start_together() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("concurrent migrations");
    };
    let nodes: Vec<_> = (0..4)
        .map(|_| {
            let u = url.clone();
            tokio::spawn(async move { SqlStore::connect(&u).await.map(|_| ()) })
        })
        .collect();
    for n in nodes {
        n.await.unwrap().unwrap();
    }
}

/// The full flow on PostgreSQL + Redis, the production backends.
#[tokio::test]
async fn full_flow_on_postgres_and_redis() {
    let (Some(db), Some(redis)) = (services::fresh_postgres().await, services::redis_url()) else {
        return services::skip("flow on postgres+redis");
    };
    let s = TestServer::start_with(Options {
        database_url: Some(db),
        redis_url: Some(redis),
    })
    .await;
    let who = s.citizen(60).await;
    let (c, secret) = s.confidential().await;
    let tokens = crate::common::code_flow(&s, &who, &c, &secret).await;
    assert!(tokens["id_token"].is_string());
    let _ = Browser::new();
}
