//! Client registration rules: what a client may do and how it is created.

use jsonwebtoken::Algorithm;

use super::claims::SUPPORTED_SCOPES;
use crate::clock::UnixTime;
use crate::crypto::{self, Kek, keyset};
use crate::ids::ClientId;
use crate::store::ClientRecord;

/// `admin` clients call the admin API with client_credentials and the `admin` scope.
pub const KINDS: [&str; 5] = ["portal", "bank", "hospital", "other", "admin"];
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];
pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

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

pub fn allows_grant(c: &ClientRecord, grant: &str) -> bool {
    c.grant_types.iter().any(|g| g == grant)
}

pub fn is_public(c: &ClientRecord) -> bool {
    c.auth_method == "none"
}

pub fn id_token_alg(c: &ClientRecord) -> Algorithm {
    keyset::parse_alg(&c.id_token_alg).unwrap_or(Algorithm::ES256)
}

#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub kind: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub auth_method: Option<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub id_token_alg: Option<String>,
    pub min_account_level: i64,
    pub min_acr: Option<String>,
    /// For an admin client: the officer it acts for.
    pub officer_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ClientRuleError {
    pub field: &'static str,
    pub reason: String,
}

fn rule(field: &'static str, reason: impl Into<String>) -> ClientRuleError {
    ClientRuleError {
        field,
        reason: reason.into(),
    }
}

/// A redirect URI must be absolute, without fragment; plain http only on loopback
/// (RFC 8252 §7.3, RFC 9700 §2.1).
pub fn check_redirect_uri(field: &'static str, uri: &str) -> Result<(), ClientRuleError> {
    let u = url::Url::parse(uri).map_err(|e| rule(field, format!("{uri:?} is not a URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(rule(field, "must not contain a fragment"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(rule(field, "plain http is allowed only for loopback hosts")),
        // Private-use schemes for native apps (RFC 8252 §7.1) must contain a dot.
        s if s.contains('.') => Ok(()),
        _ => Err(rule(
            field,
            "must be https, loopback http, or a reverse-DNS app scheme",
        )),
    }
}

/// Validate a registration; returns the record and (for confidential secret clients) the
/// secret, which is shown once and stored only as a keyed hash.
pub fn build(
    n: &NewClient,
    kek: &Kek,
    now: UnixTime,
) -> Result<(ClientRecord, Option<String>), ClientRuleError> {
    if n.name.trim().is_empty() {
        return Err(rule("name", "required"));
    }
    if !KINDS.contains(&n.kind.as_str()) {
        return Err(rule("kind", format!("must be one of {}", KINDS.join(", "))));
    }
    for u in &n.redirect_uris {
        check_redirect_uri("redirect_uri", u)?;
    }
    for u in &n.post_logout_redirect_uris {
        check_redirect_uri("post_logout_redirect_uri", u)?;
    }
    let auth_method = match (&n.auth_method, n.public) {
        (Some(m), false) => m.clone(),
        (None, false) => "client_secret_basic".into(),
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
    let admin = n.kind == "admin";
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
    if !(1..=2).contains(&n.min_account_level) {
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
    let needs_secret = matches!(
        auth_method.as_str(),
        "client_secret_basic" | "client_secret_post"
    );
    let secret = if needs_secret {
        Some(crypto::random_token().map_err(|e| rule("secret", e.to_string()))?)
    } else {
        None
    };
    let rec = ClientRecord {
        client_id: crypto::random_id()
            .map_err(|e| e.to_string())
            .and_then(|v| ClientId::parse(v).map_err(|e| e.to_string()))
            .map_err(|e| rule("client_id", e))?,
        name: n.name.trim().to_string(),
        kind: n.kind.clone(),
        secret_hash: secret.as_deref().map(|s| kek.secret_digest(s)),
        auth_method,
        redirect_uris: n.redirect_uris.clone(),
        post_logout_redirect_uris: n.post_logout_redirect_uris.clone(),
        grant_types,
        scopes: if admin {
            vec!["admin".into()]
        } else {
            SUPPORTED_SCOPES.iter().map(|s| s.to_string()).collect()
        },
        jwks: n.jwks.clone(),
        jwks_uri: n.jwks_uri.clone(),
        id_token_alg,
        min_account_level: n.min_account_level,
        min_acr: n.min_acr.clone(),
        officer_id: n.officer_id.clone(),
        created_at: now,
    };
    Ok((rec, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("r", "https://bank.vn/cb").is_ok());
        assert!(check_redirect_uri("r", "http://127.0.0.1:9000/cb").is_ok());
        assert!(check_redirect_uri("r", "http://bank.vn/cb").is_err());
        assert!(check_redirect_uri("r", "https://bank.vn/cb#x").is_err());
        assert!(check_redirect_uri("r", "vn.gov.app:/cb").is_ok());
        assert!(check_redirect_uri("r", "javascript:alert(1)").is_err());
    }

    #[test]
    fn confidential_client_gets_a_secret_stored_hashed() {
        let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
        let n = NewClient {
            name: "Bank".into(),
            kind: "bank".into(),
            redirect_uris: vec!["https://bank.vn/cb".into()],
            min_account_level: 2,
            ..Default::default()
        };
        let (rec, secret) = build(&n, &kek, 0).unwrap();
        let secret = secret.unwrap();
        assert!(secret.len() >= 43);
        assert!(kek.secret_matches(&secret, rec.secret_hash.as_ref().unwrap()));
        assert!(allows_grant(&rec, "client_credentials"));
    }

    #[test]
    fn public_client_rules() {
        let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
        let mut n = NewClient {
            name: "App".into(),
            kind: "portal".into(),
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
            public: true,
            min_account_level: 1,
            ..Default::default()
        };
        let (rec, secret) = build(&n, &kek, 0).unwrap();
        assert!(secret.is_none() && is_public(&rec) && !allows_grant(&rec, "client_credentials"));
        n.grant_types = Some(vec!["client_credentials".into()]);
        assert!(build(&n, &kek, 0).is_err());
    }
}
