//! Changing a registered client: its registration (`update`), its secret (`rotate_secret`),
//! and whether it may act at all (`disable`, `enable`). Every change goes through the rules
//! of a registration (`check`, the kind's policy), is written to the audit log before it is
//! stored (a change the log cannot hold is not made), and reaches every node's client cache
//! at once (`cache::announce`).

use serde_json::{Value, json};

use super::cache::{self, ClientCache};
use super::view::ClientView;
use super::{NewClient, RegisterError, Registry, check, is_public, new_secret, rule, uses_secret};
use crate::oidc::policy;
use crate::store::{ClientRecord, Ephemeral, Purpose};

mod rules;
use rules::{sector, versioned, widened};

/// Where a change goes and who makes it.
pub struct Desk<'a> {
    /// The store, the key that hashes secrets, the fetcher, the time, and the actor
    /// (`cli`, `officer:ID`).
    pub reg: Registry<'a>,
    /// Shared by the nodes: where a change is announced to their caches.
    pub eph: &'a dyn Ephemeral,
    /// This node's cache, when the change is made inside a running server.
    pub cache: Option<&'a ClientCache>,
    /// The officer who acts (through the admin API); `None` from the command line.
    pub officer: Option<&'a str>,
    /// The admin client an officer called through, and from where (for the audit entry).
    pub via: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// A change to a registration; `None` leaves a field as it is. The inner `None` of a
/// nullable field clears it (back to the kind's default).
#[derive(Debug, Clone, Default)]
pub struct ClientUpdate {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub min_account_level: Option<i64>,
    pub min_acr: Option<Option<String>>,
    pub access_token_ttl: Option<Option<i64>>,
    pub refresh_token_ttl: Option<Option<i64>>,
    pub purposes: Option<Vec<Purpose>>,
    pub backchannel_logout_uri: Option<Option<String>>,
    pub sector_identifier_uri: Option<Option<String>>,
    /// The written reason for going further past the kind's policy than the client already
    /// did; required for that, and audited.
    pub policy_override: Option<String>,
}

async fn load(d: &Desk<'_>, client_id: &str) -> Result<ClientRecord, RegisterError> {
    d.reg
        .db
        .client(client_id)
        .await?
        .ok_or(RegisterError::NotFound)
}

/// An officer's admin credential is changed only by that officer: a secret rotated by
/// another would let them act under the first one's name. (Any admin may disable one.)
fn check_own_credential(d: &Desk<'_>, c: &ClientRecord) -> Result<(), RegisterError> {
    match (c.officer_id.as_deref(), d.officer) {
        (Some(owner), Some(me)) if owner != me => Err(RegisterError::Forbidden(format!(
            "this is officer {owner}'s own credential: only they change it"
        ))),
        _ => Ok(()),
    }
}

/// Change a registration. The result is checked as a registration is, and must stay within
/// the kind's policy unless this change gives a written reason for going further; the
/// pairwise sector never moves.
pub async fn update(
    d: &Desk<'_>,
    client_id: &str,
    u: &ClientUpdate,
) -> Result<ClientView, RegisterError> {
    let old = load(d, client_id).await?;
    check_own_credential(d, &old)?;
    let mut n = as_new(&old);
    apply(&mut n, u, &old);
    n.verified_sector = sector(d, &old, &n).await?;
    // Past the kind with no reason on record: the reason is what this change lacks.
    let mut new = check(&n, old.client_id.clone(), old.created_at).map_err(|e| match e.field {
        "policy" => rule("policy_override", e.reason),
        _ => e,
    })?;
    let widened = widened(&old, &new);
    if !widened.is_empty() && u.policy_override.is_none() {
        let why = widened.join("; ");
        return Err(rule(
            "policy_override",
            format!("{why}: going further past the kind's policy needs a written reason"),
        )
        .into());
    }
    if policy::beyond(&new).is_empty() {
        // Nothing left to override: the kind's floors hold again at run time.
        new.settings.policy_override = None;
    }
    new.secret_hash = old.secret_hash.clone();
    new.settings.disabled_at = old.settings.disabled_at;
    let changes = diff(&old, &new);
    if changes.is_empty() {
        return Ok(ClientView::from(&old));
    }
    new.updated_at = cache::next_version(old.updated_at, d.reg.now);
    let detail = json!({
        "changes": changes,
        "widened": widened,
        "beyond_policy": policy::beyond(&new),
    });
    record(d, &old, crate::audit::actions::CLIENT_UPDATED, detail).await?;
    store(d, &old, &new).await?;
    Ok(ClientView::from(&new))
}

/// A new secret for a secret client: shown once, stored as a keyed hash; the old secret
/// stops working at once, on every node.
pub async fn rotate_secret(
    d: &Desk<'_>,
    client_id: &str,
) -> Result<(ClientView, String), RegisterError> {
    let old = load(d, client_id).await?;
    check_own_credential(d, &old)?;
    if !uses_secret(&old) {
        let why = format!(
            "the client authenticates with {}: it has no secret to rotate",
            old.auth_method
        );
        return Err(rule("token_endpoint_auth_method", why).into());
    }
    let (secret, hash) = new_secret(d.reg.kek)?;
    let mut new = old.clone();
    new.secret_hash = Some(hash);
    new.updated_at = cache::next_version(old.updated_at, d.reg.now);
    let action = crate::audit::actions::CLIENT_SECRET_ROTATED;
    record(d, &old, action, json!({})).await?;
    store(d, &old, &new).await?;
    Ok((ClientView::from(&new), secret))
}

/// Disable a client: it is refused everywhere from now on, and every grant it holds is
/// revoked (its refresh tokens and the access tokens of those grants die). Enabling it again
/// does not bring them back. Returns the client and how many grants were revoked.
pub async fn disable(
    d: &Desk<'_>,
    client_id: &str,
    reason: Option<&str>,
) -> Result<(ClientView, u64), RegisterError> {
    let old = load(d, client_id).await?;
    let mut new = old.clone();
    new.settings.disabled_at = Some(old.settings.disabled_at.unwrap_or(d.reg.now));
    new.updated_at = cache::next_version(old.updated_at, d.reg.now);
    let action = crate::audit::actions::CLIENT_DISABLED;
    record(d, &old, action, json!({"reason": reason})).await?;
    store(d, &old, &new).await?;
    // After the client is refused, so no new grant can appear behind this sweep. Disabling
    // again sweeps again, should this step have failed.
    let revoked = d
        .reg
        .db
        .revoke_grants_of_client(client_id, d.reg.now)
        .await?;
    Ok((ClientView::from(&new), revoked))
}

/// Let a disabled client act again (its revoked grants stay revoked).
pub async fn enable(
    d: &Desk<'_>,
    client_id: &str,
    reason: Option<&str>,
) -> Result<ClientView, RegisterError> {
    let old = load(d, client_id).await?;
    if old.settings.disabled_at.is_none() {
        return Ok(ClientView::from(&old));
    }
    let mut new = old.clone();
    new.settings.disabled_at = None;
    new.updated_at = cache::next_version(old.updated_at, d.reg.now);
    let action = crate::audit::actions::CLIENT_ENABLED;
    record(d, &old, action, json!({"reason": reason})).await?;
    store(d, &old, &new).await?;
    Ok(ClientView::from(&new))
}

async fn record(
    d: &Desk<'_>,
    c: &ClientRecord,
    action: &'static str,
    mut detail: Value,
) -> Result<(), RegisterError> {
    if let Some(via) = d.via {
        detail["via_client"] = json!(via);
    }
    let event = crate::audit::Event {
        actor: d.reg.actor.to_string(),
        action,
        client_id: Some(c.client_id.to_string()),
        detail,
        ip: d.ip.map(String::from),
        ..Default::default()
    };
    crate::audit::record(d.reg.db, event, d.reg.now).await?;
    Ok(())
}

/// Announce, store (only over the version read), then drop this node's copy.
async fn store(d: &Desk<'_>, old: &ClientRecord, new: &ClientRecord) -> Result<(), RegisterError> {
    let id = new.client_id.as_str();
    cache::announce(d.eph, id, new.updated_at).await?;
    if !d.reg.db.update_client(new, old.updated_at).await? {
        return Err(RegisterError::Conflict);
    }
    if let Some(c) = d.cache {
        c.forget(id);
    }
    Ok(())
}

/// The registration a stored client amounts to, for `check` to judge again.
fn as_new(c: &ClientRecord) -> NewClient {
    let s = &c.settings;
    NewClient {
        name: c.name.clone(),
        kind: c.kind.as_str().into(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        public: is_public(c),
        auth_method: Some(c.auth_method.clone()),
        jwks: c.jwks.clone(),
        jwks_uri: c.jwks_uri.clone(),
        grant_types: Some(c.grant_types.clone()),
        id_token_alg: Some(c.id_token_alg.clone()),
        scopes: Some(c.scopes.clone()),
        min_account_level: Some(c.min_account_level),
        min_acr: c.min_acr.clone(),
        access_token_ttl: s.access_token_ttl,
        refresh_token_ttl: s.refresh_token_ttl,
        subject_type: Some(s.subject_type),
        sector_identifier_uri: s.sector_identifier_uri.clone(),
        verified_sector: s.sector.clone(),
        policy_override: s.policy_override.clone(),
        officer_id: c.officer_id.clone(),
        purposes: s.purposes.clone(),
        backchannel_logout_uri: s.backchannel_logout_uri.clone(),
        backchannel_logout_session_required: s.backchannel_logout_session_required,
        profile: Some(s.profile),
    }
}

fn set<T: Clone>(to: &mut Option<T>, from: &Option<Option<T>>) {
    if let Some(v) = from {
        *to = v.clone();
    }
}

fn apply(n: &mut NewClient, u: &ClientUpdate, old: &ClientRecord) {
    if let Some(v) = &u.name {
        n.name = v.clone();
    }
    if let Some(v) = &u.redirect_uris {
        n.redirect_uris = v.clone();
    }
    if let Some(v) = &u.post_logout_redirect_uris {
        n.post_logout_redirect_uris = v.clone();
    }
    if let Some(v) = &u.scopes {
        n.scopes = Some(v.clone());
    }
    if let Some(v) = u.min_account_level {
        n.min_account_level = Some(v);
    }
    set(&mut n.min_acr, &u.min_acr);
    set(&mut n.access_token_ttl, &u.access_token_ttl);
    set(&mut n.refresh_token_ttl, &u.refresh_token_ttl);
    set(&mut n.backchannel_logout_uri, &u.backchannel_logout_uri);
    set(&mut n.sector_identifier_uri, &u.sector_identifier_uri);
    if let Some(v) = &u.purposes {
        n.purposes = versioned(v, &old.settings.purposes);
    }
    if let Some(v) = &u.policy_override {
        n.policy_override = Some(v.clone());
    }
}

/// Each changed field with its old and new value (never a secret: none is compared here).
fn diff(old: &ClientRecord, new: &ClientRecord) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let mut field = |name: &str, from: Value, to: Value| {
        if from != to {
            out.insert(name.into(), json!({"from": from, "to": to}));
        }
    };
    let (os, ns) = (&old.settings, &new.settings);
    field("name", json!(old.name), json!(new.name));
    field(
        "redirect_uris",
        json!(old.redirect_uris),
        json!(new.redirect_uris),
    );
    field(
        "post_logout_redirect_uris",
        json!(old.post_logout_redirect_uris),
        json!(new.post_logout_redirect_uris),
    );
    field("scopes", json!(old.scopes), json!(new.scopes));
    field(
        "min_account_level",
        json!(old.min_account_level),
        json!(new.min_account_level),
    );
    field("min_acr", json!(old.min_acr), json!(new.min_acr));
    field(
        "access_token_ttl",
        json!(os.access_token_ttl),
        json!(ns.access_token_ttl),
    );
    field(
        "refresh_token_ttl",
        json!(os.refresh_token_ttl),
        json!(ns.refresh_token_ttl),
    );
    field("purposes", json!(os.purposes), json!(ns.purposes));
    field(
        "backchannel_logout_uri",
        json!(os.backchannel_logout_uri),
        json!(ns.backchannel_logout_uri),
    );
    field(
        "sector_identifier_uri",
        json!(os.sector_identifier_uri),
        json!(ns.sector_identifier_uri),
    );
    field(
        "policy_override",
        json!(os.policy_override),
        json!(ns.policy_override),
    );
    out
}

#[cfg(test)]
mod tests;
