//! The one RFC-shaped error of the protocol layer: `{error, error_description}`.
//! Debug detail is logged where the error is made and never sent.

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: ErrorCode,
    pub description: String,
}

/// The error codes the provider sends: a variant per code, its constructor on [`OAuthError`]
/// named as the code (`OAuthError::invalid_request(…)`), its wire form by `as_str`.
macro_rules! codes {
    ($($name:ident => $variant:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant),*
        }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => stringify!($name)),*
                }
            }
        }

        impl OAuthError {
            $(pub fn $name(description: impl Into<String>) -> OAuthError {
                OAuthError { error: ErrorCode::$variant, description: description.into() }
            })*
        }
    };
}

codes!(
    invalid_request => InvalidRequest,
    invalid_client => InvalidClient,
    invalid_grant => InvalidGrant,
    unauthorized_client => UnauthorizedClient,
    unsupported_grant_type => UnsupportedGrantType,
    unsupported_response_type => UnsupportedResponseType,
    invalid_scope => InvalidScope,
    access_denied => AccessDenied,
    server_error => ServerError,
    temporarily_unavailable => TemporarilyUnavailable,
    login_required => LoginRequired,
    consent_required => ConsentRequired,
    interaction_required => InteractionRequired,
    request_not_supported => RequestNotSupported,
    request_uri_not_supported => RequestUriNotSupported,
    unmet_authentication_requirements => UnmetAuthenticationRequirements,
    invalid_token => InvalidToken,
    insufficient_scope => InsufficientScope,
    invalid_dpop_proof => InvalidDpopProof,
    use_dpop_nonce => UseDpopNonce,
    invalid_request_uri => InvalidRequestUri,
    invalid_request_object => InvalidRequestObject,
    invalid_authorization_details => InvalidAuthorizationDetails,
    insufficient_user_authentication => InsufficientUserAuthentication,
);

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OAuthError {
    /// HTTP status for token-style endpoints (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(&self) -> u16 {
        match self.error {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::InsufficientScope | ErrorCode::InsufficientUserAuthentication => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }

    /// The provider could not decide (a store or internal failure), as opposed to a refusal:
    /// such an error is never sent to the client as the answer to its request.
    pub fn is_ours(&self) -> bool {
        matches!(
            self.error,
            ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable
        )
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
