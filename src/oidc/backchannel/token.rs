//! The logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT signed like the
//! client's ID tokens (same key and algorithm, so the client verifies it with the `/jwks`
//! it already uses), explicitly typed `logout+jwt` (§2.4, RFC 8725 §3.11) so it can never be
//! mistaken for an ID token.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::UnixTime;
use crate::crypto::{self, CryptoError, jwt};
use crate::oidc::{Provider, clients};
use crate::store::{ClientRecord, LogoutDelivery};

/// The JWT `typ` header value (§2.4).
pub const TYP: &str = "logout+jwt";
/// The one member of the `events` claim (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Short: the token is signed at each attempt, and it is only good for that one POST.
pub const LIFETIME_SECS: i64 = 120;

/// The claims of a logout token. There is no `nonce` field: §2.4 prohibits one (so that a
/// logout token cannot pass for an ID token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
    /// The `sub` the client received in its ID tokens (pairwise or public).
    pub sub: String,
    /// The session the ID tokens named; always there for grants from a sign-in, so clients
    /// that registered `backchannel_logout_session_required` get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub events: Value,
}

/// The claims for one delivery, issued at `now` with the unique `jti`.
pub fn claims(issuer: &str, d: &LogoutDelivery, jti: String, now: UnixTime) -> LogoutClaims {
    LogoutClaims {
        iss: issuer.to_string(),
        aud: d.client_id.to_string(),
        iat: now,
        exp: now + LIFETIME_SECS,
        jti,
        sub: d.sub.to_string(),
        sid: d.sid.clone(),
        events: json!({ EVENT: {} }),
    }
}

/// Sign a logout token for `d` with the key and algorithm of `client`'s ID tokens. A fresh
/// `jti` each time: a retry after a lost answer is a new token, which a relying party's replay
/// check does not refuse (logging out twice is harmless).
pub fn sign(
    p: &Provider,
    client: &ClientRecord,
    d: &LogoutDelivery,
    now: UnixTime,
) -> Result<String, CryptoError> {
    let c = claims(p.issuer(), d, crypto::random_id()?, now);
    jwt::sign(
        &p.keys.current(),
        clients::id_token_alg(client),
        TYP,
        &c,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientId, Subject};

    fn delivery(sid: Option<&str>) -> LogoutDelivery {
        LogoutDelivery {
            id: "d1".into(),
            client_id: ClientId::parse("bank").unwrap(),
            uri: "https://bank.vn/bcl".into(),
            sub: Subject::parse("pairwise-1").unwrap(),
            account_sub: Subject::parse("acct").unwrap(),
            sid: sid.map(String::from),
            attempts: 1,
            next_attempt_at: 0,
            last_error: None,
            last_status: None,
            delivered_at: None,
            failed_at: None,
            created_at: 0,
        }
    }

    #[test]
    fn claims_are_those_of_section_2_4_and_nothing_more() {
        let c = claims("https://id.vn", &delivery(Some("s-1")), "j-1".into(), 1000);
        let v = serde_json::to_value(&c).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]
        );
        assert_eq!(v["iss"], "https://id.vn");
        assert_eq!(v["aud"], "bank");
        assert_eq!(v["sub"], "pairwise-1", "the sub the client knows");
        assert_eq!(v["sid"], "s-1");
        assert_eq!(
            (v["iat"].as_i64(), v["exp"].as_i64()),
            (Some(1000), Some(1120))
        );
        assert_eq!(v["events"], json!({EVENT: {}}));
        assert!(v.get("nonce").is_none(), "§2.4: nonce is prohibited");
    }

    #[test]
    fn sid_is_left_out_only_when_unknown() {
        let c = claims("https://id.vn", &delivery(None), "j".into(), 0);
        let v = serde_json::to_value(&c).unwrap();
        assert!(v.get("sid").is_none());
        assert_eq!(v["sub"], "pairwise-1");
    }
}
