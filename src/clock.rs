//! The only place that reads the current time. Everything else takes `now` from a [`Clock`],
//! so tests can freeze or advance time (expired codes, `max_age`) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> UnixTime {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Real time plus an adjustable offset: tests move it forward to expire codes and sessions.
#[derive(Debug, Default, Clone)]
pub struct OffsetClock {
    offset: Arc<AtomicI64>,
}

impl OffsetClock {
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixTime {
        SystemClock.now() + self.offset.load(Ordering::SeqCst)
    }
}
