//! Redis ephemeral store: what lets several nodes share sessions, codes and counters.
//!
//! Every key carries a prefix so several deployments (or test runs) can share one Redis.
//! Timeouts are short on purpose: when Redis is gone, requests fail fast with 503 instead
//! of hanging, and the connection manager reconnects by itself when it returns.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Ephemeral, StoreError, StoreResult};

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Other(e.to_string()))?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(1000)))
            .set_response_timeout(Some(Duration::from_millis(1000)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = client
            .get_connection_manager_with_config(cfg)
            .await
            .map_err(unavailable)?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

#[async_trait]
impl Ephemeral for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<()> {
        let mut c = self.conn.clone();
        let () = c
            .set_ex(self.key(key), value, ttl_secs.max(1))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<bool> {
        let mut c = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs.max(1))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut c = self.conn.clone();
        c.get(self.key(key)).await.map_err(unavailable)
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut c = self.conn.clone();
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let mut c = self.conn.clone();
        let _: i64 = c.del(self.key(key)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn incr(&self, key: &str, ttl_secs: u64) -> StoreResult<i64> {
        let mut c = self.conn.clone();
        let k = self.key(key);
        // MULTI/EXEC so the counter never lives on without its expiry.
        let (n, _): (i64, i64) = redis::pipe()
            .atomic()
            .incr(&k, 1)
            .cmd("EXPIRE")
            .arg(&k)
            .arg(ttl_secs.max(1))
            .arg("NX")
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(n)
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
