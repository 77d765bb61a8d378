//! Client registration rules: what a client may do and how it is created.

use jsonwebtoken::Algorithm;

use super::claims::SUPPORTED_SCOPES;
use super::{policy, subject};
use crate::clock::UnixTime;
use crate::crypto::{self, Kek, keyset};
use crate::ids::ClientId;
use crate::store::{ClientKind, ClientRecord, ClientSettings, Profile, Purpose, SubjectType};
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];
pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

pub mod cache;
pub mod manage;
pub mod profile;
pub mod purposes;
mod uris;
pub mod view;
pub use cache::ClientCache;
pub use uris::{check_backchannel_logout_uri, check_redirect_uri};

pub fn allows_grant(c: &ClientRecord, grant: &str) -> bool {
    c.grant_types.iter().any(|g| g == grant)
}

pub fn is_public(c: &ClientRecord) -> bool {
    c.auth_method == "none"
}

pub fn id_token_alg(c: &ClientRecord) -> Algorithm {
    keyset::parse_alg(&c.id_token_alg).unwrap_or(Algorithm::ES256)
}

/// A registration as an admin asks for it. Left empty, a policy field takes the kind's
/// (`oidc::policy`): its scopes, its minimum account level and `acr`, its token lifetimes.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    /// `portal`, `bank`, `hospital`, `other` or `admin`.
    pub kind: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub auth_method: Option<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub id_token_alg: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub min_account_level: Option<i64>,
    pub min_acr: Option<String>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    /// `public` only when the client must get the account's own `sub`; pairwise otherwise.
    pub subject_type: Option<SubjectType>,
    pub sector_identifier_uri: Option<String>,
    /// The sector a checked `sector_identifier_uri` gave (see [`register`]).
    pub verified_sector: Option<String>,
    /// Why this client may go past its kind's policy (audited with the registration).
    pub policy_override: Option<String>,
    /// For an admin client: the officer it acts for.
    pub officer_id: Option<String>,
    /// What the client uses the data for (consent page); checked by `purposes::check`.
    pub purposes: Vec<Purpose>,
    /// OpenID Connect Back-Channel Logout 1.0 endpoint.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    /// `fapi2` or `standard`; left empty, a bank is `fapi2` (`profile::of`).
    pub profile: Option<Profile>,
}

#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ClientRuleError {
    pub field: &'static str,
    pub reason: String,
}

pub(crate) fn rule(field: &'static str, reason: impl Into<String>) -> ClientRuleError {
    ClientRuleError {
        field,
        reason: reason.into(),
    }
}

/// Validate a registration; returns the record and (for confidential secret clients) the
/// secret, which is shown once and stored only as a keyed hash.
pub fn build(
    n: &NewClient,
    kek: &Kek,
    now: UnixTime,
) -> Result<(ClientRecord, Option<String>), ClientRuleError> {
    let client_id = crypto::random_id()
        .map_err(|e| e.to_string())
        .and_then(|v| ClientId::parse(v).map_err(|e| e.to_string()))
        .map_err(|e| rule("client_id", e))?;
    let mut rec = check(n, client_id, now)?;
    let secret = match uses_secret(&rec) {
        true => {
            let (secret, hash) = new_secret(kek)?;
            rec.secret_hash = Some(hash);
            Some(secret)
        }
        false => None,
    };
    Ok((rec, secret))
}

/// The client authenticates with a shared secret (and so has one to rotate).
pub fn uses_secret(c: &ClientRecord) -> bool {
    matches!(
        c.auth_method.as_str(),
        "client_secret_basic" | "client_secret_post"
    )
}

/// A disabled client is refused everywhere (`Provider::client` does not return it).
pub fn is_disabled(c: &ClientRecord) -> bool {
    c.settings.disabled_at.is_some()
}

/// A new client secret and its keyed hash (the only thing stored).
pub fn new_secret(kek: &Kek) -> Result<(String, Vec<u8>), ClientRuleError> {
    let secret = crypto::random_token().map_err(|e| rule("secret", e.to_string()))?;
    let hash = kek.secret_digest(&secret);
    Ok((secret, hash))
}

/// Every rule of a registration, for a new client or a changed one (`manage::update`): the
/// record as `n` describes it, without a secret.
pub(crate) fn check(
    n: &NewClient,
    client_id: ClientId,
    now: UnixTime,
) -> Result<ClientRecord, ClientRuleError> {
    if n.name.trim().is_empty() {
        return Err(rule("name", "required"));
    }
    let Some(kind) = ClientKind::parse(&n.kind) else {
        let all = ClientKind::ALL.map(|k| k.as_str()).join(", ");
        return Err(rule("kind", format!("must be one of {all}")));
    };
    for u in &n.redirect_uris {
        check_redirect_uri("redirect_uri", u)?;
    }
    for u in &n.post_logout_redirect_uris {
        check_redirect_uri("post_logout_redirect_uri", u)?;
    }
    let profile = profile::of(n, kind);
    let auth_method = match (&n.auth_method, n.public) {
        (Some(m), false) => m.clone(),
        (None, false) => profile::default_auth_method(profile).into(),
        (None, true) => "none".into(),
        (Some(m), true) if m == "none" => "none".into(),
        (Some(_), true) => {
            return Err(rule(
                "auth_method",
                "a public client authenticates with none",
            ));
        }
    };
    if !AUTH_METHODS.contains(&auth_method.as_str()) {
        return Err(rule(
            "auth_method",
            format!("must be one of {}", AUTH_METHODS.join(", ")),
        ));
    }
    if auth_method == "private_key_jwt" && n.jwks.is_none() && n.jwks_uri.is_none() {
        return Err(rule("jwks_uri", "private_key_jwt needs jwks or jwks_uri"));
    }
    if let Some(j) = &n.jwks {
        serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(j)
            .map_err(|e| rule("jwks", format!("not a JWK set: {e}")))?;
    }
    let admin = kind == ClientKind::Admin;
    if n.officer_id.is_some() && !admin {
        return Err(rule(
            "officer_id",
            "only an admin client acts for an officer",
        ));
    }
    let grant_types = match &n.grant_types {
        _ if admin => vec!["client_credentials".into()],
        Some(g) => g.clone(),
        None if n.public => vec!["authorization_code".into(), "refresh_token".into()],
        None => GRANT_TYPES.iter().map(|s| s.to_string()).collect(),
    };
    for g in &grant_types {
        if !GRANT_TYPES.contains(&g.as_str()) {
            return Err(rule("grant_types", format!("unknown grant type {g:?}")));
        }
    }
    if n.public && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(rule(
            "grant_types",
            "a public client cannot use client_credentials",
        ));
    }
    if grant_types.iter().any(|g| g == "authorization_code") && n.redirect_uris.is_empty() {
        return Err(rule(
            "redirect_uri",
            "authorization_code needs at least one redirect URI",
        ));
    }
    let id_token_alg = n.id_token_alg.clone().unwrap_or_else(|| "ES256".into());
    if keyset::parse_alg(&id_token_alg).is_none() {
        return Err(rule("id_token_alg", "must be ES256, EdDSA, RS256 or PS256"));
    }
    let k = policy::of(kind);
    let min_account_level = n.min_account_level.unwrap_or(k.min_account_level);
    if !(1..=2).contains(&min_account_level) {
        return Err(rule("min_account_level", "must be 1 or 2"));
    }
    if let Some(a) = &n.min_acr
        && crate::authn::Acr::parse(a).is_none()
    {
        return Err(rule(
            "min_acr",
            format!(
                "must be one of {}",
                crate::authn::Acr::ALL.map(|a| a.as_str()).join(", ")
            ),
        ));
    }
    let scopes = match &n.scopes {
        Some(s) => {
            if let Some(bad) = s
                .iter()
                .find(|s| !SUPPORTED_SCOPES.contains(&s.as_str()) && *s != "admin")
            {
                return Err(rule("scopes", format!("unknown scope {bad:?}")));
            }
            s.clone()
        }
        None => k.scopes.iter().map(|s| s.to_string()).collect(),
    };
    let rec = ClientRecord {
        client_id,
        name: n.name.trim().to_string(),
        kind,
        secret_hash: None,
        auth_method,
        redirect_uris: n.redirect_uris.clone(),
        post_logout_redirect_uris: n.post_logout_redirect_uris.clone(),
        grant_types,
        scopes,
        jwks: n.jwks.clone(),
        jwks_uri: n.jwks_uri.clone(),
        id_token_alg,
        min_account_level,
        min_acr: n.min_acr.clone(),
        officer_id: n.officer_id.clone(),
        settings: ClientSettings {
            profile,
            ..settings(n)?
        },
        created_at: now,
        updated_at: now,
    };
    profile::check(&rec)?;
    if let Some(c) = purposes::outside_scopes(&rec.settings.purposes, &rec.scopes) {
        return Err(rule(
            "purposes",
            format!("claim {c} is outside the client's scopes"),
        ));
    }
    let beyond = policy::beyond(&rec);
    if !beyond.is_empty() && rec.settings.policy_override.is_none() {
        let why = beyond.join("; ");
        return Err(rule(
            "policy",
            format!("{why} (an override needs a written reason)"),
        ));
    }
    Ok(rec)
}

/// The settings of a registration: subject type and sector, shorter lifetimes, override.
fn settings(n: &NewClient) -> Result<ClientSettings, ClientRuleError> {
    let sector = match (&n.sector_identifier_uri, &n.verified_sector) {
        (Some(_), Some(s)) => Some(s.clone()),
        (Some(_), None) => {
            return Err(rule(
                "sector_identifier_uri",
                "must be checked first (register)",
            ));
        }
        (None, _) => subject::sector_of(&n.redirect_uris)
            .map_err(|e| rule("sector_identifier_uri", e.to_string()))?,
    };
    for (field, ttl) in [
        ("access_token_ttl", n.access_token_ttl),
        ("refresh_token_ttl", n.refresh_token_ttl),
    ] {
        if ttl.is_some_and(|t| t < 1) {
            return Err(rule(field, "must be a positive number of seconds"));
        }
    }
    let backchannel_logout_uri = match n.backchannel_logout_uri.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(uri) => {
            check_backchannel_logout_uri(uri)?;
            Some(uri.to_string())
        }
    };
    if n.backchannel_logout_session_required && backchannel_logout_uri.is_none() {
        return Err(rule(
            "backchannel_logout_session_required",
            "needs a backchannel_logout_uri",
        ));
    }
    let reason = n.policy_override.as_deref().map(str::trim);
    if reason.is_some_and(str::is_empty) {
        return Err(rule("policy_override", "needs a written reason"));
    }
    Ok(ClientSettings {
        subject_type: n.subject_type.unwrap_or_default(),
        sector,
        sector_identifier_uri: n.sector_identifier_uri.clone(),
        access_token_ttl: n.access_token_ttl,
        refresh_token_ttl: n.refresh_token_ttl,
        policy_override: reason.map(String::from),
        purposes: purposes::check(&n.purposes)?,
        backchannel_logout_uri,
        backchannel_logout_session_required: n.backchannel_logout_session_required,
        disabled_at: None,
        profile: Profile::Standard,
    })
}

/// Why a registration or a change to a client (`manage`) was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Rule(#[from] ClientRuleError),
    #[error("no client with this client_id")]
    NotFound,
    /// Someone else changed the client meanwhile: read it again and retry.
    #[error("the client changed meanwhile; read it again and retry")]
    Conflict,
    /// Not for this caller (another officer's credential).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Register a client: its `sector_identifier_uri` fetched and checked against its redirect
/// URIs, the registration checked against its kind's policy, then stored. Returns the record
/// and (for a secret client) the secret, shown once.
pub async fn register(
    to: &Registry<'_>,
    n: &NewClient,
) -> Result<(ClientRecord, Option<String>), RegisterError> {
    let mut n = n.clone();
    n.verified_sector = None;
    if let Some(uri) = &n.sector_identifier_uri {
        let field = |e: subject::SectorError| rule("sector_identifier_uri", e.to_string());
        let doc = to
            .fetcher
            .fetch(uri)
            .await
            .map_err(|e| field(subject::SectorError::Unreadable(e)))?;
        let sector = subject::check_sector_document(uri, &doc, &n.redirect_uris).map_err(field)?;
        n.verified_sector = Some(sector);
    }
    let (rec, secret) = build(&n, to.kek, to.now)?;
    // Recorded first: a registration the log cannot hold is not made.
    let event = crate::audit::Event {
        actor: to.actor.to_string(),
        action: crate::audit::actions::CLIENT_REGISTERED,
        client_id: Some(rec.client_id.to_string()),
        detail: serde_json::json!({
            "name": rec.name, "kind": rec.kind, "scopes": rec.scopes,
            "min_account_level": rec.min_account_level, "min_acr": rec.min_acr,
            "subject_type": rec.settings.subject_type.as_str(),
            "policy_override": rec.settings.policy_override,
            "beyond_policy": policy::beyond(&rec),
        }),
        ..Default::default()
    };
    crate::audit::record(to.db, event, to.now).await?;
    to.db.insert_client(&rec).await?;
    Ok((rec, secret))
}

/// Where a registration goes: the store, the key that hashes secrets, and the way to read a
/// client's published documents.
pub struct Registry<'a> {
    /// Who registers: `cli`, `officer:ID`, … (the audit entry's actor).
    pub actor: &'a str,
    pub db: &'a dyn crate::store::Durable,
    pub kek: &'a Kek,
    pub fetcher: &'a dyn super::client_auth::Fetcher,
    pub now: UnixTime,
}

impl<'a> Registry<'a> {
    pub fn of(p: &'a super::Provider, actor: &'a str) -> Registry<'a> {
        Registry {
            actor,
            db: p.db.as_ref(),
            kek: &p.kek,
            fetcher: p.fetcher.as_ref(),
            now: p.now(),
        }
    }
}

#[cfg(test)]
mod tests;
