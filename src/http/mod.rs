//! The axum adapter: routes, request parsing, pages, and the mapping of domain outcomes to
//! HTTP. Handlers are thin: parse, call the domain, render.
//!
//! Layers inside (a module uses only those above it; `tests/it/layout.rs` checks there is no
//! import circle): `form`, `respond`, `paths`, `ui`, `middleware` → `pages` → `interaction`
//! (the web side of `oidc::interaction`) → `login` → `account` → the other handlers.

mod account;
mod account_consents;
mod account_factors;
mod account_page;
mod admin;
mod admin_clients;
mod admin_insurance;
mod admin_register;
mod authorize;
mod confirm;
mod consent;
mod enrol;
mod fapi;
pub mod form;
mod insurance;
mod interaction;
mod login;
mod logout;
mod meta;
mod middleware;
mod pages;
mod passkeys;
pub mod paths;
mod recover;
mod respond;
mod stepup;
mod stepup_face;
mod token;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::notify::MessageSender;
use crate::oidc::{Provider, paths as oidc_paths};

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
    pub services: Arc<Services>,
}

/// What the people-facing side needs beyond the protocol provider.
pub struct Services {
    /// The WebAuthn relying party (absent when the issuer's host cannot be an RP ID).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// One-time codes and account notices by SMS.
    pub sms: Arc<dyn MessageSender>,
    /// The same by e-mail.
    pub email: Arc<dyn MessageSender>,
    /// The face matcher of the biometric step (absent when the face step is off).
    pub face: Option<Arc<dyn crate::authn::biometric::FaceMatcher>>,
    /// This node's leases of the hospitals' per-minute look-up allowances.
    pub lookups: crate::rp_api::allowance::Allowance,
}

pub const SESSION_COOKIE: &str = "eidp_session";
/// A random per-browser value that CSRF tokens are bound to.
pub const BROWSER_COOKIE: &str = "eidp_browser";

pub fn router(state: AppState) -> Router {
    let hsts = state.p.cfg.issuer_is_https();
    Router::new()
        .route(oidc_paths::DISCOVERY, get(meta::discovery))
        .route(oidc_paths::JWKS, get(meta::jwks))
        .route(paths::HEALTHZ, get(meta::healthz))
        .route(paths::READYZ, get(meta::readyz))
        .route(paths::METRICS, get(meta::metrics_with_token))
        .route(
            oidc_paths::AUTHORIZE,
            get(authorize::get).post(authorize::post),
        )
        .route(paths::AUTHORIZE_RESUME, get(authorize::resume))
        .route(paths::LOGIN, get(login::form).post(login::submit))
        .route(paths::STEP_UP, get(stepup::form).post(stepup::submit))
        .route(paths::STEP_UP_SMS, post(stepup::send_sms))
        .route(paths::STEP_UP_EMAIL, post(stepup::send_email))
        .route(
            paths::STEP_UP_FACE,
            post(stepup_face::submit).layer(axum::extract::DefaultBodyLimit::max(
                crate::authn::biometric::MAX_IMAGE_BYTES + 1,
            )),
        )
        .route(paths::FACE_JS, get(stepup_face::script))
        .route(
            paths::CONSENT,
            get(consent::consent_form).post(consent::consent_submit),
        )
        .route(
            paths::RECOVER,
            get(recover::start_form).post(recover::start),
        )
        .route(paths::RECOVER_CODE, post(recover::code))
        .route(paths::RECOVER_PASSWORD, post(recover::password))
        .route(paths::ENROL, get(enrol::start_form).post(enrol::start))
        .route(paths::ENROL_OTP, post(enrol::otp))
        .route(paths::ENROL_RESEND, post(enrol::resend))
        .route(paths::ENROL_PASSWORD, post(enrol::password))
        .route(paths::ACCOUNT, get(account::page))
        .route(paths::ACCOUNT_PASSWORD, post(account::change_password))
        .route(paths::ACCOUNT_LOCK, post(account::lock))
        .route(paths::ACCOUNT_SESSION_END, post(account::end_session))
        .route(paths::LANG, get(meta::language))
        .route(
            paths::ACCOUNT_CONFIRM,
            get(confirm::page).post(confirm::submit),
        )
        .route(paths::ACCOUNT_CONFIRM_SMS, post(confirm::send_sms))
        .route(paths::ACCOUNT_TOTP_START, post(account_factors::totp_start))
        .route(
            paths::ACCOUNT_TOTP_CONFIRM,
            post(account_factors::totp_confirm),
        )
        .route(
            paths::ACCOUNT_TOTP_REMOVE,
            post(account_factors::totp_remove),
        )
        .route(paths::ACCOUNT_RECOVERY, post(account_factors::recovery))
        .route(paths::ACCOUNT_PASSKEY_RENAME, post(account_factors::rename))
        .route(paths::ACCOUNT_PASSKEY_DELETE, post(account_factors::delete))
        .route(
            paths::ACCOUNT_CONSENT_RECEIPT,
            get(account_consents::receipt),
        )
        .route(
            paths::ACCOUNT_CONSENT_WITHDRAW,
            post(account_consents::withdraw),
        )
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
        .route(
            paths::ADMIN_BACKCHANNEL_LOGOUTS,
            get(admin::backchannel_logouts),
        )
        .route(
            paths::ADMIN_CITIZENS_IMPORT,
            post(admin_register::import).layer(axum::extract::DefaultBodyLimit::max(
                admin_register::MAX_UPLOAD,
            )),
        )
        .route(
            paths::ADMIN_CLIENTS,
            get(admin_clients::list).post(admin_clients::create),
        )
        .route(
            paths::ADMIN_CLIENT,
            get(admin_clients::show).patch(admin_clients::update),
        )
        .route(
            paths::ADMIN_CLIENT_SECRET,
            post(admin_clients::rotate_secret),
        )
        .route(paths::ADMIN_CLIENT_DISABLE, post(admin_clients::disable))
        .route(paths::ADMIN_CLIENT_ENABLE, post(admin_clients::enable))
        .route(paths::ADMIN_INSURANCE_LOOKUPS, get(admin_insurance::list))
        .route(paths::INSURANCE_ELIGIBILITY, post(insurance::eligibility))
        .route(oidc_paths::TOKEN, post(token::token))
        .route(oidc_paths::PAR, post(fapi::push))
        .route(oidc_paths::KYC_IDENTITY, get(fapi::kyc))
        .route(
            oidc_paths::USERINFO,
            get(token::userinfo_get).post(token::userinfo_post),
        )
        .route(oidc_paths::INTROSPECT, post(token::introspect))
        .route(oidc_paths::REVOKE, post(token::revoke))
        .route(oidc_paths::LOGOUT, get(logout::get).post(logout::post))
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
