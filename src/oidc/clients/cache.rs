//! A short per-node cache of clients by id.

use crate::store::ClientRecord;

/// Clients by id for a few seconds (and unknown ids too, so a flood of bad ids is cheap).
#[derive(Default)]
pub struct ClientCache {
    map: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, Option<ClientRecord>)>,
    >,
}

const CLIENT_TTL: std::time::Duration = std::time::Duration::from_secs(5);
const CLIENT_CACHE_MAX: usize = 10_000;

impl ClientCache {
    pub fn get(&self, id: &str) -> Option<Option<ClientRecord>> {
        let map = self.map.lock().ok()?;
        map.get(id)
            .filter(|(at, _)| at.elapsed() < CLIENT_TTL)
            .map(|(_, c)| c.clone())
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
}
