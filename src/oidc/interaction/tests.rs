//! Every transition and every rejection of the state machine, without HTTP or stores.

use super::decide::{Facts, Step, decide, required, wanted};
use super::pending::Progress;
use crate::authn::{Acr, Session};
use crate::oidc::ErrorCode;
use crate::oidc::authorize::AuthRequest;
use crate::store::{AccountRecord, ClientRecord, ConsentRecord};

fn client(min_acr: Option<Acr>, min_level: i64) -> ClientRecord {
    ClientRecord {
        client_id: crate::ids::ClientId::parse("c").unwrap(),
        name: "C".into(),
        kind: crate::store::ClientKind::Portal,
        secret_hash: None,
        auth_method: "none".into(),
        redirect_uris: vec!["https://rp/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "profile".into()],
        jwks: None,
        jwks_uri: None,
        id_token_alg: "ES256".into(),
        min_account_level: min_level,
        min_acr: min_acr.map(|a| a.as_str().into()),
        officer_id: None,
        settings: Default::default(),
        created_at: 0,
        updated_at: 0,
    }
}

fn req(prompt: &[&str]) -> AuthRequest {
    AuthRequest {
        client_id: crate::ids::ClientId::parse("c").unwrap(),
        redirect_uri: "https://rp/cb".into(),
        scopes: vec!["openid".into(), "profile".into()],
        state: None,
        nonce: None,
        code_challenge: "x".repeat(43),
        prompt: prompt.iter().map(|s| s.to_string()).collect(),
        max_age: None,
        login_hint: None,
        ui_locales: vec![],
        hint_sub: None,
        acr_values: vec![],
        claims: None,
        purpose: None,
        authorization_details: None,
        dpop_jkt: None,
        pushed: false,
        fapi: false,
        created_at: 1000,
    }
}

fn session(auth_time: i64, acr: Acr) -> Session {
    Session {
        sid: "s".into(),
        sub: crate::ids::Subject::parse("u").unwrap(),
        auth_time,
        acr,
        amr: vec!["pwd".into()],
        expires_at: 99_999,
        epoch: 0,
        proofs: Default::default(),
        started_at: 0,
        ip: None,
        agent: None,
    }
}

fn account(level: i64) -> AccountRecord {
    AccountRecord::sample(level)
}

fn consent(scopes: &[&str]) -> ConsentRecord {
    ConsentRecord {
        sub: crate::ids::Subject::parse("u").unwrap(),
        client_id: crate::ids::ClientId::parse("c").unwrap(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        granted_at: 0,
        claims: Some(vec!["name".into()]),
        asked: ["name", "birthdate", "gender"].map(String::from).to_vec(),
        purpose: None,
        receipt_id: Some("r".into()),
    }
}

/// A scenario: everything the rules look at, with defaults that reach `Issue`.
struct Case {
    req: AuthRequest,
    progress: Progress,
    client: ClientRecord,
    session: Option<(Session, AccountRecord)>,
    consent: Option<ConsentRecord>,
    transfer_need: Option<Acr>,
    now: i64,
    reachable: Acr,
}

impl Case {
    fn new() -> Case {
        Case {
            req: req(&[]),
            progress: Progress::default(),
            client: client(None, 1),
            session: Some((session(900, Acr::Loa1), account(1))),
            consent: Some(consent(&["openid", "profile"])),
            transfer_need: None,
            now: 1000,
            reachable: Acr::Loa4,
        }
    }

    fn decide(&self) -> Result<Step, crate::oidc::OAuthError> {
        decide(&Facts {
            request: &self.req,
            progress: &self.progress,
            client: &self.client,
            session: self.session.as_ref().map(|(s, a)| (s, a)),
            // As a public-`sub` client sees it.
            rp_sub: self.session.as_ref().map(|(s, _)| &s.sub),
            consent: self.consent.as_ref(),
            transfer_need: self.transfer_need,
            now: self.now,
            reachable: self.reachable,
        })
    }

    fn error(&self) -> ErrorCode {
        self.decide().unwrap_err().error
    }
}

#[test]
fn a_signed_in_consented_request_issues() {
    assert_eq!(Case::new().decide(), Ok(Step::Issue));
}

#[test]
fn no_session_means_sign_in_or_login_required() {
    let mut c = Case::new();
    c.session = None;
    assert_eq!(c.decide(), Ok(Step::SignIn));
    c.req = req(&["none"]);
    assert_eq!(c.error(), ErrorCode::LoginRequired);
}

#[test]
fn prompt_login_max_age_and_hint_force_sign_in_once() {
    let mut c = Case::new();
    c.req = req(&["login"]);
    assert_eq!(c.decide(), Ok(Step::SignIn));
    c.progress.signed_in = true;
    assert_eq!(c.decide(), Ok(Step::Issue), "satisfied once, not in a loop");
    let mut c = Case::new();
    c.req.max_age = Some(10);
    assert_eq!(c.decide(), Ok(Step::SignIn), "signed in 100 s ago");
    c.now = 905;
    assert_eq!(c.decide(), Ok(Step::Issue));
    let mut c = Case::new();
    c.req.hint_sub = Some(crate::ids::Subject::parse("someone-else").unwrap());
    assert_eq!(
        c.decide(),
        Ok(Step::SignIn),
        "id_token_hint names another person"
    );
    c.req.prompt = vec!["none".into()];
    assert_eq!(c.error(), ErrorCode::LoginRequired);
}

#[test]
fn an_account_below_the_clients_level_is_refused() {
    let mut c = Case::new();
    c.client = client(None, 2);
    assert_eq!(
        c.decide(),
        Ok(Step::LevelTooLow { need: 2 }),
        "the person is told why and how"
    );
    c.req.prompt = vec!["none".into()];
    let e = c.decide().unwrap_err();
    assert_eq!(e.error, ErrorCode::AccessDenied, "silently: to the client");
    assert!(e.description.contains("Level-2"));
    c.session = Some((session(900, Acr::Loa1), account(2)));
    assert_eq!(c.decide(), Ok(Step::Issue));
}

#[test]
fn a_bank_is_held_to_level_2_whatever_it_registered() {
    let mut c = Case::new();
    c.client = client(None, 1);
    c.client.kind = crate::store::ClientKind::Bank;
    assert_eq!(c.decide(), Ok(Step::LevelTooLow { need: 2 }));
    c.client.settings.policy_override = Some("Quyết định 7/2026: thí điểm".into());
    assert!(
        matches!(c.decide(), Ok(Step::StepUp { .. })),
        "loa:2 is the bank's floor"
    );
}

#[test]
fn the_clients_minimum_acr_is_required() {
    let mut c = Case::new();
    c.client = client(Some(Acr::Loa3), 1);
    assert_eq!(
        c.decide(),
        Ok(Step::StepUp {
            need: Acr::Loa3,
            required: true
        })
    );
    c.progress.step_up_skipped = true;
    assert_eq!(
        c.decide(),
        Ok(Step::StepUp {
            need: Acr::Loa3,
            required: true
        }),
        "a requirement cannot be skipped"
    );
    c.req = req(&["none"]);
    assert_eq!(c.error(), ErrorCode::LoginRequired);
    let mut c = Case::new();
    c.client = client(Some(Acr::Loa2), 1);
    c.session = Some((session(900, Acr::Loa2), account(1)));
    assert_eq!(c.decide(), Ok(Step::Issue), "already at the level");
}

#[test]
fn acr_values_ask_and_an_essential_acr_claim_requires() {
    let mut c = Case::new();
    c.req.acr_values = vec![Acr::Loa3.as_str().into(), Acr::Loa2.as_str().into()];
    assert_eq!(wanted(&c.req), Some(Acr::Loa2), "the lowest named");
    assert_eq!(
        c.decide(),
        Ok(Step::StepUp {
            need: Acr::Loa2,
            required: false
        })
    );
    c.progress.step_up_skipped = true;
    assert_eq!(
        c.decide(),
        Ok(Step::Issue),
        "voluntary: go on at the level reached"
    );
    let mut silent = Case::new();
    silent.req = req(&["none"]);
    silent.req.acr_values = vec![Acr::Loa2.as_str().into()];
    assert_eq!(silent.decide(), Ok(Step::Issue), "prompt=none never asks");
    let mut c = Case::new();
    c.req.claims = Some(serde_json::json!({"id_token": {"acr": {"essential": true,
        "values": ["urn:vn:eid:loa:2", "urn:vn:eid:loa:3"]}}}));
    assert_eq!(required(&c.req, &c.client), Some(Acr::Loa2));
    c.progress.step_up_skipped = true;
    assert_eq!(
        c.decide(),
        Ok(Step::StepUp {
            need: Acr::Loa2,
            required: true
        })
    );
    c.req.claims = Some(serde_json::json!({"id_token": {"acr": {"values": ["urn:vn:eid:loa:3"]}}}));
    assert_eq!(
        required(&c.req, &c.client),
        None,
        "not essential: not required"
    );
    c.req.acr_values = vec!["urn:example:unknown".into()];
    assert_eq!(wanted(&c.req), None, "unknown values ask for nothing");
}

#[test]
fn a_level_nothing_reaches_is_refused_up_front() {
    let mut c = Case::new();
    c.session = None;
    c.req.claims = Some(serde_json::json!({"id_token": {"acr": {"essential": true,
        "value": "urn:vn:eid:loa:4"}}}));
    assert_eq!(c.decide(), Ok(Step::SignIn), "loa:4 is reachable");
    assert_eq!(required(&c.req, &c.client), Some(Acr::Loa4));
    c.reachable = Acr::Loa2;
    assert_eq!(
        c.error(),
        ErrorCode::UnmetAuthenticationRequirements,
        "without a face matcher no biometric, so no loa:3 or loa:4"
    );
    let mut c = Case::new();
    c.reachable = Acr::Loa2;
    c.req.acr_values = vec![Acr::Loa3.as_str().into()];
    assert_eq!(
        c.decide(),
        Ok(Step::StepUp {
            need: Acr::Loa2,
            required: false
        }),
        "only asked: the most that can be reached"
    );
}

#[test]
fn consent_is_asked_until_given_and_when_forced() {
    let mut c = Case::new();
    c.consent = None;
    let wanted = vec!["openid".to_string(), "profile".into()];
    assert_eq!(
        c.decide(),
        Ok(Step::Consent {
            scopes: wanted.clone()
        })
    );
    c.consent = Some(consent(&["openid"]));
    assert_eq!(
        c.decide(),
        Ok(Step::Consent { scopes: wanted }),
        "partly covered"
    );
    c.progress.consented = true;
    assert_eq!(c.decide(), Ok(Step::Issue));
    let mut c = Case::new();
    c.req = req(&["consent"]);
    assert!(
        matches!(c.decide(), Ok(Step::Consent { .. })),
        "prompt=consent asks again"
    );
    c.progress.consented = true;
    assert_eq!(c.decide(), Ok(Step::Issue));
    let mut c = Case::new();
    c.consent = None;
    c.req = req(&["none"]);
    assert_eq!(c.error(), ErrorCode::ConsentRequired);
}

#[test]
fn claims_named_in_the_request_need_consent_for_their_scope() {
    let mut c = Case::new();
    c.req.claims = Some(serde_json::json!({"userinfo": {"id_number": null}}));
    match c.decide() {
        Ok(Step::Consent { scopes }) => assert!(scopes.contains(&"eid".to_string()), "{scopes:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_order_is_sign_in_then_level_then_step_up_then_consent() {
    let mut c = Case::new();
    c.client = client(Some(Acr::Loa2), 2);
    c.consent = None;
    c.session = None;
    assert_eq!(c.decide(), Ok(Step::SignIn));
    c.session = Some((session(900, Acr::Loa1), account(1)));
    assert_eq!(
        c.decide(),
        Ok(Step::LevelTooLow { need: 2 }),
        "no step-up for a refused account"
    );
    c.session = Some((session(900, Acr::Loa1), account(2)));
    assert!(matches!(c.decide(), Ok(Step::StepUp { .. })));
    c.session = Some((session(900, Acr::Loa2), account(2)));
    assert!(matches!(c.decide(), Ok(Step::Consent { .. })));
}

#[test]
fn a_transfer_that_needs_a_biometric_forces_the_step_up_and_a_fresh_consent() {
    let mut c = Case::new();
    c.req.authorization_details = Some(serde_json::json!([{"type": "vn_bank_transfer"}]));
    c.transfer_need = Some(Acr::Loa3);
    assert_eq!(
        c.decide().unwrap(),
        Step::StepUp {
            need: Acr::Loa3,
            required: true
        }
    );
    c.session = Some((session(900, Acr::Loa3), account(1)));
    assert!(
        matches!(c.decide().unwrap(), Step::Consent { .. }),
        "a standing consent never covers a transfer"
    );
    c.progress.consented = true;
    assert_eq!(c.decide().unwrap(), Step::Issue);
}
