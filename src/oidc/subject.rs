//! The `sub` each client receives (OpenID Connect Core §8). Pairwise by default: one value
//! per sector, so two services of different sectors cannot link a person by `sub`, while the
//! clients of one sector (one `sector_identifier_uri`, or one redirect host) share it. A
//! public `sub` — the account's own — only for a client configured so.
//!
//! A pairwise value is an HMAC under the server's pepper over the sector and the account's
//! `sub`: stable across nodes and restarts, not reversible, and it says nothing of the person.
//! (Replacing the key-encryption key's pepper would change every pairwise value.)

use crate::crypto::{Kek, b64url};
use crate::ids::Subject;
use crate::store::{ClientRecord, SubjectType};

/// The `sub` `client` receives for the account `sub`.
pub fn for_client(kek: &Kek, client: &ClientRecord, sub: &Subject) -> Subject {
    match client.settings.subject_type {
        SubjectType::Public => sub.clone(),
        SubjectType::Pairwise => {
            // A client without redirect URIs (client credentials only) is its own sector.
            let sector = client
                .settings
                .sector
                .as_deref()
                .unwrap_or(client.client_id.as_str());
            let mac = kek.secret_digest(&format!("pairwise\n{sector}\n{sub}"));
            // 43 base64url characters: always a valid identifier.
            Subject::stored(b64url(&mac))
        }
    }
}

/// Why a registration has no sector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectorError {
    #[error("redirect URIs on more than one host need a sector_identifier_uri")]
    ManyHosts,
    #[error("sector_identifier_uri must be an https URL")]
    NotHttps,
    #[error("sector_identifier_uri cannot be read: {0}")]
    Unreadable(String),
    #[error("sector_identifier_uri does not list {0}")]
    Unlisted(String),
}

fn host(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// The sector of a registration without a `sector_identifier_uri`: the one host its redirect
/// URIs share (OIDC Core §8.1); `None` for a client without redirect URIs.
pub fn sector_of(redirect_uris: &[String]) -> Result<Option<String>, SectorError> {
    let mut hosts: Vec<String> = redirect_uris.iter().filter_map(|u| host(u)).collect();
    hosts.sort();
    hosts.dedup();
    match hosts.len() {
        0 => Ok(None),
        1 => Ok(hosts.pop()),
        _ => Err(SectorError::ManyHosts),
    }
}

/// Check a `sector_identifier_uri` document (a JSON array of redirect URIs, OIDC
/// Registration §5) against the registration's redirect URIs; the sector is the URI's host.
/// Plain http is accepted only on loopback, for tests and development.
pub fn check_sector_document(
    uri: &str,
    document: &[u8],
    redirect_uris: &[String],
) -> Result<String, SectorError> {
    let u = url::Url::parse(uri).map_err(|_| SectorError::NotHttps)?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
        return Err(SectorError::NotHttps);
    }
    let listed: Vec<String> = serde_json::from_slice(document)
        .map_err(|e| SectorError::Unreadable(format!("not a JSON array of URIs: {e}")))?;
    if let Some(missing) = redirect_uris.iter().find(|r| !listed.contains(r)) {
        return Err(SectorError::Unlisted(missing.clone()));
    }
    host(uri).ok_or(SectorError::NotHttps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClientId;
    use crate::store::{ClientKind, ClientSettings};

    fn client(id: &str, subject_type: SubjectType, sector: Option<&str>) -> ClientRecord {
        ClientRecord {
            client_id: ClientId::parse(id).unwrap(),
            name: id.into(),
            kind: ClientKind::Portal,
            secret_hash: None,
            auth_method: "none".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: vec![],
            jwks: None,
            jwks_uri: None,
            id_token_alg: "ES256".into(),
            min_account_level: 1,
            min_acr: None,
            officer_id: None,
            settings: ClientSettings {
                subject_type,
                sector: sector.map(String::from),
                ..Default::default()
            },
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn one_sector_one_sub_and_different_sectors_differ() {
        let kek = Kek::from_bytes(&[9u8; 32], true).unwrap();
        let sub = Subject::parse("account-1").unwrap();
        let a = for_client(
            &kek,
            &client("a", SubjectType::Pairwise, Some("bank.vn")),
            &sub,
        );
        let b = for_client(
            &kek,
            &client("b", SubjectType::Pairwise, Some("bank.vn")),
            &sub,
        );
        let c = for_client(
            &kek,
            &client("c", SubjectType::Pairwise, Some("bv.vn")),
            &sub,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, sub);
        assert_eq!(a.len(), 43);
        let p = for_client(&kek, &client("p", SubjectType::Public, Some("x.vn")), &sub);
        assert_eq!(p, sub);
    }

    #[test]
    fn sectors_from_redirect_hosts_or_a_listed_document() {
        let one = vec!["https://a.vn/cb".into(), "https://A.vn/other".into()];
        assert_eq!(sector_of(&one), Ok(Some("a.vn".into())));
        let two = vec!["https://a.vn/cb".into(), "https://b.vn/cb".into()];
        assert_eq!(sector_of(&two), Err(SectorError::ManyHosts));
        let doc = br#"["https://a.vn/cb","https://b.vn/cb"]"#;
        let s = check_sector_document("https://group.vn/sector.json", doc, &two);
        assert_eq!(s, Ok("group.vn".into()));
        let three = [two.clone(), vec!["https://c.vn/cb".into()]].concat();
        assert!(matches!(
            check_sector_document("https://group.vn/s", doc, &three),
            Err(SectorError::Unlisted(_))
        ));
        assert_eq!(
            check_sector_document("http://group.vn/s", doc, &two),
            Err(SectorError::NotHttps)
        );
    }
}
