//! RP-Initiated Logout 1.0: `id_token_hint`, `client_id`, `post_logout_redirect_uri` (exact
//! match against the client's registration) and `state`; and signing a session out, which
//! tells the relying parties signed in through it (Back-Channel Logout 1.0).

use serde::Deserialize;
use url::Url;

use super::{OAuthError, Provider};
use crate::authn::session;
use crate::crypto::jwt;
use crate::ids::{ClientId, Subject};
use crate::store::{ClientRecord, StoreError};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
    pub csrf: Option<String>,
    pub decision: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HintClaims {
    pub sub: Subject,
    pub aud: serde_json::Value,
    pub sid: Option<String>,
}

/// A checked logout request.
#[derive(Debug)]
pub struct LogoutTarget {
    pub hint: Option<HintClaims>,
    pub client: Option<ClientRecord>,
    /// Where to send the browser afterwards, `state` already appended.
    pub redirect: Option<String>,
}

fn aud_of(hint: &HintClaims) -> Option<String> {
    match &hint.aud {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(String::from),
        _ => None,
    }
}

impl LogoutTarget {
    /// Does the `id_token_hint` name the account `sub`? The hint carries the `sub` its client
    /// received (pairwise or public), so it is compared in that client's terms.
    pub fn hint_names(&self, kek: &crate::crypto::Kek, sub: &Subject) -> bool {
        match (&self.hint, &self.client) {
            (Some(h), Some(c)) => h.sub == super::subject::for_client(kek, c, sub),
            _ => false,
        }
    }
}

pub async fn validate(p: &Provider, params: &LogoutParams) -> Result<LogoutTarget, OAuthError> {
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        None => None,
        Some(h) => {
            // §2: the OP need not reject an expired ID token here.
            let expect = jwt::Expect {
                issuer: p.issuer(),
                typ: Some(super::tokens::ID_TOKEN_TYP),
                check_exp: false,
            };
            let c: HintClaims =
                jwt::verify(&p.keys.current(), h, &expect, p.now()).map_err(|_| {
                    OAuthError::invalid_request("id_token_hint is not an ID token issued here")
                })?;
            Some(c)
        }
    };
    let hint_client = hint.as_ref().and_then(aud_of);
    let param_client = params.client_id.clone().filter(|c| !c.is_empty());
    if let (Some(a), Some(b)) = (&hint_client, &param_client)
        && a != b
    {
        return Err(OAuthError::invalid_request(
            "client_id does not match the id_token_hint",
        ));
    }
    let client = match hint_client.or(param_client) {
        Some(id) => {
            let unknown = || OAuthError::invalid_request("unknown client");
            let id = ClientId::parse(id).map_err(|_| unknown())?;
            Some(p.client(&id).await?.ok_or_else(unknown)?)
        }
        None => None,
    };
    let redirect = match params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        None => None,
        Some(uri) => {
            let c = client.as_ref().ok_or_else(|| {
                OAuthError::invalid_request(
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                )
            })?;
            if !c.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err(OAuthError::invalid_request(
                    "post_logout_redirect_uri is not registered",
                ));
            }
            let mut url = Url::parse(uri)
                .map_err(|_| OAuthError::invalid_request("bad post_logout_redirect_uri"))?;
            if let Some(s) = params.state.as_deref() {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };
    Ok(LogoutTarget {
        hint,
        client,
        redirect,
    })
}

/// Sign out the session behind `cookie`: the relying parties signed in through it are told
/// (back-channel logout, queued first, so a sign-out whose notices cannot be queued is not
/// made and the person is asked to try again), then the session ends.
pub async fn sign_out(p: &Provider, cookie: &str) -> Result<(), StoreError> {
    let now = p.now();
    if let Some(s) = session::load(p.eph.as_ref(), cookie, now).await? {
        crate::backchannel::for_session(p.db.as_ref(), &s.sub, &s.sid, now).await?;
    }
    session::end(p.eph.as_ref(), cookie).await
}
