//! The security findings of issue #13, each replayed as the attacker would and seen refused:
//! a weak sign-in minting a strong factor, officers acting as each other, a password change
//! that left other sessions alive. Failing security records are in `fail_closed`, headers and
//! the client-authentication and PKCE details in `protocol_hardening`.

use serde_json::json;
use url::Url;

use crate::common::browser::input_value;
use crate::common::{self, Browser, Citizen, TestServer, authorize_url, pkce, token_request};

fn base(s: &TestServer) -> Url {
    Url::parse(&s.base).unwrap()
}

/// Post an account form; the status and the page it lands on.
pub(crate) async fn account_post(
    s: &TestServer,
    b: &Browser,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    b.post_form(&base(s), path, form).await.expect_page()
}

fn is_confirm_page(page: &str) -> bool {
    page.contains("action=\"/account/confirm\"")
}

#[tokio::test]
async fn a_password_alone_cannot_add_remove_or_replace_a_factor() {
    let s = TestServer::start().await;
    let who = s.citizen(310).await;
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let pw = "Mật-khẩu-mới-9";
    for (path, extra) in [
        ("/account/totp/start", vec![]),
        ("/account/totp/confirm", vec![("code", "123456")]),
        ("/account/recovery", vec![]),
        ("/account/totp/remove", vec![]),
        ("/account/passkeys/delete", vec![("passkey", "AAAA")]),
        (
            "/account/password",
            vec![
                ("current_password", who.password.as_str()),
                ("new_password", pw),
                ("new_password_confirm", pw),
            ],
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(extra);
        let (status, page) = account_post(&s, &b, path, &form).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            is_confirm_page(&page),
            "{path} sends the person to confirm first"
        );
        assert!(
            !page.contains("data:image/png") && !page.contains("<code>"),
            "{path}: nothing handed out"
        );
    }
    let db = &s.provider.db;
    assert!(db.totp(&who.sub).await.unwrap().is_none());
    assert_eq!(db.recovery_codes_left(&who.sub).await.unwrap(), 0);
    assert!(eidp::authn::password::verify(
        &who.password,
        &db.account_by_sub(&who.sub)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    ));
    // The password again is not enough: the account's further proof is the phone on record.
    let (_, _, page) = b.go(&s.url("/account/confirm")).await;
    let ccsrf = input_value(&page, "csrf").unwrap();
    account_post(
        &s,
        &b,
        "/account/confirm",
        &[
            ("csrf", &ccsrf),
            ("method", "pwd"),
            ("password", &who.password),
        ],
    )
    .await;
    let (status, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert!(
        status == 200 && is_confirm_page(&page),
        "password alone: still not"
    );
    // With the SMS code as well, the first factor may be added; the holder is told.
    let (status, page) = common::confirm(&s, &b, &who, ("sms", None)).await;
    assert_eq!(status, 200, "{page}");
    let (_, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert_eq!(page.matches("<code>").count(), 10, "ten recovery codes");
    let outbox = std::fs::read_to_string(s.outbox_path()).unwrap();
    assert!(
        outbox.contains("ma khoi phuc moi"),
        "an SMS notice: {outbox}"
    );
    let mail = s.last_email_line("binh@example.vn").unwrap();
    assert!(mail.contains("recovery codes"), "an e-mail notice: {mail}");
    let actions: Vec<String> = db
        .audit_for_subject(&who.sub, 0, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"reauthenticated".to_string())
            && actions.contains(&"recovery_codes".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn only_the_accounts_strongest_factor_confirms_and_only_for_five_minutes() {
    let s = TestServer::start().await;
    let who = s.citizen(311).await;
    let totp = crate::mfa::enrol_totp(&s, &Browser::new(), &who).await;
    // A thief with the password, in a new browser: SMS (weaker than the app) is not offered
    // and not accepted.
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let (_, _, page) = b.go(&s.url("/account/confirm")).await;
    assert!(
        !page.contains("/account/confirm/sms"),
        "no SMS route while an app exists"
    );
    let ccsrf = input_value(&page, "csrf").unwrap();
    let (status, _) = account_post(
        &s,
        &b,
        "/account/confirm",
        &[("csrf", &ccsrf), ("method", "sms"), ("code", "123456")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = account_post(&s, &b, "/account/confirm/sms", &[("csrf", &ccsrf)]).await;
    assert_eq!(status, 400, "and no code is sent");
    // The app itself confirms.
    s.clock.advance(30);
    let code = crate::mfa::code_at(&totp, s.provider.now());
    let (status, page) = common::confirm(&s, &b, &who, ("totp", Some(&code))).await;
    assert_eq!(status, 200, "{page}");
    let (_, page) = account_post(&s, &b, "/account/recovery", &[("csrf", &csrf)]).await;
    assert!(page.contains("<code>"), "confirmed: allowed");
    // Five minutes on, the confirmation has lapsed.
    s.clock.advance(eidp::authn::reauth::RECENT_SECS + 1);
    let (_, page) = account_post(&s, &b, "/account/totp/remove", &[("csrf", &csrf)]).await;
    assert!(is_confirm_page(&page));
    assert!(s.provider.db.totp(&who.sub).await.unwrap().is_some());
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_grant() {
    let s = TestServer::start().await;
    let who = s.citizen(312).await;
    let (c, secret) = s.confidential().await;
    // Elsewhere (say, the thief's browser): a session and a relying party's tokens.
    let elsewhere = Browser::new();
    let (verifier, challenge) = pkce();
    let cb = elsewhere
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &challenge, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let tokens = common::redeem(&s, &c.client_id, &secret, &cb, &verifier).await;
    // Here: the holder confirms and changes the password.
    let b = Browser::new();
    let (_, page) = common::account_page(&s, &b, &who).await;
    let csrf = input_value(&page, "csrf").unwrap();
    common::confirm(&s, &b, &who, ("sms", None)).await;
    let pw = "Mật-khẩu-mới-9";
    let (status, page) = account_post(
        &s,
        &b,
        "/account/password",
        &[
            ("csrf", &csrf),
            ("current_password", &who.password),
            ("new_password", pw),
            ("new_password_confirm", pw),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (_, _, page) = b.go(&s.url("/account")).await;
    assert!(
        !page.contains("name=\"next\""),
        "this browser stays signed in"
    );
    let (_, _, page) = elsewhere.go(&s.url("/account")).await;
    assert!(
        page.contains("name=\"next\""),
        "the other session has ended"
    );
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &s.base,
        Some((&c.client_id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let at = tokens["access_token"].as_str().unwrap();
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let moved = Citizen {
        password: pw.into(),
        ..who
    };
    common::code_flow(&s, &moved, &c, &secret).await;
}

async fn admin_post(
    s: &TestServer,
    path: &str,
    body: serde_json::Value,
    token: &str,
) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn officers_cannot_act_as_each_other_or_on_their_own_account() {
    let s = TestServer::start().await;
    let who = s.citizen(313).await;
    let colleague = s.citizen(314).await;
    let officer = common::officer(&s, "CA-7", "officer", &colleague.id_number).await;
    let _boss = common::officer(&s, "AD-7", "admin", "001085000007").await;
    let path = format!("/admin/v1/accounts/{}/verify", who.id_number);
    // Naming another officer in the body is refused outright.
    let forged = json!({"officer_id": "AD-7", "evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, v) = admin_post(&s, &path, forged, &officer).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("officer_id"),
        "{v}"
    );
    // An admin client bound to no officer acts for nobody.
    let (generic, secret) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Cổng quản trị".into(),
            kind: "admin".into(),
            ..Default::default()
        })
        .await;
    let (_, tok) = token_request(
        &s.base,
        Some((&generic.client_id, &secret.unwrap())),
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    let body = json!({"evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, _) = admin_post(
        &s,
        &path,
        body.clone(),
        tok["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    // The officer's own account: refused.
    let own = format!("/admin/v1/accounts/{}/verify", colleague.id_number);
    let (status, v) = admin_post(&s, &own, body.clone(), &officer).await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(
        s.provider
            .db
            .account_by_sub(&colleague.sub)
            .await
            .unwrap()
            .unwrap()
            .level,
        1
    );
    // Someone else's: allowed, and the history names the officer and the client.
    let (status, _) = admin_post(&s, &path, body, &officer).await;
    assert_eq!(status, 200);
    let entry = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "level2")
        .unwrap();
    assert_eq!(entry.actor, "officer:CA-7");
    let client = s
        .provider
        .db
        .client(entry.client_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.officer_id.as_deref(), Some("CA-7"));
    // The CLI keeps the same rule.
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "verify",
            "--id-number",
            &colleague.id_number,
            "--officer",
            "CA-7",
            "--evidence",
            "X",
        ],
        None,
    );
    assert!(!ok && err.contains("own account"), "{err}");
}
