//! Redis ephemeral store: what lets several nodes share sessions, codes and counters.
//!
//! A single Redis (`redis://host:6379`) or a Redis Cluster (`redis+cluster://h1:7000,h2:7001`).
//! Every command but `MGET` touches one key; the cluster client splits an `MGET` by slot. Keys
//! carry a prefix so several deployments (or test runs) can share one Redis. Timeouts are short
//! on purpose: when Redis is gone, requests fail fast with 503 instead of hanging, and the
//! connection reconnects by itself when it returns.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Script};

use super::{Ephemeral, StoreError, StoreResult};

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: String,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

/// Compiled once: the script's SHA is computed at first use, not on every counter bump.
static INCR_SCRIPT: std::sync::LazyLock<Script> =
    std::sync::LazyLock::new(|| Script::new(INCR_WITH_TTL));

const TIMEOUT: Duration = Duration::from_millis(1000);

/// INCRBY and set the expiry when the key is new, atomically (a script runs as one unit).
const INCR_WITH_TTL: &str = r"
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let conn = match url.strip_prefix("redis+cluster://") {
            Some(nodes) => {
                let nodes: Vec<String> = nodes
                    .split(',')
                    .map(|n| format!("redis://{}", n.trim()))
                    .collect();
                let client = redis::cluster::ClusterClient::builder(nodes)
                    .connection_timeout(TIMEOUT)
                    .response_timeout(TIMEOUT)
                    .retries(1)
                    .build()
                    .map_err(|e| StoreError::Other(e.to_string()))?;
                Conn::Cluster(client.get_async_connection().await.map_err(unavailable)?)
            }
            None => {
                let client =
                    redis::Client::open(url).map_err(|e| StoreError::Other(e.to_string()))?;
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                Conn::Single(
                    client
                        .get_connection_manager_with_config(cfg)
                        .await
                        .map_err(unavailable)?,
                )
            }
        };
        Ok(RedisStore {
            conn,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn run<T: FromRedisValue>(&self, cmd: &Cmd) -> StoreResult<T> {
        match &self.conn {
            Conn::Single(c) => cmd.query_async(&mut c.clone()).await,
            Conn::Cluster(c) => cmd.query_async(&mut c.clone()).await,
        }
        .map_err(unavailable)
    }

    async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        key: &str,
        args: &[i64],
    ) -> StoreResult<T> {
        let mut inv = script.key(key);
        for a in args {
            inv.arg(*a);
        }
        match &self.conn {
            Conn::Single(c) => inv.invoke_async(&mut c.clone()).await,
            Conn::Cluster(c) => inv.invoke_async(&mut c.clone()).await,
        }
        .map_err(unavailable)
    }
}

#[async_trait]
impl Ephemeral for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(value)
            .arg("EX")
            .arg(ttl_secs.max(1));
        let _: String = self.run(&cmd).await?;
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<bool> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs.max(1));
        let set: Option<String> = self.run(&cmd).await?;
        Ok(set.is_some())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.run(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn get_many(&self, keys: &[&str]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.key(k));
        }
        self.run(&cmd).await
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.run(redis::cmd("GETDEL").arg(self.key(key))).await
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let _: i64 = self.run(redis::cmd("DEL").arg(self.key(key))).await?;
        Ok(())
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl_secs: u64) -> StoreResult<i64> {
        let ttl = i64::try_from(ttl_secs.max(1)).unwrap_or(i64::MAX);
        self.script(&INCR_SCRIPT, &self.key(key), &[ttl, delta])
            .await
    }

    async fn set_add(&self, key: &str, member: &str, ttl_secs: u64) -> StoreResult<()> {
        let key = self.key(key);
        let _: i64 = self.run(redis::cmd("SADD").arg(&key).arg(member)).await?;
        let _: i64 = self
            .run(redis::cmd("EXPIRE").arg(&key).arg(ttl_secs.max(1)))
            .await?;
        Ok(())
    }

    async fn set_members(&self, key: &str) -> StoreResult<Vec<String>> {
        self.run(redis::cmd("SMEMBERS").arg(self.key(key))).await
    }

    async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        let _: i64 = self
            .run(redis::cmd("SREM").arg(self.key(key)).arg(member))
            .await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        let _: String = self.run(&redis::cmd("PING")).await?;
        Ok(())
    }
}
