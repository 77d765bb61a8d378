//! Pushed authorization requests (RFC 9126). The client sends its request — parameters, or a
//! signed request object (RFC 9101) — straight to us, authenticated, and gets a `request_uri`
//! that the browser then carries to `/authorize` alone. Nothing in the request passes through
//! the browser, so nothing there can be read or changed; the `request_uri` is single-use and
//! lives [`PAR_LIFETIME`] seconds.

use serde::{Deserialize, Serialize};

use super::authorize::{self, AuthorizeParams, Rejection};
use super::clients::profile::PAR_LIFETIME;
use super::{OAuthError, Provider, request_object};
use crate::clock::UnixTime;
use crate::crypto;
use crate::ids::ClientId;
use crate::store::{ClientRecord, typed};

pub const URN_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The answer to a push (RFC 9126 §2.2).
#[derive(Debug, Serialize)]
pub struct Pushed {
    pub request_uri: String,
    pub expires_in: i64,
}

/// What is kept under the `request_uri` until `/authorize` takes it.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    client_id: ClientId,
    params: AuthorizeParams,
    expires_at: UnixTime,
}

fn key(request_uri: &str) -> String {
    format!("par:{}", crypto::digest_hex(request_uri))
}

/// Validate and keep an authenticated client's request. `dpop_jkt`: the key of a DPoP proof
/// sent with the push, which the code will be bound to (RFC 9449 §10).
pub async fn push(
    p: &Provider,
    client: &ClientRecord,
    mut params: AuthorizeParams,
    dpop_jkt: Option<String>,
) -> Result<Pushed, OAuthError> {
    if params.request_uri.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri cannot be pushed (RFC 9126 §2.1)",
        ));
    }
    if params
        .client_id
        .as_deref()
        .is_some_and(|c| c != client.client_id.as_str())
    {
        return Err(OAuthError::invalid_request(
            "client_id does not match the authenticated client",
        ));
    }
    if let Some(jwt) = params.request.take() {
        params = request_object::unpack(p, client, &jwt).await?;
    }
    params.client_id = Some(client.client_id.to_string());
    params.dpop_jkt = match (params.dpop_jkt.take(), dpop_jkt) {
        (Some(a), Some(b)) if a != b => {
            return Err(OAuthError::invalid_dpop_proof(
                "dpop_jkt does not match the DPoP proof",
            ));
        }
        (a, b) => b.or(a),
    };
    // Checked now, so the client hears what is wrong from us, not from a browser later.
    authorize::check_request(p, client, &params, true)
        .await
        .map_err(|r| match r {
            Rejection::Page(_, e) => e,
            Rejection::Redirect { error, .. } => error,
        })?;
    let request_uri = format!("{URN_PREFIX}{}", crypto::random_token()?);
    let stored = Stored {
        client_id: client.client_id.clone(),
        params,
        expires_at: p.now() + PAR_LIFETIME,
    };
    typed::put(
        p.eph.as_ref(),
        &key(&request_uri),
        &stored,
        PAR_LIFETIME as u64,
    )
    .await?;
    Ok(Pushed {
        request_uri,
        expires_in: PAR_LIFETIME,
    })
}

/// Take the pushed request `request_uri` for `client_id`: once only, and only for the client
/// that pushed it.
pub async fn take(
    p: &Provider,
    client_id: &str,
    request_uri: &str,
) -> Result<AuthorizeParams, OAuthError> {
    let gone = || OAuthError::invalid_request_uri("request_uri is unknown, used or expired");
    if !request_uri.starts_with(URN_PREFIX) || request_uri.len() > 256 {
        return Err(gone());
    }
    // Looked at before it is taken: another client's attempt must not spend it.
    let peek = typed::get::<Stored>(p.eph.as_ref(), &key(request_uri))
        .await?
        .ok_or_else(gone)?;
    if peek.client_id.as_str() != client_id {
        return Err(OAuthError::invalid_request_uri(
            "request_uri was pushed by another client",
        ));
    }
    let stored = typed::take::<Stored>(p.eph.as_ref(), &key(request_uri))
        .await?
        .ok_or_else(gone)?;
    if stored.expires_at <= p.now() {
        return Err(gone());
    }
    Ok(stored.params)
}
