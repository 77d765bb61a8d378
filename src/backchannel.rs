//! Back-channel logout, the queue half: who must be told that a person signed out, written in
//! the same action that signs them out (OpenID Connect Back-Channel Logout 1.0 §2.7).
//!
//! Every relying party that registered a `backchannel_logout_uri` and holds a live grant (not
//! revoked, not expired) of the person is told, once per session of its own (client, the
//! `sub` it knows, `sid`). The triggers:
//!
//! * [`for_session`] — one session signed out (`/logout`, "end this session" on the account
//!   page);
//! * [`for_account`] — every session of the account (lock, password change or reset);
//! * [`for_client`] — one relying party's sessions (consent withdrawal).
//!
//! Each writes the deliveries to the durable queue and returns how many; it must run *before*
//! the action revokes the grants it reads, and a queue that cannot be written fails the action
//! (a security record never fails open). Signing the logout token and delivering it is
//! `oidc::backchannel`'s work, on any node, after the action.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::clock::UnixTime;
use crate::crypto;
use crate::ids::{ClientId, Subject};
use crate::store::{
    ClientRecord, DeliveryFilter, Durable, GrantRecord, LogoutDelivery, StoreError, StoreResult,
};

/// Queue a logout for the relying parties of one session: the person `sub` signed out of the
/// session `sid` (the `sid` claim of the ID tokens it issued).
pub async fn for_session(
    db: &dyn Durable,
    sub: &Subject,
    sid: &str,
    now: UnixTime,
) -> StoreResult<usize> {
    let grants = db.live_grants_of(sub, Some(sid), None, now).await?;
    queue(db, sub, &grants, now).await
}

/// Queue a logout for every relying party of every session of the account `sub` (lock,
/// password change or reset). Call it before the grants are revoked.
pub async fn for_account(db: &dyn Durable, sub: &Subject, now: UnixTime) -> StoreResult<usize> {
    let grants = db.live_grants_of(sub, None, None, now).await?;
    queue(db, sub, &grants, now).await
}

/// Queue a logout for one relying party: the person `sub` (the account's own `sub`, not the
/// pairwise one the client knows) ends their relationship with `client_id`, e.g. by
/// withdrawing consent. The client is told once per session in which it holds a live grant;
/// nothing is queued when it registered no `backchannel_logout_uri`, is disabled, or holds no
/// live grant. Call it *before* revoking those grants (it reads them), in the same action, and
/// fail the action on `Err` (the error is `StoreError::Unavailable`: answer "try later").
/// Returns how many deliveries were queued.
pub async fn for_client(
    db: &dyn Durable,
    sub: &Subject,
    client_id: &ClientId,
    now: UnixTime,
) -> StoreResult<usize> {
    let grants = db
        .live_grants_of(sub, None, Some(client_id.as_str()), now)
        .await?;
    queue(db, sub, &grants, now).await
}

async fn queue(
    db: &dyn Durable,
    sub: &Subject,
    grants: &[GrantRecord],
    now: UnixTime,
) -> StoreResult<usize> {
    let not_queued = |e: StoreError| match e {
        StoreError::Unavailable(_) => e,
        other => StoreError::Unavailable(format!("back-channel logouts not queued: {other}")),
    };
    let ids: BTreeSet<&ClientId> = grants.iter().map(|g| &g.client_id).collect();
    let mut clients = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(c) = db.client(id).await.map_err(not_queued)? {
            clients.push(c);
        }
    }
    let mut items = deliveries(sub, grants, &clients, now);
    for d in &mut items {
        d.id = crypto::random_id().map_err(|e| not_queued(StoreError::Other(e.to_string())))?;
    }
    db.enqueue_logouts(&items).await.map_err(not_queued)?;
    if !items.is_empty() {
        tracing::info!(sub = %sub, count = items.len(), "back-channel logouts queued");
    }
    Ok(items.len())
}

/// The deliveries `grants` call for (ids left empty): one per client that registered a
/// back-channel URI and is not disabled, per `sub` it knows and session.
fn deliveries(
    sub: &Subject,
    grants: &[GrantRecord],
    clients: &[ClientRecord],
    now: UnixTime,
) -> Vec<LogoutDelivery> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for g in grants {
        let Some(client) = clients.iter().find(|c| c.client_id == g.client_id) else {
            continue;
        };
        let Some(uri) = &client.settings.backchannel_logout_uri else {
            continue;
        };
        // A disabled client is refused everywhere; it gets nothing more from us either.
        if client.settings.disabled_at.is_some() {
            continue;
        }
        // The `sub` this client received (grants from before pairwise identifiers: public).
        let rp_sub = g.rp_sub.clone().unwrap_or_else(|| sub.clone());
        if !seen.insert((g.client_id.clone(), rp_sub.clone(), g.sid.clone())) {
            continue;
        }
        if client.settings.backchannel_logout_session_required && g.sid.is_none() {
            tracing::warn!(client_id = %g.client_id, "client requires sid; the grant has none");
        }
        out.push(LogoutDelivery {
            id: String::new(),
            client_id: g.client_id.clone(),
            uri: uri.clone(),
            sub: rp_sub,
            account_sub: sub.clone(),
            sid: g.sid.clone(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            last_status: None,
            delivered_at: None,
            failed_at: None,
            created_at: now,
        });
    }
    out
}

/// A delivery as admins see it: where, how often tried, what went wrong. Not who it is about.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: String,
    pub client_id: String,
    pub uri: String,
    /// `pending` | `failed` | `delivered`
    pub state: &'static str,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_status: Option<i64>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<UnixTime>,
    pub created_at: UnixTime,
    pub failed_at: Option<UnixTime>,
}

impl From<LogoutDelivery> for Listed {
    fn from(d: LogoutDelivery) -> Listed {
        let state = match (d.delivered_at, d.failed_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "failed",
            (None, None) => "pending",
        };
        Listed {
            id: d.id,
            client_id: d.client_id.to_string(),
            uri: d.uri,
            state,
            attempts: d.attempts,
            last_error: d.last_error,
            last_status: d.last_status,
            next_attempt_at: (state == "pending").then_some(d.next_attempt_at),
            created_at: d.created_at,
            failed_at: d.failed_at,
        }
    }
}

/// Deliveries for the admin listing (CLI and admin API), at most `limit` (1–1000).
pub async fn list(
    db: &dyn Durable,
    filter: DeliveryFilter,
    limit: i64,
) -> StoreResult<Vec<Listed>> {
    let rows = db.logouts(filter, limit.clamp(1, 1000)).await?;
    Ok(rows.into_iter().map(Listed::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ClientKind, ClientSettings};

    fn client(id: &str, uri: Option<&str>) -> ClientRecord {
        ClientRecord {
            client_id: ClientId::parse(id).unwrap(),
            name: id.into(),
            kind: ClientKind::Portal,
            secret_hash: None,
            auth_method: "client_secret_basic".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: vec![],
            jwks: None,
            jwks_uri: None,
            id_token_alg: "ES256".into(),
            min_account_level: 1,
            min_acr: None,
            officer_id: None,
            settings: ClientSettings {
                backchannel_logout_uri: uri.map(String::from),
                ..Default::default()
            },
            created_at: 0,
            updated_at: 0,
        }
    }

    fn grant(client: &str, rp_sub: Option<&str>, sid: &str) -> GrantRecord {
        GrantRecord {
            id: format!("{client}-{sid}"),
            client_id: ClientId::parse(client).unwrap(),
            sub: Some(Subject::parse("acct").unwrap()),
            rp_sub: rp_sub.map(|s| Subject::parse(s).unwrap()),
            scope: "openid".into(),
            auth_time: None,
            acr: None,
            amr: vec![],
            sid: Some(sid.into()),
            claims: None,
            created_at: 0,
            expires_at: 100,
            revoked_at: None,
            refresh_generation: None,
            refresh_issued_at: None,
            consented: None,
            dpop_jkt: None,
            authorization_details: None,
        }
    }

    #[test]
    fn one_delivery_per_client_sub_and_session_and_only_where_registered() {
        let sub = Subject::parse("acct").unwrap();
        let mut disabled = client("off", Some("https://off.vn/bcl"));
        disabled.settings.disabled_at = Some(1);
        let clients = [
            client("bank", Some("https://bank.vn/bcl")),
            client("quiet", None),
            disabled,
        ];
        let grants = [
            grant("bank", Some("pw-1"), "s1"),
            // A second grant of the same session (another authorization): told once.
            grant("bank", Some("pw-1"), "s1"),
            grant("bank", Some("pw-1"), "s2"),
            grant("quiet", Some("pw-2"), "s1"),
            grant("off", Some("pw-3"), "s1"),
            // From before pairwise identifiers: the account's own `sub`.
            grant("bank", None, "s3"),
            grant("gone", None, "s1"),
        ];
        let out = deliveries(&sub, &grants, &clients, 50);
        let got: Vec<_> = out
            .iter()
            .map(|d| (d.client_id.as_str(), d.sub.as_str(), d.sid.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bank", "pw-1", Some("s1")),
                ("bank", "pw-1", Some("s2")),
                ("bank", "acct", Some("s3")),
            ]
        );
        assert!(out.iter().all(|d| d.uri == "https://bank.vn/bcl"
            && d.account_sub == "acct"
            && d.next_attempt_at == 50
            && d.attempts == 0));
    }
}
