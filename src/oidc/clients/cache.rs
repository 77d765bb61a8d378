//! A short per-node cache of clients by id, and how a change reaches every node's cache.
//!
//! Every token request needs its client, so each node keeps clients for a few seconds. A
//! change must not wait for that: a rotated secret or a disabled client stops working at
//! once. So whoever changes a client first *announces* the new version (its `updated_at`,
//! which every change moves strictly on) in the ephemeral store, which the nodes share
//! (Redis in production); a node uses a cached client only while no newer version is
//! announced, and reads the database again otherwise. The announcement is written before the
//! change is stored, so no node can cache the old version after it: a node that reads in
//! between sees the announced version missing and keeps reading until it lands.

use crate::clock::UnixTime;
use crate::store::{ClientRecord, Ephemeral, StoreResult};

/// Clients by id for a few seconds (and unknown ids too, so a flood of bad ids is cheap).
#[derive(Default)]
pub struct ClientCache {
    map: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, Option<ClientRecord>)>,
    >,
}

const CLIENT_TTL: std::time::Duration = std::time::Duration::from_secs(5);
const CLIENT_CACHE_MAX: usize = 10_000;
/// How long an announcement is kept: longer than any entry it makes stale can live.
const ANNOUNCE_TTL_SECS: u64 = 60;

pub fn announce_key(id: &str) -> String {
    format!("clientver:{id}")
}

/// Announce that client `id` is now at version `updated_at` (before storing it).
pub async fn announce(eph: &dyn Ephemeral, id: &str, updated_at: UnixTime) -> StoreResult<()> {
    let v = updated_at.to_string();
    eph.put(&announce_key(id), v.as_bytes(), ANNOUNCE_TTL_SECS)
        .await
}

/// The version a change gives a client: now, and always later than the version it replaces
/// (two changes within one second must still differ, for [`announce`] to tell them apart).
pub fn next_version(previous: UnixTime, now: UnixTime) -> UnixTime {
    now.max(previous.saturating_add(1))
}

impl ClientCache {
    pub fn get(&self, id: &str) -> Option<Option<ClientRecord>> {
        let map = self.map.lock().ok()?;
        map.get(id)
            .filter(|(at, _)| at.elapsed() < CLIENT_TTL)
            .map(|(_, c)| c.clone())
    }

    /// A cached client that no change has overtaken: none announced since, or the
    /// announced version is the cached one. A store that cannot answer means "read again".
    pub async fn get_current(&self, id: &str, eph: &dyn Ephemeral) -> Option<Option<ClientRecord>> {
        let hit = self.get(id)?;
        current(hit, eph.get(&announce_key(id)).await.ok()?)
    }

    /// The same, the announcement (under [`announce_key`]) already read by the caller.
    pub fn get_announced(
        &self,
        id: &str,
        announced: Option<Vec<u8>>,
    ) -> Option<Option<ClientRecord>> {
        current(self.get(id)?, announced)
    }

    pub fn put(&self, id: &str, c: Option<ClientRecord>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= CLIENT_CACHE_MAX {
                map.retain(|_, (at, _)| at.elapsed() < CLIENT_TTL);
                if map.len() >= CLIENT_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(id.to_string(), (std::time::Instant::now(), c));
        }
    }

    /// Drop a client this node just changed.
    pub fn forget(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }
}

/// A cached entry, unless a newer version than it was announced.
fn current(hit: Option<ClientRecord>, announced: Option<Vec<u8>>) -> Option<Option<ClientRecord>> {
    match announced {
        None => Some(hit),
        Some(v) => {
            let cached = hit.as_ref().map(|c| c.updated_at.to_string());
            (cached.as_deref().map(str::as_bytes) == Some(v.as_slice())).then_some(hit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[test]
    fn versions_always_move_on() {
        assert_eq!(next_version(10, 100), 100);
        assert_eq!(next_version(100, 100), 101);
        assert_eq!(next_version(105, 100), 106);
    }

    #[tokio::test]
    async fn an_announced_change_overtakes_the_cached_client() {
        let eph = MemoryStore::new();
        let cache = ClientCache::default();
        cache.put("c", None);
        assert_eq!(cache.get_current("c", &eph).await, Some(None));
        announce(&eph, "c", 7).await.unwrap();
        assert_eq!(cache.get_current("c", &eph).await, None, "read again");
    }

    #[test]
    fn an_announcement_read_by_the_caller_is_judged_the_same() {
        let cache = ClientCache::default();
        assert_eq!(cache.get_announced("c", None), None, "nothing cached");
        let mut c = crate::oidc::policy::tests::client(crate::store::ClientKind::Portal, &[], 1);
        c.updated_at = 7;
        cache.put("c", Some(c.clone()));
        assert_eq!(cache.get_announced("c", None), Some(Some(c.clone())));
        assert_eq!(cache.get_announced("c", Some(b"7".to_vec())), Some(Some(c)));
        assert_eq!(
            cache.get_announced("c", Some(b"8".to_vec())),
            None,
            "read again"
        );
    }
}
