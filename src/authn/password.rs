//! Password sign-in with Argon2id at the OWASP parameters (m = 19 MiB, t = 2, p = 1).
//!
//! The hash is the cost we choose to pay per sign-in; it runs on the blocking pool so it
//! never stalls the async workers.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AuthnError;
use crate::identity::{IdNumber, usable};
use crate::store::{AccountRecord, Durable};

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Verified against when the ID number has no account, so both paths cost one hash.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("not-a-real-password!A1").unwrap_or_default());

async fn verify_blocking(password: String, phc: String) -> Result<bool, AuthnError> {
    super::hasher::run(move || verify(&password, &phc)).await
}

/// Re-authentication (password change, removing a factor): does `password` match `phc`?
pub async fn matches(password: String, phc: String) -> bool {
    verify_blocking(password, phc).await.unwrap_or(false)
}

/// Hash a new password on the hashing pool.
pub async fn hash_async(password: String) -> Result<String, AuthnError> {
    super::hasher::run(move || hash(&password))
        .await?
        .map_err(AuthnError::Internal)
}

/// Hashes per second on the hashing pool, kept busy for `seconds` (every thread has a job
/// queued behind the one it runs, as under sign-in load).
pub async fn hash_rate(seconds: u64) -> Result<f64, String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = std::time::Instant::now();
    let window = std::time::Duration::from_secs(seconds.max(1));
    let mut in_flight = tokio::task::JoinSet::new();
    let mut done = 0u64;
    let mut last = started;
    loop {
        while in_flight.len() < threads * 2 && started.elapsed() < window {
            in_flight.spawn(hash_async("Bench-password-1!".into()));
        }
        match in_flight.join_next().await {
            Some(Ok(Ok(_))) => {
                done += 1;
                last = std::time::Instant::now();
            }
            Some(Ok(Err(e))) => return Err(e.to_string()),
            Some(Err(e)) => return Err(e.to_string()),
            None => break,
        }
    }
    Ok(done as f64 / (last - started).as_secs_f64().max(f64::EPSILON))
}

/// Check an ID number and password. Unknown numbers and wrong passwords are indistinguishable
/// to the caller, in answer and in time.
pub async fn sign_in(
    db: &dyn Durable,
    id_number: &str,
    password: &str,
) -> Result<AccountRecord, AuthnError> {
    let account = match IdNumber::parse(id_number) {
        Ok(id) => db.account_by_id_number(id.as_str()).await?,
        Err(_) => None,
    };
    let Some(account) = account else {
        let _ = verify_blocking(password.to_string(), DUMMY_HASH.clone()).await?;
        return Err(AuthnError::InvalidCredentials);
    };
    if !verify_blocking(password.to_string(), account.password_hash.clone()).await? {
        return Err(AuthnError::InvalidCredentials);
    }
    if !usable(&account) {
        return Err(AuthnError::Locked);
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_owasp_and_verifies() {
        let h = hash("Correct-horse1").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Correct-horse1", &h));
        assert!(!verify("Correct-horse2", &h));
        assert!(!verify("x", "not a phc string"));
    }
}
