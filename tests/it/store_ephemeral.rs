//! The ephemeral store's contract (one-time values, counters, sets, expiry, races) on the
//! memory store, Redis and a three-node Redis Cluster. Redis runs when `EIDP_TEST_REDIS_URL`
//! is set — CI sets it, so there a missing service fails the run.

use std::sync::Arc;

use eidp::store::Ephemeral;
use eidp::store::memory::MemoryStore;
use eidp::store::redis::RedisStore;

use crate::common::services;

async fn ephemeral_contract(e: Arc<dyn Ephemeral>) {
    e.put("k", b"v", 60).await.unwrap();
    assert_eq!(e.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(e.take("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(e.take("k").await.unwrap(), None, "take is single-use");
    assert!(e.put_new("n", b"1", 60).await.unwrap());
    assert!(!e.put_new("n", b"2", 60).await.unwrap());
    assert_eq!(e.get("n").await.unwrap().as_deref(), Some(&b"1"[..]));
    // Several keys at once (on a cluster, keys of different slots), in the order asked.
    e.put("many:a", b"1", 60).await.unwrap();
    e.put("many:c", b"3", 60).await.unwrap();
    assert_eq!(
        e.get_many(&["many:c", "many:b", "many:a"]).await.unwrap(),
        vec![Some(b"3".to_vec()), None, Some(b"1".to_vec())]
    );
    assert_eq!(e.incr("c", 60).await.unwrap(), 1);
    assert_eq!(e.incr("c", 60).await.unwrap(), 2);
    assert_eq!(e.incr_by("c", -2, 60).await.unwrap(), 0, "a refund");
    assert_eq!(e.incr_by("fresh", -1, 60).await.unwrap(), -1);
    // Parallel increments each see their own count: a limit checked on the result holds.
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move { e.incr("par", 60).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=40).collect::<Vec<i64>>());
    e.delete("n").await.unwrap();
    assert_eq!(e.get("n").await.unwrap(), None);
    e.set_add("set", "a", 60).await.unwrap();
    e.set_add("set", "b", 60).await.unwrap();
    e.set_add("set", "a", 60).await.unwrap();
    let mut members = e.set_members("set").await.unwrap();
    members.sort();
    assert_eq!(members, vec!["a", "b"]);
    e.set_remove("set", "a").await.unwrap();
    assert_eq!(e.set_members("set").await.unwrap(), vec!["b"]);
    assert!(e.set_members("no-such-set").await.unwrap().is_empty());
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
