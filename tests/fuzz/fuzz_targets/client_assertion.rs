//! Client assertions (RFC 7523): reading the header and claims of an untrusted JWT, then the
//! time, lifetime and audience rules.
#![no_main]

use eidp::oidc::client_auth::assertion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let audiences = ["https://id.example/token".to_string()];
    for client_id in [None, Some("c")] {
        if let Ok(a) = assertion::read(token, client_id) {
            if let Ok(fresh) = a.check(1_000_000, &audiences) {
                assert!(fresh.remember_secs >= 60, "a jti is remembered long enough");
            }
        }
    }
});
