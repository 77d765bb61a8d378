//! Client changes on several nodes: each node caches clients, and a change made anywhere
//! (here from the command line) is refused by every node at once (`oidc::clients::cache`).

use crate::common::{self, REDIRECT_URI, token_request};

/// Two nodes on PostgreSQL and Redis, each with the client cached: a secret rotated and a
/// client disabled from the command line are refused by both at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_every_node_at_once() {
    use crate::nodes::{Cluster, free_port, wait_ready};
    // The process's TLS provider (reqwest needs one; no in-process server installs it here).
    let _ = eidp::app::http_client();
    let (Some(db), Some(redis)) = (
        common::services::fresh_postgres().await,
        common::services::redis_url(),
    ) else {
        return common::services::skip("client changes on two nodes");
    };
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let c = Cluster {
        db,
        redis,
        redis_prefix: format!("eidp-test:{}:", eidp::crypto::random_id().unwrap()),
        kek: eidp::crypto::b64url(&eidp::crypto::random_bytes::<32>().unwrap()),
        issuer: a.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let (_na, _nb) = (c.node(pa), c.node(pb));
    wait_ready(&a).await;
    wait_ready(&b).await;
    let made = c.admin(
        &[
            "admin",
            "clients",
            "create",
            "--name",
            "Portal",
            "--kind",
            "portal",
            "--redirect-uri",
            REDIRECT_URI,
            "--json",
        ],
        None,
    );
    let id = made["client_id"].as_str().unwrap();
    let old = made["client_secret"].as_str().unwrap();
    let cc = |base: &str, secret: &str| {
        let (base, secret, id) = (base.to_string(), secret.to_string(), id.to_string());
        async move {
            let form = [("grant_type", "client_credentials")];
            token_request(&base, Some((&id, &secret)), &form).await.0
        }
    };
    // Both nodes have the client cached now.
    assert_eq!((cc(&a, old).await, cc(&b, old).await), (200, 200));
    let rotated = c.admin(
        &[
            "admin",
            "clients",
            "rotate-secret",
            "--client-id",
            id,
            "--json",
        ],
        None,
    );
    let new = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        (cc(&a, old).await, cc(&b, old).await),
        (401, 401),
        "the old secret"
    );
    assert_eq!(
        (cc(&a, new).await, cc(&b, new).await),
        (200, 200),
        "the new secret"
    );
    c.admin(
        &["admin", "clients", "disable", "--client-id", id, "--json"],
        None,
    );
    assert_eq!(
        (cc(&a, new).await, cc(&b, new).await),
        (401, 401),
        "disabled"
    );
}
