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
mod face;
mod face_browser;
mod face_service;
mod fail_closed;
mod fapi;
mod flow;
mod identity;
mod interop;
mod kyc;
mod layout;
mod lifecycle;
mod mfa;
mod negative;
mod nodes;
mod passkeys;
mod protocol_hardening;
mod register_cleanse;
mod register_import;
mod relying_parties;
mod security;
mod store_clients;
mod store_consents;
mod store_contract;
mod store_face;
mod store_transfers;
mod token_clients;
mod transfer_browser;
mod transfers;
mod verified_claims;
