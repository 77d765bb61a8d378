//! The URIs a client registers: where people are sent back to, and where logout tokens go.

use super::{ClientRuleError, rule};

/// A redirect URI must be absolute, without fragment; plain http only on loopback
/// (RFC 8252 §7.3, RFC 9700 §2.1).
pub fn check_redirect_uri(field: &'static str, uri: &str) -> Result<(), ClientRuleError> {
    let u = url::Url::parse(uri).map_err(|e| rule(field, format!("{uri:?} is not a URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(rule(field, "must not contain a fragment"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(rule(field, "plain http is allowed only for loopback hosts")),
        // Private-use schemes for native apps (RFC 8252 §7.1) must contain a dot.
        s if s.contains('.') => Ok(()),
        _ => Err(rule(
            field,
            "must be https, loopback http, or a reverse-DNS app scheme",
        )),
    }
}

/// A `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2): absolute, no fragment, https
/// (plain http only on a loopback host, for development). The provider POSTs logout tokens
/// there, so nothing else is accepted.
pub fn check_backchannel_logout_uri(uri: &str) -> Result<(), ClientRuleError> {
    const FIELD: &str = "backchannel_logout_uri";
    let u = url::Url::parse(uri).map_err(|e| rule(FIELD, format!("{uri:?} is not a URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(rule(FIELD, "must not contain a fragment"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(rule(FIELD, "must name a host"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(rule(FIELD, "plain http is allowed only for loopback hosts")),
        _ => Err(rule(FIELD, "must be an https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("r", "https://bank.vn/cb").is_ok());
        assert!(check_redirect_uri("r", "http://127.0.0.1:9000/cb").is_ok());
        assert!(check_redirect_uri("r", "http://bank.vn/cb").is_err());
        assert!(check_redirect_uri("r", "https://bank.vn/cb#x").is_err());
        assert!(check_redirect_uri("r", "vn.gov.app:/cb").is_ok());
        assert!(check_redirect_uri("r", "javascript:alert(1)").is_err());
    }

    #[test]
    fn backchannel_logout_uri_rules() {
        let ok = |u: &str| check_backchannel_logout_uri(u).is_ok();
        assert!(ok("https://bank.vn/oidc/backchannel"));
        assert!(
            ok("https://bank.vn:8443/bcl?tenant=1"),
            "port and query may be there"
        );
        assert!(ok("http://127.0.0.1:9000/bcl"));
        assert!(ok("http://localhost/bcl"));
        assert!(!ok("http://bank.vn/bcl"), "plain http off loopback");
        assert!(!ok("https://bank.vn/bcl#frag"));
        assert!(!ok("/relative/bcl"));
        assert!(
            !ok("vn.bank.app:/bcl"),
            "no app schemes: the provider POSTs here"
        );
        assert!(!ok("ftp://bank.vn/bcl"));
    }
}
