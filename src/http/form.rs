//! Request parsing shared by the endpoints: form and query parameters (duplicates refused,
//! RFC 6749 §3.1), HTTP Basic client credentials (RFC 6749 §2.3.1) and cookies.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use std::net::IpAddr;

use crate::config::Cidr;
use crate::oidc::OAuthError;

/// Parse `application/x-www-form-urlencoded` bytes into a struct of optional strings.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, OAuthError> {
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        if map
            .insert(k.to_string(), Value::String(v.into_owned()))
            .is_some()
        {
            return Err(OAuthError::invalid_request(format!(
                "parameter {k} is repeated"
            )));
        }
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| OAuthError::invalid_request(format!("malformed parameters: {e}")))
}

/// Client id and secret from `Authorization: Basic`, each form-urlencoded before base64.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| OAuthError::invalid_client("malformed Authorization header"))?;
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// A bearer token from the Authorization header (RFC 6750 §2.1); the scheme is
/// case-insensitive.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The request's DPoP proof (RFC 9449 §4.1): at most one `DPoP` header.
pub fn dpop(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_dpop_proof("send one DPoP header"));
    }
    let v = first
        .to_str()
        .map_err(|_| OAuthError::invalid_dpop_proof("the DPoP header is not a JWT"))?;
    Ok(Some(v.trim().to_string()))
}

/// An access token and how it was presented: `Authorization: Bearer` or `DPoP` (RFC 9449 §7.1).
pub fn access_token(headers: &HeaderMap) -> Option<(String, bool)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim().to_string();
    if token.is_empty() {
        return None;
    }
    match scheme {
        s if s.eq_ignore_ascii_case("bearer") => Some((token, false)),
        s if s.eq_ignore_ascii_case("dpop") => Some((token, true)),
        _ => None,
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The client's address for throttles, logs and the usage history. The socket peer, unless
/// the peer is a trusted proxy: then `X-Forwarded-For` is read from the right (each proxy
/// appends what it saw), skipping trusted proxies, and the first other address is the
/// client. Everything to its left the client wrote itself. An entry that is not an address
/// stops the walk at the last trusted hop, so garbage never becomes the client's address.
pub fn client_ip(headers: &HeaderMap, peer: std::net::SocketAddr, trusted: &[Cidr]) -> String {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer.ip();
    if !is_trusted(client) {
        return client.to_string();
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client.to_string()
}

/// A `Set-Cookie` value: always `HttpOnly`, `SameSite=Lax`, `Path=/`; `Secure` on https.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(serde::Deserialize, Debug)]
    struct P {
        a: Option<String>,
    }

    #[test]
    fn duplicates_are_refused() {
        assert!(parse::<P>(b"a=1&a=2").is_err());
        assert_eq!(
            parse::<P>(b"a=x%20y&b=2").unwrap().a.as_deref(),
            Some("x y")
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        let v = format!("Basic {}", STANDARD.encode("my%3Aclient:p%40ss+word"));
        h.insert("authorization", HeaderValue::from_str(&v).unwrap());
        assert_eq!(
            basic_credentials(&h).unwrap(),
            Some(("my:client".into(), "p@ss word".into()))
        );
        h.insert("authorization", HeaderValue::from_static("Basic !!!"));
        assert!(basic_credentials(&h).is_err());
    }

    #[test]
    fn cookies_and_bearer() {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_static("a=1; eidp_session=xyz"));
        h.insert("authorization", HeaderValue::from_static("bearer abc"));
        assert_eq!(cookie(&h, "eidp_session").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
    }

    #[test]
    fn the_client_address_is_the_right_most_untrusted_hop() {
        let peer: std::net::SocketAddr = "10.0.0.2:443".parse().unwrap();
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let with = |xff: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
            client_ip(&h, peer, &trusted)
        };
        assert_eq!(with("203.0.113.9"), "203.0.113.9");
        assert_eq!(
            with("6.6.6.6, 203.0.113.9, 10.1.1.1"),
            "203.0.113.9",
            "what the client wrote on the left is ignored"
        );
        assert_eq!(
            with("garbage, 10.1.1.1"),
            "10.1.1.1",
            "garbage stops the walk"
        );
        assert_eq!(with(""), "10.0.0.2");
        let outsider: std::net::SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        assert_eq!(
            client_ip(&h, outsider, &trusted),
            "198.51.100.1",
            "an untrusted peer cannot name another address"
        );
        assert_eq!(
            client_ip(&h, peer, &[]),
            "10.0.0.2",
            "no proxies configured"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Any {
            grant_type: Option<String>,
            code: Option<String>,
        }

        proptest! {
            // Form bodies and headers are attacker-controlled: never a panic, only Ok or an error.
            #[test]
            fn form_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse::<Any>(&bytes);
            }

            #[test]
            fn basic_header_never_panics(v in "[ -~]{0,80}") {
                let mut h = HeaderMap::new();
                if let Ok(value) = axum::http::HeaderValue::from_str(&v) {
                    h.insert("authorization", value);
                    let _ = basic_credentials(&h);
                    let _ = bearer(&h);
                }
            }
        }
    }
}
