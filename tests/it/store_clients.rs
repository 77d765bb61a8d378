//! The storage contract for managing clients, on SQLite and PostgreSQL: a change is stored
//! only over the version read, every client is listed, and disabling a client revokes its
//! grants (and no one else's).

use eidp::ids::ClientId;
use eidp::store::sql::SqlStore;
use eidp::store::*;

use crate::common::services;

fn client(id: &str, created_at: i64) -> ClientRecord {
    ClientRecord {
        client_id: ClientId::parse(id).unwrap(),
        name: format!("Cổng {id}"),
        kind: ClientKind::Portal,
        secret_hash: Some(vec![1, 2, 3]),
        auth_method: "client_secret_basic".into(),
        redirect_uris: vec!["https://a.gov.vn/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "profile".into(), "eid".into()],
        jwks: None,
        jwks_uri: None,
        id_token_alg: "ES256".into(),
        min_account_level: 1,
        min_acr: None,
        officer_id: None,
        settings: ClientSettings {
            sector: Some("a.gov.vn".into()),
            ..Default::default()
        },
        created_at,
        updated_at: created_at,
    }
}

fn grant(id: &str, client_id: &str) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        client_id: ClientId::parse(client_id).unwrap(),
        sub: None,
        rp_sub: None,
        scope: "openid".into(),
        auth_time: None,
        acr: None,
        amr: vec![],
        sid: None,
        claims: None,
        created_at: 1,
        expires_at: 10_000,
        revoked_at: None,
        refresh_generation: Some(0),
        refresh_issued_at: Some(1),
        consented: None,
        dpop_jkt: None,
        authorization_details: None,
    }
}

async fn contract(db: SqlStore) {
    let a = client("a-1", 10);
    let b = client("b-1", 20);
    db.insert_client(&b).await.unwrap();
    db.insert_client(&a).await.unwrap();
    let ids = |v: Vec<ClientRecord>| {
        v.into_iter()
            .map(|c| c.client_id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(db.clients().await.unwrap()),
        ["a-1", "b-1"],
        "oldest first"
    );

    // A change over the version read is stored, every mutable column of it.
    let mut changed = a.clone();
    changed.name = "Cổng mới".into();
    changed.secret_hash = Some(vec![9, 9]);
    changed.redirect_uris = vec!["https://a.gov.vn/cb2".into()];
    changed.post_logout_redirect_uris = vec!["https://a.gov.vn/bye".into()];
    changed.scopes = vec!["openid".into()];
    changed.min_account_level = 2;
    changed.min_acr = Some("urn:vn:eid:loa:2".into());
    changed.settings.access_token_ttl = Some(60);
    changed.settings.disabled_at = Some(50);
    changed.updated_at = 11;
    assert!(db.update_client(&changed, 10).await.unwrap());
    assert_eq!(db.client("a-1").await.unwrap(), Some(changed.clone()));
    // A change over a version that is no longer stored is refused and changes nothing.
    let mut stale = a.clone();
    stale.name = "Lost update".into();
    stale.updated_at = 12;
    assert!(!db.update_client(&stale, 10).await.unwrap());
    assert_eq!(db.client("a-1").await.unwrap(), Some(changed));
    assert!(!db.update_client(&client("nobody", 1), 1).await.unwrap());

    // Disabling a client revokes its live grants, not another client's.
    for (g, c) in [("ga1", "a-1"), ("ga2", "a-1"), ("gb1", "b-1")] {
        db.insert_grant(&grant(g, c)).await.unwrap();
    }
    db.revoke_grant("ga2", 30).await.unwrap();
    assert_eq!(db.revoke_grants_of_client("a-1", 40).await.unwrap(), 1);
    let revoked_at = |g: &'static str| {
        let db = &db;
        async move { db.grant(g).await.unwrap().unwrap().revoked_at }
    };
    assert_eq!(revoked_at("ga1").await, Some(40));
    assert_eq!(
        revoked_at("ga2").await,
        Some(30),
        "an earlier revocation stands"
    );
    assert_eq!(revoked_at("gb1").await, None);
    assert_eq!(db.revoke_grants_of_client("a-1", 41).await.unwrap(), 0);
}

#[tokio::test]
async fn client_changes_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    contract(SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn client_changes_postgres() {
    let Some(url) = services::fresh_postgres().await else {
        return services::skip("client_changes_postgres");
    };
    contract(SqlStore::connect(&url).await.unwrap()).await;
}
