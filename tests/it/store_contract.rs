//! One contract for every durable storage backend, SQLite and PostgreSQL (the ephemeral
//! stores' is in `store_ephemeral`). PostgreSQL and Redis run when `EIDP_TEST_DATABASE_URL` /
//! `EIDP_TEST_REDIS_URL` are set — CI sets both, so there a missing service fails the run.

use std::sync::Arc;

use eidp::ids::{ClientId, Subject};
use eidp::store::sql::SqlStore;
use eidp::store::*;

use crate::common::services;
use crate::common::{Browser, Options, TestServer};

pub fn grant(id: &str) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        client_id: ClientId::parse("c1").unwrap(),
        sub: Some(Subject::parse("s1").unwrap()),
        rp_sub: Some(Subject::parse("pairwise-s1").unwrap()),
        scope: "openid".into(),
        auth_time: Some(1),
        acr: Some("urn:vn:eid:loa:1".into()),
        amr: vec!["pwd".into()],
        sid: Some("sid".into()),
        claims: None,
        created_at: 1,
        expires_at: 10_000,
        revoked_at: None,
        refresh_generation: Some(0),
        refresh_issued_at: Some(1),
        consented: Some(eidp::store::Consented {
            receipt: "r1".into(),
            claims: vec!["name".into()],
        }),
        dpop_jkt: Some("jkt-1".into()),
        authorization_details: Some(r#"[{"amount":"5000000","type":"vn_bank_transfer"}]"#.into()),
    }
}

async fn spend(
    db: &SqlStore,
    grant_id: &str,
    generation: i64,
    client: &str,
    now: i64,
) -> RefreshUse {
    let presented = RefreshRef {
        grant_id: grant_id.into(),
        generation,
    };
    db.rotate_refresh(&presented, client, now).await.unwrap()
}

async fn generation(db: &SqlStore, grant_id: &str) -> Option<i64> {
    db.grant(grant_id)
        .await
        .unwrap()
        .unwrap()
        .refresh_generation
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
        sub: Subject::parse("s1").unwrap(),
        id_number: person.id_number.clone(),
        password_hash: "h".into(),
        level: 1,
        state: AccountState::Active,
        lock_reason: None,
        lock_note: None,
        session_epoch: 0,
        created_at: 1,
        updated_at: 1,
    };
    db.insert_account(&acc).await.unwrap();
    let dup = AccountRecord {
        sub: Subject::parse("s2").unwrap(),
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
    assert_eq!(
        spend(&db, "g1", 0, "c2", 100).await,
        RefreshUse::Unknown,
        "another client cannot spend it"
    );
    let RefreshUse::Fresh(v) = spend(&db, "g1", 0, "c1", 100).await else {
        panic!("the first use is fresh")
    };
    assert_eq!(v.grant.id, "g1");
    assert_eq!(
        (v.grant.refresh_generation, v.grant.refresh_issued_at),
        (Some(1), Some(100)),
        "the family moved one generation on"
    );
    assert_eq!(v.account.map(|a| a.sub).as_deref(), Some("s1"));
    assert_eq!(
        v.person,
        Some(person.clone()),
        "the view carries the register record"
    );
    assert_eq!(generation(&db, "g1").await, Some(1));
    assert_eq!(
        spend(&db, "g1", 0, "c1", 101).await,
        RefreshUse::Reused("g1".into())
    );
    assert_eq!(
        generation(&db, "g1").await,
        Some(1),
        "a replay moves nothing"
    );
    assert_eq!(
        spend(&db, "g1", 0, "c2", 101).await,
        RefreshUse::Unknown,
        "another client's replay does not revoke"
    );
    assert_eq!(spend(&db, "nope", 0, "c1", 100).await, RefreshUse::Unknown);
    assert_eq!(
        spend(&db, "g1", 7, "c1", 100).await,
        RefreshUse::Unknown,
        "a generation not yet issued"
    );
    assert_eq!(
        spend(&db, "g1", 1, "c1", 10_000).await,
        RefreshUse::Unknown,
        "the family ends with its grant"
    );
    assert!(matches!(
        spend(&db, "g1", 1, "c1", 200).await,
        RefreshUse::Fresh(_)
    ));
    db.revoke_grant("g1", 400).await.unwrap();
    assert_eq!(
        spend(&db, "g1", 2, "c1", 500).await,
        RefreshUse::Unknown,
        "a revoked grant's token is dead"
    );
    assert_eq!(db.grant("g1").await.unwrap().unwrap().revoked_at, Some(400));
    let no_refresh = GrantRecord {
        refresh_generation: None,
        refresh_issued_at: None,
        ..grant("gcc")
    };
    db.insert_grant(&no_refresh).await.unwrap();
    assert_eq!(
        spend(&db, "gcc", 0, "c1", 100).await,
        RefreshUse::Unknown,
        "a grant issued without a refresh token has none to spend"
    );
    assert_eq!(db.grant("gcc").await.unwrap(), Some(no_refresh));

    crate::store_consents::consents(&db).await;
    crate::store_consents::verifications(&db).await;
    crate::store_consents::people(&db).await;
    crate::store_transfers::transfers(db.clone()).await;
    crate::store_face::face_checks(&db).await;
    crate::store_face::identity_evidence(&db).await;

    // Two nodes spending one refresh token at once: one wins, the other is a replay.
    db.insert_grant(&grant("g2")).await.unwrap();
    let a = {
        let db = db.clone();
        tokio::spawn(async move { spend(&db, "g2", 0, "c1", 10).await })
    };
    let b = {
        let db = db.clone();
        tokio::spawn(async move { spend(&db, "g2", 0, "c1", 10).await })
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
    assert_eq!(generation(&db, "g2").await, Some(1));
    // Many at once (group-committed): each token presented twice, by its client.
    let mut tasks = Vec::new();
    for i in 0..24u8 {
        db.insert_grant(&grant(&format!("gb{i}"))).await.unwrap();
    }
    for _ in 0..2 {
        for i in 0..24u8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                (i, spend(&db, &format!("gb{i}"), 0, "c1", 10).await)
            }));
        }
    }
    let mut fresh = [0; 24];
    for t in tasks {
        match t.await.unwrap() {
            (i, RefreshUse::Fresh(v)) => {
                assert_eq!(v.grant.id, format!("gb{i}"));
                assert_eq!(v.grant.refresh_generation, Some(1));
                fresh[usize::from(i)] += 1;
            }
            (i, RefreshUse::Reused(g)) => assert_eq!(g, format!("gb{i}")),
            (i, RefreshUse::Unknown) => panic!("token {i} unknown"),
        }
    }
    assert_eq!(fresh, [1; 24], "each token is spent exactly once");
    for i in 0..24u8 {
        assert_eq!(generation(&db, &format!("gb{i}")).await, Some(1));
    }
    client_contract(&db).await;
    db.ping().await.unwrap();
}

/// A client with every setting comes back as it went in.
async fn client_contract(db: &SqlStore) {
    let c = ClientRecord {
        client_id: ClientId::parse("bank-1").unwrap(),
        name: "Ngân hàng Một".into(),
        kind: ClientKind::Bank,
        secret_hash: Some(vec![1, 2, 3]),
        auth_method: "private_key_jwt".into(),
        redirect_uris: vec!["https://bank.vn/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "eid".into()],
        jwks: Some("{\"keys\":[]}".into()),
        jwks_uri: None,
        id_token_alg: "PS256".into(),
        min_account_level: 2,
        min_acr: Some("urn:vn:eid:loa:3".into()),
        officer_id: None,
        settings: ClientSettings {
            subject_type: SubjectType::Pairwise,
            sector: Some("bank.vn".into()),
            sector_identifier_uri: Some("https://bank.vn/sector.json".into()),
            access_token_ttl: Some(120),
            refresh_token_ttl: None,
            policy_override: Some("Quyết định 12".into()),
            purposes: vec![eidp::store::Purpose {
                id: "open".into(),
                text_vi: "Mở tài khoản".into(),
                text_en: "Open an account".into(),
                required_claims: vec!["name".into()],
                version: 2,
            }],
            backchannel_logout_uri: Some("https://bank.vn/bcl".into()),
            backchannel_logout_session_required: true,
            disabled_at: None,
            profile: eidp::store::Profile::Fapi2,
        },
        created_at: 5,
        updated_at: 6,
    };
    db.insert_client(&c).await.unwrap();
    assert_eq!(db.client("bank-1").await.unwrap(), Some(c));
}

/// Two stores on one database (two nodes, or the CLI beside a server) append to the audit log
/// at once: every entry lands, and the chain stays one line.
async fn audit_chain_contract(a: Arc<SqlStore>, b: Arc<SqlStore>) {
    // Many at once from two stores: appends queue and are written in batches (group commit),
    // each entry still chained to the one before and each caller told its own entry.
    let mut tasks = Vec::new();
    for i in 0..300u32 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let event = eidp::audit::Event {
                actor: "cli".into(),
                action: eidp::audit::actions::LOCKED,
                subject: Some(format!("s{i}")),
                ..Default::default()
            };
            eidp::audit::record(db.as_ref(), event, 1_000 + i64::from(i)).await
        }));
    }
    let mut seqs = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let seq = t
            .await
            .unwrap()
            .expect("an append fails only when the database does");
        seqs.push((seq, format!("s{i}")));
    }
    let log = a.audit_since(0, i64::MAX).await.unwrap();
    assert_eq!(log.len(), 300, "every append has its own entry");
    for (seq, subject) in &seqs {
        let entry = log
            .iter()
            .find(|e| e.seq == *seq)
            .expect("the seq told exists");
        assert_eq!(
            entry.subject.as_ref(),
            Some(subject),
            "each caller gets its own seq"
        );
    }
    assert_eq!(eidp::audit::verify_chain(&log), Ok(()), "the chain forked");
    assert_eq!(
        log[0].prev_hash,
        vec![0u8; 32],
        "the first entry follows the genesis"
    );
    // Each store goes on appending after the other's entries.
    for db in [&a, &b, &a] {
        let e = eidp::audit::Event {
            actor: "cli".into(),
            action: eidp::audit::actions::UNLOCKED,
            ..Default::default()
        };
        eidp::audit::record(db.as_ref(), e, 2_000).await.unwrap();
    }
    let log = b.audit_since(0, i64::MAX).await.unwrap();
    assert_eq!(log.len(), 303);
    assert_eq!(eidp::audit::verify_chain(&log), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_chain_sqlite_two_writers() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    audit_chain_contract(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_chain_postgres_two_nodes() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("audit_chain_postgres_two_nodes");
    };
    let a = Arc::new(SqlStore::connect(&url).await.unwrap());
    let b = Arc::new(SqlStore::connect(&url).await.unwrap());
    audit_chain_contract(a, b).await;
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
        ..Default::default()
    })
    .await;
    let who = s.citizen(60).await;
    let (c, secret) = s.confidential().await;
    let tokens = crate::common::code_flow(&s, &who, &c, &secret).await;
    assert!(tokens["id_token"].is_string());
    let _ = Browser::new();
}
