//! Per-node cache of the signing key set, loaded from the durable store and refreshed, so a
//! rotation made on any node reaches every node without a restart.

use std::sync::{Arc, RwLock};

use jsonwebtoken::Algorithm;

use super::keyset::{self, KeySet, SUPPORTED_ALGS};
use super::{CryptoError, Kek};
use crate::clock::UnixTime;
use crate::store::{KeyStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct KeyService {
    kek: Arc<Kek>,
    current: RwLock<Arc<KeySet>>,
}

impl KeyService {
    pub fn new(kek: Arc<Kek>) -> KeyService {
        KeyService {
            kek,
            current: RwLock::new(Arc::new(KeySet::default())),
        }
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub async fn reload(&self, db: &dyn KeyStore) -> Result<(), KeyError> {
        let set = KeySet::from_records(&db.keys().await?, &self.kek)?;
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(p) => *p.into_inner() = Arc::new(set),
        }
        Ok(())
    }

    /// First start: make sure every supported algorithm has a key. Returns how many were made.
    /// The keys are generated side by side: the two RSA keys are most of a first start, and
    /// one after the other they could pass a second.
    pub async fn ensure_keys(&self, db: &dyn KeyStore, now: UnixTime) -> Result<usize, KeyError> {
        let existing = db.keys().await?;
        let generating: Vec<_> = SUPPORTED_ALGS
            .into_iter()
            .filter(|alg| !existing.iter().any(|k| k.alg == keyset::alg_name(*alg)))
            .map(|alg| {
                let kek = self.kek.clone();
                tokio::task::spawn_blocking(move || keyset::generate(alg, &kek, now, now))
            })
            .collect();
        let mut made = 0;
        for generated in generating {
            let rec = generated
                .await
                .map_err(|e| CryptoError::Key(e.to_string()))??;
            match db.insert_key(&rec).await {
                Ok(()) => made += 1,
                // Another node starting at the same time made one: fine, use theirs too.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.reload(db).await?;
        Ok(made)
    }

    /// Rotate `alg`: publish a successor now that signs from `activate_at`; the current signer
    /// retires then and stays published `keep_published` seconds longer, so every token it
    /// signed can still be verified. Keys whose publication ended are deleted.
    pub async fn rotate(
        &self,
        db: &dyn KeyStore,
        alg: Algorithm,
        now: UnixTime,
        activate_at: UnixTime,
        keep_published: i64,
    ) -> Result<String, KeyError> {
        let current = KeySet::from_records(&db.keys().await?, &self.kek)?;
        let retiring = current.signer(alg, now).ok().map(|k| k.kid.clone());
        let kek = self.kek.clone();
        let rec =
            tokio::task::spawn_blocking(move || keyset::generate(alg, &kek, now, activate_at))
                .await
                .map_err(|e| CryptoError::Key(e.to_string()))??;
        let kid = rec.kid.clone();
        db.insert_key(&rec).await?;
        if let Some(old) = retiring {
            db.set_key_schedule(&old, Some(activate_at), Some(activate_at + keep_published))
                .await?;
        }
        db.delete_removed_keys(now).await?;
        self.reload(db).await?;
        Ok(kid)
    }
}
