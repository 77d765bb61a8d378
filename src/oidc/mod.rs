//! OAuth 2.0 / OpenID Connect rules: authorization requests, client authentication, grants,
//! tokens, claims, introspection, revocation, logout and discovery.
//!
//! Knows nothing of axum, sqlx or redis: handlers hand in parsed parameters and get typed
//! outcomes or an [`OAuthError`].

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod clients;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod introspect;
pub mod logout;
pub mod refresh_token;
pub mod tokens;
pub mod userinfo;

use std::sync::Arc;

pub use error::OAuthError;

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
    /// Outbound HTTP (clients' `jwks_uri`).
    pub http: reqwest::Client,
    /// One-time codes by SMS.
    pub sms: Arc<dyn crate::notify::MessageSender>,
    /// One-time codes by e-mail.
    pub email: Arc<dyn crate::notify::MessageSender>,
    pub client_cache: clients::ClientCache,
    /// The WebAuthn relying party (absent when the issuer's host cannot be an RP ID).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
}

impl Provider {
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// A registered client, through a short per-node cache: every token request needs its
    /// client, and clients change rarely (a change reaches every node within the TTL).
    pub async fn client(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::ClientRecord>, crate::store::StoreError> {
        if let Some(hit) = self.client_cache.get(id) {
            return Ok(hit);
        }
        let fresh = self.db.client(id).await?;
        self.client_cache.put(id, fresh.clone());
        Ok(fresh)
    }

    pub fn issuer(&self) -> &str {
        &self.cfg.issuer
    }
}

/// Endpoint paths, shared by the router and discovery so they cannot drift apart.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const AUTHORIZE_RESUME: &str = "/authorize/resume";
    pub const LOGIN: &str = "/login";
    pub const LOGIN_SECOND: &str = "/login/second";
    pub const LOGIN_SECOND_SMS: &str = "/login/second/sms";
    pub const LOGIN_SECOND_EMAIL: &str = "/login/second/email";
    pub const ACCOUNT_TOTP_START: &str = "/account/totp/start";
    pub const ACCOUNT_TOTP_CONFIRM: &str = "/account/totp/confirm";
    pub const ACCOUNT_TOTP_REMOVE: &str = "/account/totp/remove";
    pub const ACCOUNT_RECOVERY: &str = "/account/recovery";
    pub const ACCOUNT_PASSKEY_RENAME: &str = "/account/passkeys/rename";
    pub const ACCOUNT_PASSKEY_DELETE: &str = "/account/passkeys/delete";
    pub const WEBAUTHN_REGISTER_START: &str = "/webauthn/register/start";
    pub const WEBAUTHN_REGISTER_FINISH: &str = "/webauthn/register/finish";
    pub const WEBAUTHN_LOGIN_START: &str = "/webauthn/login/start";
    pub const WEBAUTHN_LOGIN_FINISH: &str = "/webauthn/login/finish";
    pub const WEBAUTHN_SECOND_START: &str = "/webauthn/second/start";
    pub const WEBAUTHN_SECOND_FINISH: &str = "/webauthn/second/finish";
    pub const WEBAUTHN_JS: &str = "/static/webauthn.js";
    pub const CONSENT: &str = "/consent";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const LOGOUT: &str = "/logout";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    pub const ENROL: &str = "/enrol";
    pub const ENROL_OTP: &str = "/enrol/otp";
    pub const ENROL_RESEND: &str = "/enrol/resend";
    pub const ENROL_PASSWORD: &str = "/enrol/password";
    pub const ACCOUNT: &str = "/account";
    pub const ACCOUNT_PASSWORD: &str = "/account/password";
    pub const ACCOUNT_LOCK: &str = "/account/lock";
    pub const ACCOUNT_CONFIRM: &str = "/account/confirm";
    pub const ACCOUNT_CONFIRM_SMS: &str = "/account/confirm/sms";
    pub const ADMIN_VERIFY: &str = "/admin/v1/accounts/{id_number}/verify";
    pub const ADMIN_LOCK: &str = "/admin/v1/accounts/{id_number}/lock";
    pub const ADMIN_UNLOCK: &str = "/admin/v1/accounts/{id_number}/unlock";
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
