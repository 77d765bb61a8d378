//! OAuth 2.0 / OpenID Connect rules: authorization requests and the sign-in interaction that
//! carries one to its code, client authentication, grants, tokens, claims, introspection,
//! revocation, logout and discovery.
//!
//! Knows nothing of axum, sqlx or redis: handlers hand in parsed parameters and get typed
//! outcomes or an [`OAuthError`].

pub mod access_cache;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client_auth;
pub mod clients;
pub mod discovery;
pub mod documents;
pub mod dpop;
pub mod error;
pub mod grants;
pub mod interaction;
pub mod introspect;
pub mod logout;
pub mod offer;
pub mod par;
pub mod policy;
pub mod rar;
pub mod refresh_token;
pub mod request_object;
pub mod subject;
pub mod tokens;
pub mod transfers;
pub mod userinfo;
pub mod verified_claims;

use std::sync::Arc;

pub use error::{ErrorCode, OAuthError};

use crate::clock::{Clock, UnixTime};
use crate::config::Config;
use crate::crypto::{Kek, KeyService};
use crate::store::{Durable, Ephemeral};

/// The provider's services, shared by every request.
pub struct Provider {
    pub cfg: Arc<Config>,
    pub db: Arc<dyn Durable>,
    pub eph: Arc<dyn Ephemeral>,
    pub keys: Arc<KeyService>,
    pub kek: Arc<Kek>,
    pub clock: Arc<dyn Clock>,
    /// Where clients' published documents (`jwks_uri`, `sector_identifier_uri`) come from.
    pub fetcher: Arc<dyn client_auth::Fetcher>,
    pub client_cache: clients::ClientCache,
    /// Access tokens verified here before (`access_cache`).
    pub access_cache: access_cache::AccessCache,
}

impl Provider {
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// A client that may act now: registered and not disabled. A disabled client is unknown
    /// to every protocol endpoint, so none can forget to refuse it.
    pub async fn client(
        &self,
        id: &crate::ids::ClientId,
    ) -> Result<Option<crate::store::ClientRecord>, crate::store::StoreError> {
        let c = self.registered_client(id).await?;
        Ok(c.filter(|c| !clients::is_disabled(c)))
    }

    /// [`Self::client`], its announcement (`clients::cache::announce_key`) read by the caller
    /// together with other keys.
    pub async fn client_announced(
        &self,
        id: &crate::ids::ClientId,
        announced: Option<Vec<u8>>,
    ) -> Result<Option<crate::store::ClientRecord>, crate::store::StoreError> {
        let c = match self.client_cache.get_announced(id, announced) {
            Some(hit) => hit,
            None => self.read_client(id).await?,
        };
        Ok(c.filter(|c| !clients::is_disabled(c)))
    }

    /// A registered client, disabled or not, through a short per-node cache: every token
    /// request needs its client. A change reaches every node at once (`clients::cache`).
    pub async fn registered_client(
        &self,
        id: &crate::ids::ClientId,
    ) -> Result<Option<crate::store::ClientRecord>, crate::store::StoreError> {
        if let Some(hit) = self.client_cache.get_current(id, self.eph.as_ref()).await {
            return Ok(hit);
        }
        self.read_client(id).await
    }

    /// The client as the database has it now, kept in this node's cache.
    async fn read_client(
        &self,
        id: &crate::ids::ClientId,
    ) -> Result<Option<crate::store::ClientRecord>, crate::store::StoreError> {
        let fresh = self.db.client(id).await?;
        self.client_cache.put(id, fresh.clone());
        Ok(fresh)
    }

    pub fn issuer(&self) -> &str {
        &self.cfg.issuer
    }
}

/// Protocol endpoint paths, shared by the router and discovery so they cannot drift apart.
/// (The people-facing pages have theirs in the web layer.)
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const LOGOUT: &str = "/logout";
    /// Pushed authorization requests (RFC 9126).
    pub const PAR: &str = "/par";
    /// The bank KYC identity assertion (rp_api::kyc).
    pub const KYC_IDENTITY: &str = "/api/kyc/v1/identity";
}

/// Split a space-delimited parameter (scope, prompt, acr_values) into its values.
pub fn split_spaces(s: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in s.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}
