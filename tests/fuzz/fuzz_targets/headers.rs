//! Request headers a client controls: `Authorization` (Basic and Bearer), `Cookie`, and
//! `X-Forwarded-For` behind a trusted proxy.
#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut h = HeaderMap::new();
    h.insert("authorization", value.clone());
    h.insert("cookie", value.clone());
    h.insert("x-forwarded-for", value);
    let _ = eidp::http::form::basic_credentials(&h);
    let _ = eidp::http::form::bearer(&h);
    let _ = eidp::http::form::cookie(&h, "eidp_session");
    let peer = "10.0.0.2:443".parse().unwrap();
    let trusted = [eidp::config::Cidr::parse("10.0.0.0/8").unwrap()];
    let ip = eidp::http::form::client_ip(&h, peer, &trusted);
    assert!(ip.parse::<std::net::IpAddr>().is_ok(), "the client address is an address: {ip}");
});
