//! The bank KYC identity assertion (docs/banks.md): a JWS the bank keeps as proof of whom it
//! onboarded and how strongly they signed in. Only with a DPoP-bound token carrying the `kyc`
//! scope, for a Level-2 account signed in at `loa:3` or above; every assertion is in the
//! person's history before it is handed out.

use serde_json::{Map, Value, json};

use crate::authn::Acr;
use crate::crypto::{self, jwt};
use crate::oidc::userinfo::{Presented, check_presented};
use crate::oidc::{OAuthError, Provider, split_spaces, tokens, verified_claims};
use crate::store::{AccountRecord, GrantRecord, PersonRecord};

pub const SCOPE: &str = "kyc";
/// The assertion's `typ`: not an ID token, not an access token.
pub const TYP: &str = "kyc+jwt";
/// How long the assertion is valid for (the bank keeps it as evidence; `exp` bounds replay
/// of it elsewhere, not its value as a record).
const LIFETIME: i64 = 600;
pub const MIN_ACR: Acr = Acr::Loa3;

/// Check the presented token and sign the assertion for its grant.
pub async fn assertion(p: &Provider, at: &Presented<'_>) -> Result<String, OAuthError> {
    let (claims, view) = check_presented(p, at).await?;
    if claims.cnf.is_none() {
        return Err(OAuthError::invalid_token(
            "the KYC API needs a DPoP-bound access token",
        ));
    }
    if !split_spaces(Some(&claims.scope)).iter().any(|s| s == SCOPE) {
        return Err(OAuthError::insufficient_scope(
            "the access token lacks the kyc scope",
        ));
    }
    let view = view.ok_or_else(|| OAuthError::invalid_token("the access token has no person"))?;
    let (Some(account), Some(person)) = (view.account, view.person) else {
        return Err(OAuthError::invalid_token("the account no longer exists"));
    };
    if account.level < 2 {
        return Err(OAuthError::insufficient_user_authentication(
            "KYC needs a Level-2 account (identity proofed in person)",
        ));
    }
    let acr = claims.acr.as_deref().and_then(Acr::parse);
    if acr.is_none_or(|a| a < MIN_ACR) {
        return Err(OAuthError::insufficient_user_authentication(format!(
            "KYC needs a sign-in at {} or above (a biometric factor)",
            MIN_ACR.as_str()
        )));
    }
    let txn = crypto::random_id()?;
    let body = contents(p, &view.grant, &account, &person, &txn).await?;
    audit(p, &view.grant, &account.sub, &txn, &body).await?;
    let now = p.now();
    Ok(jwt::sign(
        &p.keys.current(),
        jsonwebtoken::Algorithm::ES256,
        TYP,
        &Value::Object(body),
        now,
    )?)
}

async fn contents(
    p: &Provider,
    g: &GrantRecord,
    account: &AccountRecord,
    person: &PersonRecord,
    txn: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let now = p.now();
    let sub = tokens::rp_sub(g).ok_or_else(|| OAuthError::server_error("grant without subject"))?;
    let evidence =
        p.db.identity_evidence(&account.id_number, account.sub.as_str())
            .await?;
    let mut c = Map::new();
    c.insert("iss".into(), json!(p.issuer()));
    c.insert("sub".into(), json!(sub));
    c.insert("aud".into(), json!(g.client_id));
    c.insert("iat".into(), json!(now));
    c.insert("exp".into(), json!(now + LIFETIME));
    c.insert("txn".into(), json!(txn));
    c.insert("id_number".into(), json!(person.id_number));
    c.insert("name".into(), json!(person.full_name));
    c.insert("birthdate".into(), json!(person.birth_date));
    c.insert("gender".into(), json!(person.sex));
    c.insert("nationality".into(), json!(person.nationality));
    c.insert("card_valid_until".into(), json!(person.card_expires_on));
    c.insert("eid_level".into(), json!(account.level));
    c.insert("acr".into(), json!(g.acr));
    c.insert("amr".into(), json!(g.amr));
    c.insert("auth_time".into(), json!(g.auth_time));
    // The latest face match: what a bank must see for a biometric check (SBV 2345).
    if let Some(f) = evidence.face {
        let face = json!({"method": "face", "matched": f.matched, "score": f.score,
            "matcher": f.matcher, "at": f.at});
        c.insert("biometric".into(), face);
    }
    if let Some(v) = verified_claims::element(
        person,
        account,
        evidence.verification.as_ref(),
        &verified_claims::CLAIMS,
    ) {
        c.insert("verified_claims".into(), v);
    }
    Ok(c)
}

/// The person's history: which bank received the assertion, its transaction id and the names
/// of what it carried.
async fn audit(
    p: &Provider,
    g: &GrantRecord,
    sub: &str,
    txn: &str,
    body: &Map<String, Value>,
) -> Result<(), OAuthError> {
    let names: Vec<&String> = body
        .keys()
        .filter(|k| !matches!(k.as_str(), "iss" | "aud" | "iat" | "exp" | "txn"))
        .collect();
    let detail = json!({"to": "kyc_assertion", "txn": txn, "claims": names});
    tokens::record_disclosure(p, g, sub, detail).await
}
