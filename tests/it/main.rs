#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! One integration binary: every test drives the provider over real HTTP.

mod abuse;
mod admin_clients;
mod admin_clients_nodes;
mod admin_clients_policy;
mod algorithms;
mod backchannel;
mod backchannel_queue;
mod bcp;
mod browser;
mod cli;
mod common;
mod conformance;
mod consent;
mod fail_closed;
mod flow;
mod identity;
mod insurance;
mod insurance_import;
mod insurance_kiosk;
mod insurance_schema;
mod interop;
mod layout;
mod lifecycle;
mod mfa;
mod negative;
mod nodes;
mod passkeys;
mod protocol_hardening;
mod register_import;
mod relying_parties;
mod security;
mod store_clients;
mod store_consents;
mod store_contract;
mod token_clients;
mod verified_claims;
