//! Form and query bodies (`application/x-www-form-urlencoded`) into every parameter struct the
//! endpoints read: never a panic, only a value or an `invalid_request`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use eidp::http::form::parse;
    let _ = parse::<eidp::oidc::authorize::AuthorizeParams>(data);
    let _ = parse::<eidp::oidc::grants::TokenParams>(data);
    let _ = parse::<eidp::oidc::logout::LogoutParams>(data);
    let _ = parse::<std::collections::HashMap<String, String>>(data);
});
