//! The authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9207).
//!
//! Raw parameters become a [`AuthRequest`] through ordered checks. Until the client and its
//! redirect URI are proven, errors go to a page ([`Rejection::Page`]); after that, to the
//! client ([`Rejection::Redirect`], RFC 6749 §4.1.2.1).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::{ErrorCode, OAuthError, Provider, claims, clients, split_spaces};
use crate::clock::UnixTime;
use crate::crypto::{self, jwt};
use crate::ids::{ClientId, Subject};
use crate::store::ClientRecord;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub id_token_hint: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub display: Option<String>,
    /// Which of the client's registered purposes the request is for (ours; see
    /// docs/relying-parties.md). Absent: the client's first.
    pub purpose: Option<String>,
    /// Rich authorization requests (RFC 9396), a JSON array.
    pub authorization_details: Option<String>,
    /// The DPoP key the code will be bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

/// A validated authorization request, kept in the ephemeral store while the person signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Vec<String>,
    pub hint_sub: Option<Subject>,
    pub acr_values: Vec<String>,
    pub claims: Option<Value>,
    #[serde(default)]
    pub purpose: Option<String>,
    /// Validated rich authorization details (RFC 9396): what the person approves.
    #[serde(default)]
    pub authorization_details: Option<Value>,
    /// The DPoP key the code is bound to, from the push or the request (RFC 9449 §10).
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// Came through a pushed authorization request (RFC 9126).
    #[serde(default)]
    pub pushed: bool,
    /// The client is held to FAPI 2.0 (its code lives at most 60 s).
    #[serde(default)]
    pub fapi: bool,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The client or redirect URI is not proven: never redirect, show a page.
    Page(PageReason, OAuthError),
    Redirect {
        redirect_uri: String,
        error: OAuthError,
        state: Option<String>,
    },
}

/// Why a request is answered with a page, for the page to say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageReason {
    UnknownClient,
    /// Registered, but disabled by an admin.
    DisabledClient,
    RedirectUri,
    /// The request itself is malformed before its client is proven.
    Request,
    /// The provider could not decide now.
    Unavailable,
}

impl From<OAuthError> for Rejection {
    fn from(e: OAuthError) -> Self {
        let reason = match e.error {
            ErrorCode::InvalidClient => PageReason::UnknownClient,
            _ if e.is_ours() => PageReason::Unavailable,
            _ => PageReason::Request,
        };
        Rejection::Page(reason, e)
    }
}

/// The URL the client receives: `code` or `error`, plus `state` and `iss` (RFC 9207).
pub fn response_url(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
    iss: &str,
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_string();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", iss);
    }
    url.to_string()
}

pub fn error_url(p: &Provider, r: &Rejection) -> Option<String> {
    match r {
        Rejection::Page(..) => None,
        Rejection::Redirect {
            redirect_uri,
            error,
            state,
        } => Some(response_url(
            redirect_uri,
            &[
                ("error", error.error.as_str()),
                ("error_description", &error.description),
            ],
            state.as_deref(),
            p.issuer(),
        )),
    }
}

/// The URL that tells the client of a proven request about `e` (RFC 6749 §4.1.2.1).
pub fn error_url_for(p: &Provider, req: &AuthRequest, e: &OAuthError) -> String {
    response_url(
        &req.redirect_uri,
        &[
            ("error", e.error.as_str()),
            ("error_description", &e.description),
        ],
        req.state.as_deref(),
        p.issuer(),
    )
}

pub(super) async fn check_client(
    p: &Provider,
    params: &AuthorizeParams,
) -> Result<ClientRecord, Rejection> {
    let id = params.client_id.as_deref().filter(|s| !s.is_empty());
    let id = id.ok_or_else(|| OAuthError::invalid_request("client_id is missing"))?;
    // Not an identifier at all: no client has it, and it never reaches the store.
    let id = ClientId::parse(id).map_err(|_| OAuthError::invalid_client("unknown client_id"))?;
    let client = p.registered_client(&id).await.map_err(OAuthError::from)?;
    let client = client.ok_or_else(|| OAuthError::invalid_client("unknown client_id"))?;
    // A page, never a redirect: the service's own redirect URI no longer speaks for it.
    if super::clients::is_disabled(&client) {
        let e = OAuthError::invalid_client("this client is disabled");
        return Err(Rejection::Page(PageReason::DisabledClient, e));
    }
    if !super::clients::allows_grant(&client, "authorization_code") {
        return Err(OAuthError::unauthorized_client("client may not use the code flow").into());
    }
    Ok(client)
}

/// Exact string match against the registered URIs (OIDC Core §3.1.2.1, RFC 9700 §4.1.3).
fn check_redirect_uri(
    client: &ClientRecord,
    params: &AuthorizeParams,
) -> Result<String, Rejection> {
    let uri = params.redirect_uri.as_deref().filter(|s| !s.is_empty());
    let missing = || {
        let e = OAuthError::invalid_request("redirect_uri is missing");
        Rejection::Page(PageReason::RedirectUri, e)
    };
    let uri = uri.ok_or_else(missing)?;
    if !client.redirect_uris.iter().any(|r| r == uri) {
        let e = OAuthError::invalid_request("redirect_uri is not registered for this client");
        return Err(Rejection::Page(PageReason::RedirectUri, e));
    }
    Ok(uri.to_string())
}

fn check_pkce(params: &AuthorizeParams) -> Result<String, OAuthError> {
    let challenge = params.code_challenge.as_deref().filter(|s| !s.is_empty());
    let challenge = challenge
        .ok_or_else(|| OAuthError::invalid_request("code_challenge is required (PKCE)"))?;
    // A missing method means `plain` (RFC 7636 §4.3), which we do not accept.
    if params.code_challenge_method.as_deref() != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    let ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(OAuthError::invalid_request(
            "code_challenge must be a base64url SHA-256 value",
        ));
    }
    Ok(challenge.to_string())
}

fn check_prompt(params: &AuthorizeParams) -> Result<Vec<String>, OAuthError> {
    let prompt = split_spaces(params.prompt.as_deref());
    for v in &prompt {
        if !matches!(v.as_str(), "none" | "login" | "consent" | "select_account") {
            return Err(OAuthError::invalid_request(format!(
                "unsupported prompt value {v:?}"
            )));
        }
    }
    if prompt.len() > 1 && prompt.iter().any(|v| v == "none") {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

fn check_scope(params: &AuthorizeParams, client: &ClientRecord) -> Result<Vec<String>, OAuthError> {
    let requested = split_spaces(params.scope.as_deref());
    if !requested.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope("scope must include openid"));
    }
    // A scope this provider knows but the client's policy does not allow is refused; values
    // the server does not understand are ignored (OIDC Core §3.1.2.1).
    let allowed = super::policy::scopes(client);
    let known = |s: &&String| claims::SUPPORTED_SCOPES.contains(&s.as_str());
    if let Some(bad) = requested
        .iter()
        .filter(known)
        .find(|s| !allowed.contains(s))
    {
        return Err(OAuthError::invalid_scope(format!(
            "scope {bad:?} is not available to this client"
        )));
    }
    Ok(requested
        .into_iter()
        .filter(|s| allowed.contains(s))
        .collect())
}

/// The hint must be an ID token we issued to this client (OIDC Core §3.1.2.1): signed by us,
/// typed as an ID token (never an access token, `at+jwt`), with this client in `aud`. It may
/// have expired.
fn check_id_token_hint(
    p: &Provider,
    hint: Option<&str>,
    client_id: &str,
) -> Result<Option<Subject>, OAuthError> {
    let Some(hint) = hint.filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    #[derive(Deserialize)]
    struct Hint {
        sub: Subject,
        aud: Value,
    }
    let expect = jwt::Expect {
        issuer: p.issuer(),
        typ: Some(crate::oidc::tokens::ID_TOKEN_TYP),
        check_exp: false,
    };
    let refused = || OAuthError::invalid_request("id_token_hint is not an ID token issued here");
    let h: Hint = jwt::verify(&p.keys.current(), hint, &expect, p.now()).map_err(|_| refused())?;
    let for_client = match &h.aud {
        Value::String(a) => a == client_id,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_client {
        return Err(OAuthError::invalid_request(
            "id_token_hint was not issued to this client",
        ));
    }
    Ok(Some(h.sub))
}

/// Check a request of `client` — from the query, a request object or a push (`pushed`).
/// Parameters are checked in the order the specs' error rules need.
pub async fn check_request(
    p: &Provider,
    client: &ClientRecord,
    params: &AuthorizeParams,
    pushed: bool,
) -> Result<AuthRequest, Rejection> {
    check_lengths(params)?;
    let redirect_uri = check_redirect_uri(client, params)?;
    let state = params.state.clone();
    let to_client = |error: OAuthError| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        state: state.clone(),
    };
    if params.request.is_some() || params.request_uri.is_some() {
        return Err(to_client(OAuthError::invalid_request(
            "request and request_uri cannot be nested",
        )));
    }
    if clients::profile::is_fapi2(client) && !pushed {
        return Err(to_client(OAuthError::invalid_request(
            "this client must push its authorization requests (PAR, RFC 9126)",
        )));
    }
    match params.response_type.as_deref() {
        None | Some("") => {
            return Err(to_client(OAuthError::invalid_request(
                "response_type is missing",
            )));
        }
        Some("code") => {}
        Some(_) => {
            return Err(to_client(OAuthError::unsupported_response_type(
                "only response_type=code is supported",
            )));
        }
    }
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return Err(to_client(OAuthError::invalid_request(
            "only response_mode=query is supported",
        )));
    }
    let scopes = check_scope(params, client).map_err(to_client)?;
    let code_challenge = check_pkce(params).map_err(to_client)?;
    let prompt = check_prompt(params).map_err(to_client)?;
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            to_client(OAuthError::invalid_request(
                "max_age must be a non-negative integer",
            ))
        })?),
    };
    let claims = match params.claims.as_deref() {
        None | Some("") => None,
        Some(raw) => {
            let asked = claims::parse_claims_param(raw)
                .map_err(|e| to_client(OAuthError::invalid_request(e)))?;
            // Claims the client's policy does not allow are left out, as OIDC Core §5.5
            // lets a provider do with claims it will not return.
            Some(claims::within(asked, &super::policy::scopes(client)))
        }
    };
    let purpose = clients::purposes::asked(client, params.purpose.as_deref())
        .map_err(|e| to_client(OAuthError::invalid_request(e)))?;
    let hint_sub = check_id_token_hint(p, params.id_token_hint.as_deref(), &client.client_id)
        .map_err(to_client)?;
    let authorization_details = match params.authorization_details.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(super::rar::parse(raw, client).map_err(to_client)?),
    };
    let dpop_jkt = params.dpop_jkt.clone().filter(|j| !j.is_empty());
    if dpop_jkt
        .as_deref()
        .is_some_and(|j| crypto::b64url_decode(j).map(|b| b.len()) != Some(32))
    {
        return Err(to_client(OAuthError::invalid_request(
            "dpop_jkt must be a base64url SHA-256 thumbprint",
        )));
    }
    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scopes,
        state: state.clone(),
        nonce: params.nonce.clone().filter(|n| !n.is_empty()),
        code_challenge,
        prompt,
        max_age,
        login_hint: params.login_hint.clone().filter(|h| !h.is_empty()),
        ui_locales: split_spaces(params.ui_locales.as_deref()),
        hint_sub,
        acr_values: split_spaces(params.acr_values.as_deref()),
        claims,
        purpose,
        authorization_details,
        dpop_jkt,
        pushed,
        fapi: clients::profile::is_fapi2(client),
        created_at: p.now(),
    };
    Ok(req)
}

mod front;
mod issue;
use front::check_lengths;
pub use front::validate;
pub use issue::{CodeGrant, code_key, issue_code};

#[cfg(test)]
mod tests {
    use super::response_url;

    #[test]
    fn response_url_keeps_existing_query_and_adds_iss() {
        let u = response_url(
            "https://rp/cb?x=1",
            &[("code", "abc")],
            Some("st"),
            "https://id",
        );
        assert_eq!(
            u,
            "https://rp/cb?x=1&code=abc&state=st&iss=https%3A%2F%2Fid"
        );
    }
}
