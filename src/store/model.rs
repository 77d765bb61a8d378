//! Records as the stores hold them. Domain modules turn them into their own types.

use crate::clock::UnixTime;

#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub id_number: String,
    pub full_name: String,
    /// `YYYY-MM-DD`
    pub birth_date: String,
    /// `male` | `female`
    pub sex: String,
    pub nationality: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub residence: Option<String>,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// The stable, opaque `sub` claim.
    pub sub: String,
    pub id_number: String,
    pub password_hash: String,
    pub level: i64,
    /// `pending` | `active` | `locked`
    pub state: String,
    pub lock_reason: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    /// `portal` | `bank` | `hospital` | `other`
    pub kind: String,
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
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub kid: String,
    pub alg: String,
    /// Private key (PKCS#8 or PKCS#1 DER) sealed with the key-encryption key.
    pub private_sealed: Vec<u8>,
    pub public_jwk: String,
    pub created_at: UnixTime,
    /// Published from creation; signs from `activate_at`.
    pub activate_at: UnixTime,
    /// Stops signing (a successor took over); still published until `remove_at`.
    pub retire_at: Option<UnixTime>,
    pub remove_at: Option<UnixTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub id: String,
    pub client_id: String,
    pub sub: Option<String>,
    pub scope: String,
    pub auth_time: Option<UnixTime>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub sid: Option<String>,
    /// The OIDC `claims` request parameter (JSON), kept for UserInfo.
    pub claims: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRecord {
    pub token_hash: Vec<u8>,
    pub grant_id: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub used_at: Option<UnixTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub sub: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: UnixTime,
}
