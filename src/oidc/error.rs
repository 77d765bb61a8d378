//! The one RFC-shaped error of the protocol layer: `{error, error_description}`.
//! Debug detail is logged where the error is made and never sent.

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

macro_rules! codes {
    ($($name:ident),* $(,)?) => {
        impl OAuthError {
            $(pub fn $name(description: impl Into<String>) -> OAuthError {
                OAuthError { error: stringify!($name), description: description.into() }
            })*
        }
    };
}

codes!(
    invalid_request,
    invalid_client,
    invalid_grant,
    unauthorized_client,
    unsupported_grant_type,
    unsupported_response_type,
    invalid_scope,
    access_denied,
    server_error,
    temporarily_unavailable,
    login_required,
    consent_required,
    interaction_required,
    request_not_supported,
    request_uri_not_supported,
    unmet_authentication_requirements,
    invalid_token,
    insufficient_scope,
);

impl OAuthError {
    /// HTTP status for token-style endpoints (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" | "invalid_token" => 401,
            "insufficient_scope" => 403,
            "server_error" => 500,
            "temporarily_unavailable" => 503,
            _ => 400,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(detail) => {
                crate::metrics::METRICS.store_error("unavailable");
                tracing::warn!(%detail, "store unavailable");
                OAuthError::temporarily_unavailable("a storage service is unavailable; try again")
            }
            other => {
                crate::metrics::METRICS.store_error(match other {
                    StoreError::Conflict(_) => "conflict",
                    StoreError::Corrupt(_) => "corrupt",
                    _ => "other",
                });
                tracing::error!(error = %other, "store error");
                OAuthError::server_error("internal error")
            }
        }
    }
}

impl From<crate::crypto::CryptoError> for OAuthError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        tracing::error!(error = %e, "crypto error");
        OAuthError::server_error("internal error")
    }
}

impl From<crate::authn::session::SessionError> for OAuthError {
    fn from(e: crate::authn::session::SessionError) -> Self {
        match e {
            crate::authn::session::SessionError::Store(s) => s.into(),
            crate::authn::session::SessionError::Crypto(c) => c.into(),
        }
    }
}
