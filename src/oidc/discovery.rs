//! OpenID Connect Discovery 1.0 metadata: every REQUIRED and RECOMMENDED field the provider
//! supports, and nothing it does not. Built once at start; served as bytes.

use openidconnect::core::{
    CoreClaimName, CoreClientAuthMethod, CoreGrantType, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, EmptyAdditionalProviderMetadata, IssuerUrl,
    JsonWebKeySetUrl, ResponseTypes, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use super::{claims, client_auth, paths};
use crate::authn::Acr;
use crate::config::Config;

/// Fields from RFC 8414, RFC 7636, RFC 9207, RFC 7662, RFC 7009, RP-Initiated and Back-Channel
/// Logout that `CoreProviderMetadata` does not model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extra {
    pub code_challenge_methods_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub end_session_endpoint: String,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub ui_locales_supported: Vec<String>,
    pub claims_locales_supported: Vec<String>,
    /// Back-Channel Logout 1.0 §2.1: logout tokens are sent, and carry `sid`.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    /// OpenID Connect for Identity Assurance 1.0 §9.
    #[serde(flatten)]
    pub assurance: Assurance,
    /// FAPI 2.0: PAR (RFC 9126), DPoP (RFC 9449), RAR (RFC 9396), JAR (RFC 9101).
    #[serde(flatten)]
    pub fapi: Fapi,
}

/// What FAPI 2.0 clients need to know: where to push requests, that a `fapi2` client must
/// (`require_pushed_authorization_requests` is per client, false for the server as a whole),
/// the DPoP and request-object algorithms, and the authorization details types.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fapi {
    pub pushed_authorization_request_endpoint: String,
    pub require_pushed_authorization_requests: bool,
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub authorization_details_types_supported: Vec<String>,
    pub request_object_signing_alg_values_supported: Vec<String>,
}

/// What `verified_claims` can carry (OIDC4IDA §9): our trust framework, the chip ID card
/// checked in person, and the claims the check proves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assurance {
    pub verified_claims_supported: bool,
    pub trust_frameworks_supported: Vec<String>,
    pub evidence_supported: Vec<String>,
    pub documents_supported: Vec<String>,
    pub documents_check_methods_supported: Vec<String>,
    pub claims_in_verified_claims_supported: Vec<String>,
}

fn assurance() -> Assurance {
    use super::verified_claims as vc;
    Assurance {
        verified_claims_supported: true,
        trust_frameworks_supported: strings(&[vc::TRUST_FRAMEWORK]),
        evidence_supported: strings(&vc::EVIDENCE),
        documents_supported: strings(&vc::DOCUMENTS),
        documents_check_methods_supported: strings(&vc::CHECK_METHODS),
        claims_in_verified_claims_supported: strings(&vc::CLAIMS),
    }
}
impl AdditionalProviderMetadata for Extra {}

const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];
const CONFIDENTIAL_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn metadata(cfg: &Config) -> Result<serde_json::Value, String> {
    let url = |p: &str| cfg.url(p);
    let e = |e: url::ParseError| e.to_string();
    let algs = ["ES256", "EdDSA", "RS256", "PS256"];
    let jws =
        |a: &&str| serde_json::from_value::<CoreJwsSigningAlgorithm>(serde_json::json!(a)).ok();
    let base = CoreProviderMetadata::new(
        IssuerUrl::new(cfg.issuer.clone()).map_err(e)?,
        AuthUrl::new(url(paths::AUTHORIZE)).map_err(e)?,
        JsonWebKeySetUrl::new(url(paths::JWKS)).map_err(e)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![
            CoreSubjectIdentifierType::Pairwise,
            CoreSubjectIdentifierType::Public,
        ],
        algs.iter().filter_map(jws).collect(),
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(TokenUrl::new(url(paths::TOKEN)).map_err(e)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url(paths::USERINFO)).map_err(e)?))
    .set_scopes_supported(Some(
        claims::SUPPORTED_SCOPES
            .iter()
            .map(|s| Scope::new(s.to_string()))
            .collect(),
    ))
    .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
        CoreGrantType::ClientCredentials,
    ]))
    .set_acr_values_supported(Some(
        Acr::ALL
            .iter()
            .map(|a| openidconnect::AuthenticationContextClass::new(a.as_str().to_string()))
            .collect(),
    ))
    .set_token_endpoint_auth_methods_supported(Some(
        AUTH_METHODS
            .iter()
            .filter_map(|m| {
                serde_json::from_value::<CoreClientAuthMethod>(serde_json::json!(m)).ok()
            })
            .collect(),
    ))
    .set_claims_supported(Some(
        claims::supported_claims()
            .into_iter()
            .map(|c| CoreClaimName::new(c.to_string()))
            .collect(),
    ))
    .set_claims_parameter_supported(Some(true))
    .set_request_parameter_supported(Some(true))
    .set_request_uri_parameter_supported(Some(false))
    .set_require_request_uri_registration(Some(false));
    let assertion_algs = strings(&client_auth::assertion_algs());
    let extra = Extra {
        code_challenge_methods_supported: strings(&["S256"]),
        authorization_response_iss_parameter_supported: true,
        introspection_endpoint: url(paths::INTROSPECT),
        introspection_endpoint_auth_methods_supported: strings(&CONFIDENTIAL_METHODS),
        revocation_endpoint: url(paths::REVOKE),
        revocation_endpoint_auth_methods_supported: strings(&AUTH_METHODS),
        end_session_endpoint: url(paths::LOGOUT),
        token_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        revocation_endpoint_auth_signing_alg_values_supported: assertion_algs,
        ui_locales_supported: strings(&["vi", "en"]),
        claims_locales_supported: strings(&["vi"]),
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        assurance: assurance(),
        fapi: Fapi {
            pushed_authorization_request_endpoint: url(paths::PAR),
            require_pushed_authorization_requests: false,
            dpop_signing_alg_values_supported: strings(&super::dpop::ALGS),
            authorization_details_types_supported: strings(&[super::rar::TRANSFER]),
            request_object_signing_alg_values_supported: strings(&client_auth::assertion_algs()),
        },
    };
    let mut v = serde_json::to_value(&base).map_err(|e| e.to_string())?;
    let extra = serde_json::to_value(&extra).map_err(|e| e.to_string())?;
    if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in more {
            obj.insert(k.clone(), val.clone());
        }
        obj.retain(|_, val| !val.is_null());
    }
    Ok(v)
}
