//! The bank requests' parsers, on untrusted input: a DPoP proof (header, public key, claims,
//! nonce, `ath`), a request object's claims turned into parameters, and a transfer in
//! `authorization_details`. The first byte picks which.
#![no_main]

use eidp::crypto::Kek;
use eidp::oidc::{dpop, rar, request_object};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 3 {
        0 => {
            let Ok(kek) = Kek::from_bytes(&[7; 32], true) else {
                return;
            };
            let expect = dpop::Expect {
                htm: "GET",
                htu: "https://id.example/api/kyc/v1/identity",
                access_token: Some("at"),
            };
            if let Ok(p) = dpop::read(&kek, text, &expect, 1_800_000_000, true) {
                assert_eq!(p.jkt.len(), 43, "a SHA-256 thumbprint");
            }
        }
        1 => {
            let Ok(serde_json::Value::Object(m)) = serde_json::from_str(text) else {
                return;
            };
            let _ = request_object::check_claims(&m, "c", "https://id.example", 1_800_000_000);
            if let Ok(p) = request_object::params_of(&m) {
                assert!(p.request.is_none() && p.request_uri.is_none(), "never nested");
            }
        }
        _ => {
            if let Ok(t) = rar::transfer_in(text) {
                assert!(t.amount >= 1 && t.currency == "VND" && t.approval_id.is_none());
            }
        }
    }
});
