//! Client records: the kind of party, its registration and its settings.

use crate::clock::UnixTime;
use crate::ids::ClientId;

/// What kind of party a client is (DOMAIN.md): its kind sets the ceiling of what it may
/// receive and the floor of how strongly the person must be proofed and signed in
/// (`oidc::policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// The public-service portal.
    Portal,
    Bank,
    Hospital,
    Other,
    /// Calls the admin API for one officer (client credentials only).
    Admin,
}

impl ClientKind {
    pub const ALL: [ClientKind; 5] = [
        ClientKind::Portal,
        ClientKind::Bank,
        ClientKind::Hospital,
        ClientKind::Other,
        ClientKind::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Portal => "portal",
            ClientKind::Bank => "bank",
            ClientKind::Hospital => "hospital",
            ClientKind::Other => "other",
            ClientKind::Admin => "admin",
        }
    }

    pub fn parse(v: &str) -> Option<ClientKind> {
        ClientKind::ALL.into_iter().find(|k| k.as_str() == v)
    }
}

impl std::fmt::Display for ClientKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which `sub` a client receives (OpenID Connect Core §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    /// One per sector: clients of different sectors cannot link a person by `sub`.
    #[default]
    Pairwise,
    /// The account's own `sub`, the same at every client configured so.
    Public,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Pairwise => "pairwise",
            SubjectType::Public => "public",
        }
    }
}

/// A client's settings beyond its protocol registration: how it narrows its kind's policy,
/// and its subject type and sector. Stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClientSettings {
    #[serde(default)]
    pub subject_type: SubjectType,
    /// The host pairwise identifiers are computed for: the `sector_identifier_uri`'s host, or
    /// the one host of the redirect URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Shorter token lifetimes than the kind allows, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<i64>,
    /// Why this client may go past its kind's policy (an admin's written reason; audited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_override: Option<String>,
    /// What the client uses the data for, as the consent page states it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<Purpose>,
    /// OpenID Connect Back-Channel Logout 1.0: where logout tokens are delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in its logout tokens.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// When an admin disabled the client; a disabled client is refused everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<UnixTime>,
    /// The security profile the client is held to (`oidc::clients::profile`).
    #[serde(default, skip_serializing_if = "Profile::is_standard")]
    pub profile: Profile,
}

/// A client's security profile. `fapi2`: the FAPI 2.0 Security Profile — pushed and signed
/// requests, `private_key_jwt`, DPoP-bound tokens (banks, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Standard,
    Fapi2,
}

impl Profile {
    pub fn is_standard(&self) -> bool {
        *self == Profile::Standard
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Standard => "standard",
            Profile::Fapi2 => "fapi2",
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "standard" => Some(Profile::Standard),
            "fapi2" => Some(Profile::Fapi2),
            _ => None,
        }
    }
}

/// One purpose a client registered: the text shown on the consent page in each language,
/// the claims the purpose cannot do without (every other claim asked for is optional and
/// left unticked), and the version of the text, which a consent record keeps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Purpose {
    /// A short name the client uses in its requests (`purpose` parameter).
    pub id: String,
    pub text_vi: String,
    pub text_en: String,
    #[serde(default)]
    pub required_claims: Vec<String>,
    /// Bumped whenever either text changes: a consent given to older text is asked again.
    #[serde(default = "first_version")]
    pub version: i64,
}

fn first_version() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub client_id: ClientId,
    pub name: String,
    pub kind: ClientKind,
    /// HMAC-SHA-256 of the secret under the server's pepper; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    pub auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_alg: String,
    pub min_account_level: i64,
    pub min_acr: Option<String>,
    /// For an `admin` client: the one officer it acts for. The admin API takes the acting
    /// officer from here, never from a request.
    pub officer_id: Option<String>,
    pub settings: ClientSettings,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}
