//! WebAuthn passkeys (webauthn-rs): registration from the account page, sign-in with a passkey
//! alone (discoverable credential, conditional-UI autofill), and a passkey as the second factor.
//! Ceremony state lives in the ephemeral store with a TTL, so any node can finish a ceremony
//! another node began. Counters and backup flags are stored and checked on every use: a cloned
//! credential presenting a stale counter is refused.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use webauthn_rs::prelude::*;

use super::{AuthnError, Method};
use crate::clock::UnixTime;
use crate::crypto;
use crate::store::{AccountRecord, Durable, Ephemeral, PasskeyRecord, typed};

const CEREMONY_TTL: u64 = 300;

fn internal(e: impl std::fmt::Display) -> AuthnError {
    AuthnError::Internal(e.to_string())
}

/// The relying party: the issuer's host is the RP ID and its origin the only allowed one.
pub fn relying_party(issuer: &str) -> Result<Webauthn, AuthnError> {
    let origin = Url::parse(issuer).map_err(internal)?;
    let rp_id = origin
        .host_str()
        .ok_or_else(|| internal("issuer without host"))?
        .to_string();
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(internal)?
        .rp_name("eidp")
        .build()
        .map_err(internal)
}

async fn put_state<T: Serialize + Sync>(
    eph: &dyn Ephemeral,
    kind: &str,
    state: &T,
) -> Result<String, AuthnError> {
    let id = crypto::random_token().map_err(internal)?;
    typed::put(eph, &format!("wa-{kind}:{id}"), state, CEREMONY_TTL).await?;
    Ok(id)
}

/// Take (single use) a ceremony's state.
async fn take_state<T: DeserializeOwned>(
    eph: &dyn Ephemeral,
    kind: &str,
    id: &str,
) -> Result<T, AuthnError> {
    typed::take(eph, &format!("wa-{kind}:{id}"))
        .await?
        .ok_or(AuthnError::InvalidCredentials)
}

fn to_json<T: Serialize>(v: &T) -> Result<Value, AuthnError> {
    serde_json::to_value(v).map_err(internal)
}

/// The account's stable WebAuthn user handle.
async fn user_handle(db: &dyn Durable, account: &AccountRecord) -> Result<Uuid, AuthnError> {
    if let Some(h) = db.webauthn_user(&account.sub).await? {
        return Uuid::parse_str(&h).map_err(internal);
    }
    let fresh = Uuid::from_bytes(crypto::random_bytes::<16>().map_err(internal)?);
    db.set_webauthn_user(&account.sub, &fresh.to_string())
        .await?;
    // Another node may have set one first: read back what won.
    let h = db
        .webauthn_user(&account.sub)
        .await?
        .ok_or_else(|| internal("user handle not stored"))?;
    Uuid::parse_str(&h).map_err(internal)
}

fn passkeys(records: &[PasskeyRecord]) -> Result<Vec<Passkey>, AuthnError> {
    records
        .iter()
        .map(|r| serde_json::from_str(&r.passkey).map_err(internal))
        .collect()
}

/// Registration options (resident key preferred, so the passkey can sign in alone).
pub async fn begin_registration(
    wa: &Webauthn,
    db: &dyn Durable,
    eph: &dyn Ephemeral,
    account: &AccountRecord,
) -> Result<(String, Value), AuthnError> {
    let handle = user_handle(db, account).await?;
    let existing = passkeys(&db.passkeys_of(&account.sub).await?)?;
    let exclude: Vec<CredentialID> = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (ccr, state) = wa
        .start_passkey_registration(
            handle,
            &account.id_number,
            &account.id_number,
            Some(exclude),
        )
        .map_err(internal)?;
    let id = put_state(eph, "reg", &(account.sub.clone(), state)).await?;
    let mut options = to_json(&ccr)?;
    if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
        sel["residentKey"] = Value::from("preferred");
    }
    Ok((id, options))
}

/// Verify a new credential; the caller stores it (after recording the change).
pub async fn finish_registration(
    wa: &Webauthn,
    eph: &dyn Ephemeral,
    account: &AccountRecord,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
    now: UnixTime,
) -> Result<PasskeyRecord, AuthnError> {
    let (sub, state): (String, PasskeyRegistration) = take_state(eph, "reg", ceremony).await?;
    if sub != account.sub {
        return Err(AuthnError::InvalidCredentials);
    }
    let pk = wa
        .finish_passkey_registration(credential, &state)
        .map_err(|_| AuthnError::InvalidCredentials)?;
    let name = name.trim();
    let rec = PasskeyRecord {
        cred_id: AsRef::<[u8]>::as_ref(pk.cred_id()).to_vec(),
        sub: account.sub.clone(),
        name: if name.is_empty() {
            "Passkey".into()
        } else {
            name.chars().take(60).collect()
        },
        passkey: serde_json::to_string(&pk).map_err(internal)?,
        created_at: now,
        last_used_at: None,
        backup_eligible: false,
        backup_state: false,
    };
    Ok(rec)
}

/// Options for signing in with a discoverable passkey (no ID number typed).
pub async fn begin_login(
    wa: &Webauthn,
    eph: &dyn Ephemeral,
) -> Result<(String, Value), AuthnError> {
    let (rcr, state) = wa.start_discoverable_authentication().map_err(internal)?;
    let id = put_state(eph, "login", &state).await?;
    Ok((id, to_json(&rcr)?))
}

/// What a verified passkey assertion proves.
pub struct Asserted {
    pub account: AccountRecord,
    /// A passkey, synced (backed up: `swk`) or device-bound (`hwk`, RFC 8176).
    pub method: Method,
}

async fn settle(
    db: &dyn Durable,
    mut rec: PasskeyRecord,
    result: &AuthenticationResult,
    now: UnixTime,
) -> Result<Method, AuthnError> {
    let mut pk: Passkey = serde_json::from_str(&rec.passkey).map_err(internal)?;
    pk.update_credential(result);
    rec.passkey = serde_json::to_string(&pk).map_err(internal)?;
    db.touch_passkey(&rec.cred_id, &rec.passkey, result.backup_state(), now)
        .await?;
    if !result.user_verified() {
        return Err(AuthnError::InvalidCredentials);
    }
    Ok(Method::Passkey {
        synced: result.backup_eligible(),
    })
}

pub async fn finish_login(
    wa: &Webauthn,
    db: &dyn Durable,
    eph: &dyn Ephemeral,
    ceremony: &str,
    credential: &PublicKeyCredential,
    now: UnixTime,
) -> Result<Asserted, AuthnError> {
    let state: DiscoverableAuthentication = take_state(eph, "login", ceremony).await?;
    // The credential id names the passkey; the user handle, when sent, must agree with it.
    let rec = db
        .passkey(credential.get_credential_id())
        .await?
        .ok_or(AuthnError::InvalidCredentials)?;
    if let Some(handle) = credential.get_user_unique_id() {
        let owner = Uuid::from_slice(handle).ok().map(|u| u.to_string());
        let sub = match owner {
            Some(h) => db.sub_by_webauthn_user(&h).await?,
            None => None,
        };
        if sub.as_deref() != Some(rec.sub.as_str()) {
            return Err(AuthnError::InvalidCredentials);
        }
    }
    let pk: Passkey = serde_json::from_str(&rec.passkey).map_err(internal)?;
    let key = DiscoverableKey::from(&pk);
    // v1 takes a `DiscoverableKey`; v2 needs credential internals we keep out of reach.
    #[allow(deprecated)]
    let result = wa
        .finish_discoverable_authentication(credential, state, std::slice::from_ref(&key))
        .map_err(|_| AuthnError::InvalidCredentials)?;
    let account = db
        .account_by_sub(&rec.sub)
        .await?
        .ok_or(AuthnError::InvalidCredentials)?;
    let method = settle(db, rec, &result, now).await?;
    if !crate::identity::usable(&account) {
        return Err(AuthnError::Locked);
    }
    Ok(Asserted { account, method })
}

/// Options for using one of the account's passkeys as a further factor.
pub async fn begin_second(
    wa: &Webauthn,
    db: &dyn Durable,
    eph: &dyn Ephemeral,
    sub: &str,
) -> Result<(String, Value), AuthnError> {
    let keys = passkeys(&db.passkeys_of(sub).await?)?;
    if keys.is_empty() {
        return Err(AuthnError::InvalidCredentials);
    }
    let (rcr, state) = wa.start_passkey_authentication(&keys).map_err(internal)?;
    let id = put_state(eph, "second", &(sub.to_string(), state)).await?;
    Ok((id, to_json(&rcr)?))
}

pub async fn finish_second(
    wa: &Webauthn,
    db: &dyn Durable,
    eph: &dyn Ephemeral,
    sub: &str,
    ceremony: &str,
    credential: &PublicKeyCredential,
    now: UnixTime,
) -> Result<Method, AuthnError> {
    let (owner, state): (String, PasskeyAuthentication) =
        take_state(eph, "second", ceremony).await?;
    if owner != sub {
        return Err(AuthnError::InvalidCredentials);
    }
    let result = wa
        .finish_passkey_authentication(credential, &state)
        .map_err(|_| AuthnError::InvalidCredentials)?;
    let rec = db
        .passkey(AsRef::<[u8]>::as_ref(result.cred_id()))
        .await?
        .ok_or(AuthnError::InvalidCredentials)?;
    settle(db, rec, &result, now).await
}
