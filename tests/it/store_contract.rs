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

async fn spend(db: &SqlStore, old: &[u8], client: &str, new: &[u8], now: i64) -> RefreshUse {
    db.rotate_refresh(old, client, &next(new), now)
        .await
        .unwrap()
}

fn next(hash: &[u8]) -> Successor {
    Successor {
        token_hash: hash.to_vec(),
        expires_at: 5_000,
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
    assert_eq!(
        spend(&db, b"r1", "c2", b"rx", 100).await,
        RefreshUse::Unknown,
        "another client cannot spend it"
    );
    let RefreshUse::Fresh(v) = db
        .rotate_refresh(b"r1", "c1", &next(b"r2"), 100)
        .await
        .unwrap()
    else {
        panic!("the first use is fresh")
    };
    assert_eq!(v.grant.id, "g1");
    assert_eq!(v.account.map(|a| a.sub).as_deref(), Some("s1"));
    assert_eq!(
        v.person,
        Some(person.clone()),
        "the view carries the register record"
    );
    let r2 = db
        .refresh(b"r2")
        .await
        .unwrap()
        .expect("successor recorded");
    assert_eq!(
        (
            r2.grant_id.as_str(),
            r2.created_at,
            r2.expires_at,
            r2.used_at
        ),
        ("g1", 100, 5_000, None)
    );
    assert!(db.refresh(b"rx").await.unwrap().is_none());
    assert_eq!(
        spend(&db, b"r1", "c1", b"r3", 101).await,
        RefreshUse::Reused("g1".into())
    );
    assert!(
        db.refresh(b"r3").await.unwrap().is_none(),
        "no successor for a replay"
    );
    assert_eq!(
        spend(&db, b"r1", "c2", b"r3", 101).await,
        RefreshUse::Unknown,
        "another client's replay does not revoke"
    );
    assert_eq!(
        spend(&db, b"nope", "c1", b"r4", 100).await,
        RefreshUse::Unknown
    );
    assert_eq!(
        spend(&db, b"r2", "c1", b"r4", 6_000).await,
        RefreshUse::Unknown,
        "expired"
    );
    // The successor never outlives its grant.
    assert!(matches!(
        spend(&db, b"r2", "c1", b"r5", 200).await,
        RefreshUse::Fresh(_)
    ));
    let far = Successor {
        token_hash: b"r6".to_vec(),
        expires_at: 99_999,
    };
    db.rotate_refresh(b"r5", "c1", &far, 300).await.unwrap();
    assert_eq!(db.refresh(b"r6").await.unwrap().unwrap().expires_at, 10_000);
    db.revoke_grant("g1", 400).await.unwrap();
    assert_eq!(
        spend(&db, b"r6", "c1", b"r7", 500).await,
        RefreshUse::Unknown,
        "a revoked grant's token is dead"
    );
    assert_eq!(db.grant("g1").await.unwrap().unwrap().revoked_at, Some(400));

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
        tokio::spawn(async move { spend(&db, b"race", "c1", b"ra", 10).await })
    };
    let b = {
        let db = db.clone();
        tokio::spawn(async move { spend(&db, b"race", "c1", b"rb", 10).await })
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
    // Many at once (SQLite group-commits them): each token presented twice, by its client.
    let mut tasks = Vec::new();
    for i in 0..24u8 {
        let gid = format!("gb{i}");
        db.insert_grant(&grant(&gid)).await.unwrap();
        db.insert_refresh(&refresh(&[b'b', i], &gid)).await.unwrap();
    }
    for round in 0..2u8 {
        for i in 0..24u8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let out = db
                    .rotate_refresh(&[b'b', i], "c1", &next(&[b'n', i, round]), 10)
                    .await
                    .unwrap();
                (i, out)
            }));
        }
    }
    let mut fresh = [0; 24];
    for t in tasks {
        match t.await.unwrap() {
            (i, RefreshUse::Fresh(v)) => {
                assert_eq!(v.grant.id, format!("gb{i}"));
                fresh[usize::from(i)] += 1;
            }
            (i, RefreshUse::Reused(g)) => assert_eq!(g, format!("gb{i}")),
            (i, RefreshUse::Unknown) => panic!("token {i} unknown"),
        }
    }
    assert_eq!(fresh, [1; 24], "each token is spent exactly once");
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
