//! A fixed pool of threads, one per core, for password hashing. Argon2id takes 19 MiB per
//! hash; on tokio's blocking pool each new thread got its own malloc arena and kept its
//! freed blocks, so resident memory climbed past 400 MiB under sign-in load. A few long-lived
//! threads reuse the same memory, bound the hashes in flight, and queue the rest.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};

use super::AuthnError;

type Job = Box<dyn FnOnce() + Send>;

static POOL: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (tx, rx) = channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    for i in 0..n {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("eidp-hash-{i}"))
            .spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a hashing thread");
        }
    }
    Mutex::new(tx)
});

/// Run `f` on the hashing pool and wait for it without blocking the async workers.
pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthnError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    POOL.lock()
        .map_err(|_| AuthnError::Internal("hashing pool poisoned".into()))?
        .send(job)
        .map_err(|_| AuthnError::Internal("hashing pool stopped".into()))?;
    rx.await
        .map_err(|_| AuthnError::Internal("hashing job lost".into()))
}
