//! Security profiles. A `fapi2` client is held to the FAPI 2.0 Security Profile
//! (docs/banks.md): its requests are pushed (RFC 9126), its tokens sender-constrained with
//! DPoP (RFC 9449), it authenticates with `private_key_jwt` only, and its codes live at most
//! 60 seconds. Banks are `fapi2` unless registered otherwise with a written override.

use super::{ClientRuleError, NewClient, rule};
use crate::store::{ClientKind, ClientRecord, Profile};

/// FAPI 2.0 §5.4: the signing algorithms allowed.
pub const FAPI_ALGS: [&str; 3] = ["PS256", "ES256", "EdDSA"];
/// FAPI 2.0 §5.3.2.1: an authorization code lives at most 60 seconds.
pub const FAPI_CODE_LIFETIME: i64 = 60;
/// RFC 9126 §2.2: a pushed request's `request_uri` lives briefly.
pub const PAR_LIFETIME: i64 = 60;

/// The profile a registration asks for, or its kind's default.
pub fn of(n: &NewClient, kind: ClientKind) -> Profile {
    n.profile.unwrap_or(match kind {
        ClientKind::Bank => Profile::Fapi2,
        _ => Profile::Standard,
    })
}

pub fn default_auth_method(p: Profile) -> &'static str {
    match p {
        Profile::Fapi2 => "private_key_jwt",
        Profile::Standard => "client_secret_basic",
    }
}

pub fn is_fapi2(c: &ClientRecord) -> bool {
    c.settings.profile == Profile::Fapi2
}

/// A registration's rules under its profile.
pub fn check(c: &ClientRecord) -> Result<(), ClientRuleError> {
    if !is_fapi2(c) {
        return Ok(());
    }
    if c.auth_method != "private_key_jwt" {
        return Err(rule(
            "auth_method",
            "a fapi2 client authenticates with private_key_jwt",
        ));
    }
    if !FAPI_ALGS.contains(&c.id_token_alg.as_str()) {
        return Err(rule(
            "id_token_alg",
            format!("a fapi2 client uses one of {}", FAPI_ALGS.join(", ")),
        ));
    }
    Ok(())
}

/// Where a client is below its kind's profile (`policy::beyond` lists it).
pub fn below_kind(c: &ClientRecord) -> Option<String> {
    (c.kind == ClientKind::Bank && !is_fapi2(c))
        .then(|| "a bank client is held to the fapi2 profile".to_string())
}
