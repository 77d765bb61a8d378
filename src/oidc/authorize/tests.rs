use super::*;
use crate::store::ClientRecord;

fn client(min_acr: Option<&str>) -> ClientRecord {
    ClientRecord {
        client_id: "c".into(),
        name: "C".into(),
        kind: "portal".into(),
        secret_hash: None,
        auth_method: "none".into(),
        redirect_uris: vec!["https://rp/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "profile".into()],
        jwks: None,
        jwks_uri: None,
        id_token_alg: "ES256".into(),
        min_account_level: 1,
        min_acr: min_acr.map(String::from),
        officer_id: None,
        created_at: 0,
    }
}

fn req(prompt: &[&str], max_age: Option<i64>) -> AuthRequest {
    AuthRequest {
        client_id: "c".into(),
        redirect_uri: "https://rp/cb".into(),
        scopes: vec!["openid".into(), "profile".into()],
        state: None,
        nonce: None,
        code_challenge: "x".repeat(43),
        prompt: prompt.iter().map(|s| s.to_string()).collect(),
        max_age,
        login_hint: None,
        ui_locales: vec![],
        hint_sub: None,
        acr_values: vec![],
        claims: None,
        created_at: 1000,
        login_done: false,
        consent_done: false,
        stepup_skipped: false,
    }
}

fn session(auth_time: i64) -> Session {
    Session {
        sid: "s".into(),
        sub: "u".into(),
        auth_time,
        acr: crate::authn::LOA1.into(),
        amr: vec!["pwd".into()],
        expires_at: 99_999,
        epoch: 0,
        proofs: Default::default(),
    }
}

fn consent(scopes: &[&str]) -> ConsentRecord {
    ConsentRecord {
        sub: "u".into(),
        client_id: "c".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        granted_at: 0,
    }
}

#[test]
fn no_session_means_login_or_login_required() {
    let c = client(None);
    assert_eq!(
        decide(&req(&[], None), &c, None, None, 1000),
        Ok(Next::Login)
    );
    assert_eq!(
        decide(&req(&["none"], None), &c, None, None, 1000)
            .unwrap_err()
            .error,
        "login_required"
    );
}

#[test]
fn consent_needed_until_given() {
    let c = client(None);
    let s = session(900);
    let r = req(&[], None);
    assert_eq!(decide(&r, &c, Some(&s), None, 1000), Ok(Next::Consent));
    assert_eq!(
        decide(&r, &c, Some(&s), Some(&consent(&["openid"])), 1000),
        Ok(Next::Consent)
    );
    let full = consent(&["openid", "profile"]);
    assert_eq!(decide(&r, &c, Some(&s), Some(&full), 1000), Ok(Next::Issue));
    let silent = req(&["none"], None);
    assert_eq!(
        decide(&silent, &c, Some(&s), None, 1000).unwrap_err().error,
        "consent_required"
    );
}

#[test]
fn prompt_login_and_max_age_force_sign_in_once() {
    let c = client(None);
    let s = session(900);
    let full = consent(&["openid", "profile"]);
    let mut r = req(&["login"], None);
    assert_eq!(decide(&r, &c, Some(&s), Some(&full), 1000), Ok(Next::Login));
    r.login_done = true;
    assert_eq!(decide(&r, &c, Some(&s), Some(&full), 1000), Ok(Next::Issue));
    let r = req(&[], Some(10));
    assert_eq!(decide(&r, &c, Some(&s), Some(&full), 1000), Ok(Next::Login));
    assert_eq!(decide(&r, &c, Some(&s), Some(&full), 905), Ok(Next::Issue));
}

#[test]
fn client_minimum_acr_is_enforced() {
    let s = session(900);
    let c = client(Some(crate::authn::LOA3));
    assert_eq!(
        decide(&req(&[], None), &c, Some(&s), None, 1000),
        Ok(Next::StepUp(crate::authn::LOA3))
    );
    let c = client(Some(crate::authn::LOA2));
    assert_eq!(
        decide(&req(&[], None), &c, Some(&s), None, 1000),
        Ok(Next::StepUp(crate::authn::LOA2))
    );
    let err = decide(&req(&["none"], None), &c, Some(&s), None, 1000).unwrap_err();
    assert_eq!(err.error, "login_required");
}

#[test]
fn acr_values_ask_and_essential_acr_claim_requires() {
    let c = client(None);
    let s = session(900);
    let full = consent(&["openid", "profile"]);
    let mut r = req(&[], None);
    r.acr_values = vec![crate::authn::LOA2.into()];
    assert_eq!(
        decide(&r, &c, Some(&s), Some(&full), 1000),
        Ok(Next::StepUp(crate::authn::LOA2))
    );
    r.stepup_skipped = true;
    assert_eq!(
        decide(&r, &c, Some(&s), Some(&full), 1000),
        Ok(Next::Issue),
        "voluntary: continue"
    );
    let mut r = req(&[], None);
    r.claims = Some(
        serde_json::json!({"id_token": {"acr": {"essential": true, "values": ["urn:vn:eid:loa:2", "urn:vn:eid:loa:3"]}}}),
    );
    r.stepup_skipped = true;
    assert_eq!(
        decide(&r, &c, Some(&s), Some(&full), 1000),
        Ok(Next::StepUp(crate::authn::LOA2)),
        "essential: required"
    );
}

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
