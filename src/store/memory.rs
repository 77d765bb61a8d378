//! In-process ephemeral store: the embedded default for a single node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Ephemeral, StoreError, StoreResult};

#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    items: HashMap<String, (Vec<u8>, Instant)>,
    sets: HashMap<String, (std::collections::BTreeSet<String>, Instant)>,
    writes: u64,
}

impl Inner {
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut (Vec<u8>, Instant)> {
        let expired = matches!(self.items.get(key), Some((_, exp)) if *exp <= now);
        if expired {
            self.items.remove(key);
        }
        self.items.get_mut(key)
    }

    /// Expired entries are dropped lazily; a sweep every so many writes bounds the memory.
    fn after_write(&mut self, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(1024) {
            self.items.retain(|_, (_, exp)| *exp > now);
            self.sets.retain(|_, (_, exp)| *exp > now);
        }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, Inner>> {
        self.map
            .lock()
            .map_err(|_| StoreError::Other("memory store poisoned".into()))
    }
}

fn expiry(now: Instant, ttl_secs: u64) -> Instant {
    now + Duration::from_secs(ttl_secs)
}

#[async_trait]
impl Ephemeral for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<()> {
        let now = Instant::now();
        let mut m = self.lock()?;
        m.items
            .insert(key.to_string(), (value.to_vec(), expiry(now, ttl_secs)));
        m.after_write(now);
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &[u8], ttl_secs: u64) -> StoreResult<bool> {
        let now = Instant::now();
        let mut m = self.lock()?;
        if m.live(key, now).is_some() {
            return Ok(false);
        }
        m.items
            .insert(key.to_string(), (value.to_vec(), expiry(now, ttl_secs)));
        m.after_write(now);
        Ok(true)
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut m = self.lock()?;
        Ok(m.live(key, Instant::now()).map(|(v, _)| v.clone()))
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut m = self.lock()?;
        let now = Instant::now();
        Ok(m.live(key, now)
            .is_some()
            .then(|| m.items.remove(key))
            .flatten()
            .map(|(v, _)| v))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.lock()?.items.remove(key);
        Ok(())
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl_secs: u64) -> StoreResult<i64> {
        let now = Instant::now();
        let mut m = self.lock()?;
        let next = match m.live(key, now) {
            Some((v, _)) => {
                let n = parse_counter(v)?.saturating_add(delta);
                *v = n.to_string().into_bytes();
                n
            }
            None => {
                let bytes = delta.to_string().into_bytes();
                m.items
                    .insert(key.to_string(), (bytes, expiry(now, ttl_secs)));
                delta
            }
        };
        m.after_write(now);
        Ok(next)
    }

    async fn set_add(&self, key: &str, member: &str, ttl_secs: u64) -> StoreResult<()> {
        let now = Instant::now();
        let mut m = self.lock()?;
        let entry = m
            .sets
            .entry(key.to_string())
            .or_insert_with(|| (Default::default(), now));
        if entry.1 <= now {
            entry.0.clear();
        }
        entry.0.insert(member.to_string());
        entry.1 = expiry(now, ttl_secs);
        m.after_write(now);
        Ok(())
    }

    async fn set_members(&self, key: &str) -> StoreResult<Vec<String>> {
        let m = self.lock()?;
        Ok(match m.sets.get(key) {
            Some((set, exp)) if *exp > Instant::now() => set.iter().cloned().collect(),
            _ => Vec::new(),
        })
    }

    async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        if let Some((set, _)) = self.lock()?.sets.get_mut(key) {
            set.remove(member);
        }
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        self.lock().map(|_| ())
    }
}

fn parse_counter(v: &[u8]) -> StoreResult<i64> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt("counter is not a number".into()))
}
