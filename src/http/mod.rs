//! The axum adapter: routes, parameter extraction, and mapping of domain outcomes to HTTP.
//! Handlers are thin: parse, call one domain function, render.

mod account;
mod admin;
mod authorize;
mod confirm;
mod consent;
mod enrol;
pub mod form;
mod login;
mod logout;
mod meta;
mod mfa;
mod middleware;
mod pages;
mod passkeys;
mod respond;
mod second;
mod token;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::oidc::{Provider, paths};

/// The router of the separate metrics address (`metrics_listen`): `/metrics` and nothing else.
pub fn metrics_router() -> Router {
    Router::new()
        .route(paths::METRICS, get(meta::metrics))
        .fallback(meta::not_found)
        .layer(axum::middleware::from_fn_with_state(
            false,
            middleware::security_headers,
        ))
}

#[derive(Clone)]
pub struct AppState {
    pub p: Arc<Provider>,
    pub ui: Arc<ui::Ui>,
    /// Discovery document, serialised once; each response shares it.
    pub discovery: axum::body::Bytes,
}

pub const SESSION_COOKIE: &str = "eidp_session";
/// A random per-browser value that CSRF tokens are bound to.
pub const BROWSER_COOKIE: &str = "eidp_browser";

pub fn router(state: AppState) -> Router {
    let hsts = state.p.cfg.issuer_is_https();
    Router::new()
        .route(paths::DISCOVERY, get(meta::discovery))
        .route(paths::JWKS, get(meta::jwks))
        .route(paths::HEALTHZ, get(meta::healthz))
        .route(paths::READYZ, get(meta::readyz))
        .route(paths::METRICS, get(meta::metrics_with_token))
        .route(paths::AUTHORIZE, get(authorize::get).post(authorize::post))
        .route(paths::AUTHORIZE_RESUME, get(authorize::resume))
        .route(paths::LOGIN, get(login::form).post(login::submit))
        .route(
            paths::CONSENT,
            get(consent::consent_form).post(consent::consent_submit),
        )
        .route(paths::ENROL, get(enrol::start_form).post(enrol::start))
        .route(paths::ENROL_OTP, post(enrol::otp))
        .route(paths::ENROL_RESEND, post(enrol::resend))
        .route(paths::ENROL_PASSWORD, post(enrol::password))
        .route(paths::ACCOUNT, get(account::page))
        .route(paths::ACCOUNT_PASSWORD, post(account::change_password))
        .route(paths::ACCOUNT_LOCK, post(account::lock))
        .route(
            paths::ACCOUNT_CONFIRM,
            get(confirm::page).post(confirm::submit),
        )
        .route(paths::ACCOUNT_CONFIRM_SMS, post(confirm::send_sms))
        .route(paths::LOGIN_SECOND, get(second::form).post(second::submit))
        .route(paths::LOGIN_SECOND_SMS, post(second::send_sms))
        .route(paths::LOGIN_SECOND_EMAIL, post(second::send_email))
        .route(paths::ACCOUNT_TOTP_START, post(mfa::totp_start))
        .route(paths::ACCOUNT_TOTP_CONFIRM, post(mfa::totp_confirm))
        .route(paths::ACCOUNT_TOTP_REMOVE, post(mfa::totp_remove))
        .route(paths::ACCOUNT_RECOVERY, post(mfa::recovery))
        .route(paths::ACCOUNT_PASSKEY_RENAME, post(passkeys::rename))
        .route(paths::ACCOUNT_PASSKEY_DELETE, post(passkeys::delete))
        .route(
            paths::WEBAUTHN_REGISTER_START,
            post(passkeys::register_start),
        )
        .route(
            paths::WEBAUTHN_REGISTER_FINISH,
            post(passkeys::register_finish),
        )
        .route(paths::WEBAUTHN_LOGIN_START, post(passkeys::login_start))
        .route(paths::WEBAUTHN_LOGIN_FINISH, post(passkeys::login_finish))
        .route(paths::WEBAUTHN_SECOND_START, post(passkeys::second_start))
        .route(paths::WEBAUTHN_SECOND_FINISH, post(passkeys::second_finish))
        .route(paths::WEBAUTHN_JS, get(passkeys::script))
        .route(paths::ADMIN_VERIFY, post(admin::verify))
        .route(paths::ADMIN_LOCK, post(admin::lock))
        .route(paths::ADMIN_UNLOCK, post(admin::unlock))
        .route(paths::TOKEN, post(token::token))
        .route(
            paths::USERINFO,
            get(token::userinfo_get).post(token::userinfo_post),
        )
        .route(paths::INTROSPECT, post(token::introspect))
        .route(paths::REVOKE, post(token::revoke))
        .route(paths::LOGOUT, get(logout::get).post(logout::post))
        .route("/", get(meta::index))
        .fallback(meta::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .route_layer(axum::middleware::from_fn(middleware::observe))
        .layer(axum::middleware::from_fn_with_state(
            hsts,
            middleware::security_headers,
        ))
        .with_state(state)
}
