//! Delivering logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5): each node's worker
//! claims the deliveries that are due, signs a token for each and POSTs it
//! (`application/x-www-form-urlencoded`, `logout_token=…`) to the client's
//! `backchannel_logout_uri`. 200 (or 204, which some frameworks send for an empty 200, §2.8)
//! is delivered; anything else is retried with exponential backoff until the last allowed
//! attempt, then given up: audited (`backchannel_logout_failed`) and listed for admins.
//! Attempts go to the tracing log.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::token;
use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::config;
use crate::crypto;
use crate::oidc::Provider;
use crate::store::{DeliveryOutcome, LogoutDelivery, StoreError};

/// How many deliveries one poll claims (and attempts at once).
pub const BATCH: i64 = 32;
/// A claim outlives the attempt's timeout by this much before another node may take over.
const LEASE_MARGIN_SECS: i64 = 30;

/// How the provider POSTs to relying parties (implemented in `app` over its HTTP client: no
/// redirects followed, a timeout).
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// POST `form` as `application/x-www-form-urlencoded`; the answer's status, or why there
    /// was none.
    async fn post_form(
        &self,
        uri: &str,
        form: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<u16, String>;
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The relying party answered with this status.
    Status(u16),
    /// No answer (refused, timed out, TLS failed); worth trying again.
    Unreachable(String),
    /// Nothing to try again: the client is gone or disabled.
    Pointless(String),
}

/// The wait after the `attempts`-th failed attempt: base · 2^(attempts − 1), at most the cap.
pub fn backoff(cfg: &config::Backchannel, attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 40) as u32;
    cfg.backoff_base_secs
        .saturating_mul(1i64 << doublings)
        .min(cfg.backoff_cap_secs)
}

/// What the `attempts`-th attempt's answer means for the delivery.
pub fn outcome(
    cfg: &config::Backchannel,
    attempts: i64,
    answer: Answer,
    now: UnixTime,
) -> DeliveryOutcome {
    let (status, error) = match answer {
        // §2.8: 200 OK; 204 from frameworks that turn an empty 200 into one.
        Answer::Status(s @ (200 | 204)) => {
            return DeliveryOutcome::Delivered { status: s.into() };
        }
        // A 400 is retried too: the client may have refused the token only because its JWKS
        // cache has not seen a rotated-in key yet; the next attempt carries a fresh token.
        Answer::Status(s) => (Some(i64::from(s)), format!("answered HTTP {s}")),
        Answer::Unreachable(e) => (None, e),
        Answer::Pointless(e) => {
            return DeliveryOutcome::GaveUp {
                status: None,
                error: e,
            };
        }
    };
    if attempts >= cfg.max_attempts {
        DeliveryOutcome::GaveUp { status, error }
    } else {
        DeliveryOutcome::Retry {
            at: now + backoff(cfg, attempts),
            status,
            error,
        }
    }
}

/// The worker: every `poll_millis`, deliver what is due. Runs until aborted.
pub async fn run(p: Arc<Provider>, transport: Arc<dyn Transport>) {
    let every = Duration::from_millis(p.cfg.backchannel.poll_millis.max(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_once(&p, &transport).await {
            tracing::warn!(error = %e, "back-channel logout pass failed");
        }
    }
}

/// Claim the deliveries due now and attempt them all at once; returns how many.
pub async fn run_once(
    p: &Arc<Provider>,
    transport: &Arc<dyn Transport>,
) -> Result<usize, StoreError> {
    let claim = crypto::random_id().map_err(|e| StoreError::Other(e.to_string()))?;
    let now = p.now();
    let timeout = i64::try_from(p.cfg.backchannel.timeout_secs).unwrap_or(i64::MAX / 2);
    let lease_until = now
        .saturating_add(timeout)
        .saturating_add(LEASE_MARGIN_SECS);
    let due = p.db.claim_logouts(now, lease_until, &claim, BATCH).await?;
    let count = due.len();
    let mut attempts = tokio::task::JoinSet::new();
    for d in due {
        let (p, t, claim) = (p.clone(), transport.clone(), claim.clone());
        attempts.spawn(async move { attempt(&p, t.as_ref(), &claim, d).await });
    }
    while attempts.join_next().await.is_some() {}
    Ok(count)
}

/// One attempt of a claimed delivery, and its outcome recorded under the claim.
async fn attempt(p: &Provider, transport: &dyn Transport, claim: &str, d: LogoutDelivery) {
    let answer = send(p, transport, &d).await;
    let now = p.now();
    let outcome = outcome(&p.cfg.backchannel, d.attempts, answer, now);
    match &outcome {
        DeliveryOutcome::Delivered { status } => tracing::info!(
            client_id = %d.client_id, uri = %d.uri, attempt = d.attempts, status,
            "back-channel logout delivered"
        ),
        DeliveryOutcome::Retry { at, status, error } => tracing::warn!(
            client_id = %d.client_id, uri = %d.uri, attempt = d.attempts, ?status, %error,
            retry_in = at - now, "back-channel logout not delivered; will retry"
        ),
        DeliveryOutcome::GaveUp { status, error } => {
            tracing::warn!(
                client_id = %d.client_id, uri = %d.uri, attempt = d.attempts, ?status, %error,
                "back-channel logout given up"
            );
            // Recorded before the delivery is marked failed: if the log cannot take it, the
            // claim lapses and the next attempt ends here again.
            let event = Event {
                actor: "eidp".into(),
                action: actions::BACKCHANNEL_LOGOUT_FAILED,
                subject: Some(d.account_sub.to_string()),
                client_id: Some(d.client_id.to_string()),
                detail: json!({
                    "delivery": d.id, "uri": d.uri, "attempts": d.attempts,
                    "last_status": status, "last_error": error, "sid": d.sid,
                }),
                ip: None,
            };
            if let Err(e) = audit::record(p.db.as_ref(), event, now).await {
                tracing::warn!(error = %e, delivery = %d.id, "give-up not audited; left to retry");
                return;
            }
        }
    }
    match p.db.finish_logout(&d.id, claim, &outcome, now).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(delivery = %d.id, "claim lapsed before the outcome was kept"),
        Err(e) => tracing::warn!(error = %e, delivery = %d.id, "outcome not kept; claim lapses"),
    }
}

async fn send(p: &Provider, transport: &dyn Transport, d: &LogoutDelivery) -> Answer {
    let client = match p.db.client(&d.client_id).await {
        Ok(Some(c)) if c.settings.disabled_at.is_none() => c,
        Ok(Some(_)) => return Answer::Pointless("the client is disabled".into()),
        Ok(None) => return Answer::Pointless("the client no longer exists".into()),
        Err(e) => return Answer::Unreachable(format!("client not readable: {e}")),
    };
    let token = match token::sign(p, &client, d, p.now()) {
        Ok(t) => t,
        Err(e) => return Answer::Unreachable(format!("not signed: {e}")),
    };
    let timeout = Duration::from_secs(p.cfg.backchannel.timeout_secs);
    match transport
        .post_form(&d.uri, &[("logout_token", &token)], timeout)
        .await
    {
        Ok(status) => Answer::Status(status),
        Err(e) => Answer::Unreachable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> config::Backchannel {
        config::Backchannel {
            backoff_base_secs: 30,
            backoff_cap_secs: 3600,
            max_attempts: 10,
            ..Default::default()
        }
    }

    #[test]
    fn the_wait_doubles_from_the_base_up_to_the_cap() {
        let waits: Vec<i64> = (1..=10).map(|n| backoff(&cfg(), n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff(&cfg(), 0), 30, "never less than the base");
        assert_eq!(backoff(&cfg(), i64::MAX), 3600, "no overflow far out");
        let small = config::Backchannel {
            backoff_base_secs: 1,
            backoff_cap_secs: 4,
            ..cfg()
        };
        let waits: Vec<i64> = (1..=4).map(|n| backoff(&small, n)).collect();
        assert_eq!(waits, [1, 2, 4, 4]);
    }

    #[test]
    fn answers_map_to_outcomes() {
        let c = cfg();
        assert_eq!(
            outcome(&c, 1, Answer::Status(200), 100),
            DeliveryOutcome::Delivered { status: 200 }
        );
        assert_eq!(
            outcome(&c, 3, Answer::Status(204), 100),
            DeliveryOutcome::Delivered { status: 204 }
        );
        assert_eq!(
            outcome(&c, 2, Answer::Status(503), 100),
            DeliveryOutcome::Retry {
                at: 160,
                status: Some(503),
                error: "answered HTTP 503".into()
            }
        );
        assert_eq!(
            outcome(&c, 1, Answer::Unreachable("refused".into()), 100),
            DeliveryOutcome::Retry {
                at: 130,
                status: None,
                error: "refused".into()
            }
        );
        assert_eq!(
            outcome(&c, 10, Answer::Status(500), 100),
            DeliveryOutcome::GaveUp {
                status: Some(500),
                error: "answered HTTP 500".into()
            },
            "the last allowed attempt"
        );
        assert!(matches!(
            outcome(&c, 1, Answer::Pointless("gone".into()), 100),
            DeliveryOutcome::GaveUp { .. }
        ));
        // A redirect is not a delivery (and is not followed).
        assert!(matches!(
            outcome(&c, 1, Answer::Status(302), 100),
            DeliveryOutcome::Retry { .. }
        ));
    }
}
