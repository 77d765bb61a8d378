//! eidp — an OpenID Connect provider for national electronic identity.
//!
//! The dependency rule (arrows point down only; nothing depends on `http`):
//!
//! ```text
//! main → cli → app, bootstrap → http → oidc, rp_api → authn → identity, consent → audit, otp, backchannel
//!      → crypto, notify → store → config, metrics, clock, ids
//! ```
//!
//! Only `store/` knows sqlx and redis; only `http/` knows axum. The protocol rules in `oidc/`
//! take plain data and a `now`, and return typed results or RFC-shaped errors.

pub mod app;
pub mod audit;
pub mod authn;
pub mod backchannel;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consent;
pub mod crypto;
pub mod http;
pub mod identity;
pub mod ids;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod otp;
pub mod rp_api;
pub mod store;

pub use app::{App, build_app, build_app_on};
