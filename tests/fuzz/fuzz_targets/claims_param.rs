//! The OIDC `claims` request parameter (Core §5.5): parsed, then used the ways the provider
//! uses it (which claims are released, which scopes need consent).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = eidp::oidc::claims::parse_claims_param(raw) {
        let scopes = vec!["openid".to_string(), "profile".into(), "eid".into()];
        let _ = eidp::oidc::claims::consent_scopes(&scopes, Some(&v));
        let _ = eidp::oidc::claims::released(&scopes, Some(&v), "userinfo");
        let _ = eidp::oidc::claims::released(&scopes, Some(&v), "id_token");
    }
});
