//! Bearer tokens and `id_token_hint`s: any string through the provider's JWT verifier (ES256
//! with ring, EdDSA through jsonwebtoken — the path RSA keys take too) against a real key set.
//! Never a panic; nothing unsigned by the key set ever verifies. (No RSA key here: making one
//! takes seconds in an unoptimised build, which CI's short runs use.)
#![no_main]

use std::sync::LazyLock;

use eidp::crypto::jwt::{self, Expect};
use eidp::crypto::{Kek, KeySet, keyset};
use libfuzzer_sys::fuzz_target;

static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let kek = Kek::from_b64(&eidp::crypto::b64url(&[9u8; 32]), false).unwrap();
    let records: Vec<_> = ["ES256", "EdDSA"]
        .iter()
        .map(|a| keyset::generate(keyset::parse_alg(a).unwrap(), &kek, 0, 0).unwrap())
        .collect();
    KeySet::from_records(&records, &kek).unwrap()
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    for typ in [None, Some("at+jwt"), Some("jwt")] {
        let expect = Expect { issuer: "https://id.example", typ, check_exp: true };
        let verified = jwt::verify::<serde_json::Value>(&KEYS, token, &expect, 1_000);
        assert!(verified.is_err(), "a token nobody signed verified");
    }
});
