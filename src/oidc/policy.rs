//! What each kind of relying party may receive, and how well the person must be proofed and
//! how strongly signed in (DOMAIN.md, "What each relying party may receive"). A kind's policy
//! is a ceiling on scopes and token lifetimes and a floor on account level and `acr`. A client
//! narrows it and never widens it — unless an admin wrote down why (`policy_override`), which
//! the registration records and audits. The rules hold at run time too: a client stored
//! before a floor was raised is held to the new floor.

use crate::authn::Acr;
use crate::config::Lifetimes;
use crate::store::{ClientKind, ClientRecord};

/// A kind's ceiling and floors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindPolicy {
    /// The scopes its clients may be given.
    pub scopes: &'static [&'static str],
    pub min_account_level: i64,
    pub min_acr: Acr,
    /// Longest access-token and refresh-token lifetimes, in seconds.
    pub access_token_max: i64,
    pub refresh_token_max: i64,
}

const DAY: i64 = 24 * 3600;

/// A bank's: identity and contact details, and the signed KYC assertion (`rp_api::kyc`).
const BANK: &[&str] = &[
    "openid",
    "profile",
    "eid",
    "address",
    "email",
    "phone",
    "offline_access",
    "kyc",
];
/// Who the person is, where they live and how to reach them: a bank's without `kyc`.
const IDENTITY_AND_CONTACT: &[&str] = BANK.split_at(BANK.len() - 1).0;

/// The policy of `kind`.
pub fn of(kind: ClientKind) -> KindPolicy {
    match kind {
        // Identity for administrative procedures; residence and contact details only with
        // consent, per procedure. Many procedures accept Level 1.
        ClientKind::Portal => KindPolicy {
            scopes: IDENTITY_AND_CONTACT,
            min_account_level: 1,
            min_acr: Acr::Loa1,
            access_token_max: 600,
            refresh_token_max: 30 * DAY,
        },
        // KYC: identity attributes from a Level-2 account, two factors at least (a
        // transaction that needs level 3 asks for it with the request).
        ClientKind::Bank => KindPolicy {
            scopes: BANK,
            min_account_level: 2,
            min_acr: Acr::Loa2,
            access_token_max: 300,
            refresh_token_max: DAY,
        },
        // ID number, name, date of birth, sex; the health-insurance card after consent
        // (kiosk sign-in), and eligibility through the look-up API (its own token).
        ClientKind::Hospital => KindPolicy {
            scopes: &[
                "openid",
                "profile",
                "eid",
                "health_insurance",
                "insurance:eligibility",
                "offline_access",
            ],
            min_account_level: 1,
            min_acr: Acr::Loa1,
            access_token_max: 600,
            refresh_token_max: 7 * DAY,
        },
        // Anything else gets the least: who the person is, by name.
        ClientKind::Other => KindPolicy {
            scopes: &["openid", "profile", "offline_access"],
            min_account_level: 1,
            min_acr: Acr::Loa1,
            access_token_max: 600,
            refresh_token_max: 7 * DAY,
        },
        ClientKind::Admin => KindPolicy {
            scopes: &["admin"],
            min_account_level: 2,
            min_acr: Acr::Loa2,
            access_token_max: 300,
            refresh_token_max: 0,
        },
    }
}

/// What a client is held to now: its own settings within its kind's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub scopes: Vec<String>,
    pub min_account_level: i64,
    pub min_acr: Acr,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
}

fn overridden(c: &ClientRecord) -> bool {
    c.settings
        .policy_override
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
}

/// The scopes the client may be given now.
pub fn scopes(c: &ClientRecord) -> Vec<String> {
    let k = of(c.kind);
    let within = |s: &&String| overridden(c) || k.scopes.contains(&s.as_str());
    c.scopes.iter().filter(within).cloned().collect()
}

/// The lowest account level the client accepts.
pub fn min_account_level(c: &ClientRecord) -> i64 {
    match overridden(c) {
        true => c.min_account_level,
        false => c.min_account_level.max(of(c.kind).min_account_level),
    }
}

/// The lowest `acr` the client accepts.
pub fn min_acr(c: &ClientRecord) -> Acr {
    let k = of(c.kind);
    let own = c.min_acr.as_deref().and_then(Acr::parse);
    match overridden(c) {
        true => own.unwrap_or(k.min_acr),
        false => own.unwrap_or(k.min_acr).max(k.min_acr),
    }
}

/// Access-token and refresh-token lifetimes for the client, under the provider's configured
/// `lifetimes`: the shortest of the configured, the kind's cap and the client's own.
pub fn token_lifetimes(c: &ClientRecord, lifetimes: &Lifetimes) -> (i64, i64) {
    let k = of(c.kind);
    let shortest = |configured: i64, max: i64, own: Option<i64>| {
        let cap = if overridden(c) { configured } else { max };
        own.unwrap_or(configured).min(configured).min(cap).max(1)
    };
    (
        shortest(
            lifetimes.access_token,
            k.access_token_max,
            c.settings.access_token_ttl,
        ),
        shortest(
            lifetimes.refresh_token,
            k.refresh_token_max,
            c.settings.refresh_token_ttl,
        ),
    )
}

/// The client's policy in force, all of it.
pub fn effective(c: &ClientRecord, lifetimes: &Lifetimes) -> Effective {
    let (access_token_ttl, refresh_token_ttl) = token_lifetimes(c, lifetimes);
    Effective {
        scopes: scopes(c),
        min_account_level: min_account_level(c),
        min_acr: min_acr(c),
        access_token_ttl,
        refresh_token_ttl,
    }
}

/// Where a registration goes past its kind's policy (empty when it does not): each line says
/// what and why it is refused without an override.
pub fn beyond(c: &ClientRecord) -> Vec<String> {
    let k = of(c.kind);
    let mut out: Vec<String> = super::clients::profile::below_kind(c).into_iter().collect();
    for s in c.scopes.iter().filter(|s| !k.scopes.contains(&s.as_str())) {
        out.push(format!("scope {s:?} is not for a {} client", c.kind));
    }
    if c.min_account_level < k.min_account_level {
        out.push(format!(
            "a {} client needs accounts of Level {} at least",
            c.kind, k.min_account_level
        ));
    }
    if let Some(a) = c.min_acr.as_deref().and_then(Acr::parse)
        && a < k.min_acr
    {
        out.push(format!(
            "a {} client needs {} at least",
            c.kind,
            k.min_acr.as_str()
        ));
    }
    let long = |own: Option<i64>, max: i64| own.is_some_and(|t| t > max);
    if long(c.settings.access_token_ttl, k.access_token_max) {
        out.push(format!(
            "access tokens of a {} client live {} s at most",
            c.kind, k.access_token_max
        ));
    }
    if long(c.settings.refresh_token_ttl, k.refresh_token_max) {
        out.push(format!(
            "refresh tokens of a {} client live {} s at most",
            c.kind, k.refresh_token_max
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::ClientId;
    use crate::store::ClientSettings;

    pub(crate) fn client(kind: ClientKind, scopes: &[&str], level: i64) -> ClientRecord {
        ClientRecord {
            client_id: ClientId::parse("c").unwrap(),
            name: "c".into(),
            kind,
            secret_hash: None,
            auth_method: "none".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            jwks: None,
            jwks_uri: None,
            id_token_alg: "ES256".into(),
            min_account_level: level,
            min_acr: None,
            officer_id: None,
            settings: ClientSettings::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_bank_is_held_to_level_2_and_two_factors() {
        let c = client(ClientKind::Bank, &["openid", "eid"], 1);
        let e = effective(&c, &Lifetimes::default());
        assert_eq!((e.min_account_level, e.min_acr), (2, Acr::Loa2));
        assert_eq!(e.access_token_ttl, 300);
        let beyond = beyond(&c);
        assert_eq!(beyond.len(), 2, "{beyond:?}");
        assert!(
            beyond[0].contains("fapi2"),
            "a standard-profile bank: {beyond:?}"
        );
    }

    #[test]
    fn a_hospital_never_gets_address_or_contact_details() {
        let c = client(
            ClientKind::Hospital,
            &["openid", "address", "phone", "eid"],
            1,
        );
        assert_eq!(
            effective(&c, &Lifetimes::default()).scopes,
            ["openid", "eid"]
        );
        assert_eq!(beyond(&c).len(), 2);
    }

    #[test]
    fn an_override_with_a_reason_widens_and_an_empty_one_does_not() {
        let mut c = client(ClientKind::Hospital, &["openid", "address"], 1);
        c.settings.policy_override = Some("  ".into());
        assert_eq!(effective(&c, &Lifetimes::default()).scopes, ["openid"]);
        c.settings.policy_override = Some("Decision 12/QĐ: home visits".into());
        assert_eq!(
            effective(&c, &Lifetimes::default()).scopes,
            ["openid", "address"]
        );
    }

    #[test]
    fn a_client_may_only_shorten_lifetimes() {
        let mut c = client(ClientKind::Portal, &["openid"], 1);
        c.settings.access_token_ttl = Some(120);
        c.settings.refresh_token_ttl = Some(999 * DAY);
        let e = effective(&c, &Lifetimes::default());
        assert_eq!(e.access_token_ttl, 120);
        assert_eq!(e.refresh_token_ttl, 30 * DAY);
        assert_eq!(beyond(&c).len(), 1);
    }
}
