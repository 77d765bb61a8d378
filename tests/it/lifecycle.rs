//! Accounts after enrolment, over HTTP and the CLI: Level-2 verification, locks and unlocks with
//! their audit trail, the admin API, and the self-service account page.

use crate::common::browser::input_value;
use crate::common::{
    self, Browser, Citizen, REDIRECT_URI, TestServer, authorize_url, pkce, query_param,
    token_request,
};
use crate::flow::decode_payload;
use crate::identity::eid_flow;

#[tokio::test]
async fn level2_via_cli_then_eid_level_2_in_the_id_token() {
    let s = TestServer::start().await;
    let who = s.citizen(90).await;
    let (c, secret) = s.confidential().await;
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "officers",
            "create",
            "--officer-id",
            "CA-HN-0042",
            "--name",
            "Đại úy Lê",
            "--role",
            "officer",
            "--id-number",
            "001085000777",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "verify",
            "--id-number",
            &who.id_number,
            "--officer",
            "CA-NOBODY",
            "--evidence",
            "X",
        ],
        None,
    );
    assert!(
        !ok && err.contains("officer"),
        "unknown officer refused: {err}"
    );
    let (ok, out, err) = s.cli(
        &[
            "admin",
            "accounts",
            "verify",
            "--id-number",
            &who.id_number,
            "--officer",
            "CA-HN-0042",
            "--evidence",
            "HS-2026-000123",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["level"],
        2
    );
    let tokens = eid_flow(&s, &who, &c.client_id, &secret).await;
    assert_eq!(
        decode_payload(tokens["id_token"].as_str().unwrap())["eid_level"],
        2
    );
    let (ok, out, err) = s.cli(&["admin", "audit", "export"], None);
    assert!(ok, "the chain verifies: {err}");
    let entry = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["action"] == "level2")
        .unwrap();
    assert_eq!(entry["actor"], "officer:CA-HN-0042");
    assert_eq!(entry["detail"]["evidence_ref"], "HS-2026-000123");
    assert!(entry["at"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn lock_refuses_sign_in_and_kills_tokens_unlock_restores() {
    let s = TestServer::start().await;
    let who = s.citizen(91).await;
    let (c, secret) = s.confidential().await;
    let basic = Some((c.client_id.as_str(), secret.as_str()));
    let b = Browser::new();
    let (v, ch) = pkce();
    let cb = b
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let (_, tokens) = token_request(
        &s.base,
        basic,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &v),
        ],
    )
    .await;
    let rt = tokens["refresh_token"].as_str().unwrap();

    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "lock",
            "--id-number",
            &who.id_number,
            "--reason",
            "authority_request",
            "--note",
            "Quyết định số 12/QĐ-CA",
            "--actor",
            "op-1",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (status, body) = token_request(
        &s.base,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "the refresh token is dead"
    );
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        reqwest::Client::new()
            .get(s.url("/userinfo"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let (_, ch) = pkce();
    let (back, _, _) = b
        .go(&authorize_url(
            &s.base,
            &c.client_id,
            &ch,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required"),
        "the session ended"
    );
    let (_, ch) = pkce();
    let (status, page) = Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_page();
    assert_eq!(status, 401);
    let vi: serde_json::Value =
        serde_json::from_str(include_str!("../../templates/i18n/vi.json")).unwrap();
    assert!(
        page.contains(vi["lock_reason_authority_request"].as_str().unwrap()),
        "the person sees why"
    );

    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "unlock",
            "--id-number",
            &who.id_number,
            "--note",
            "",
        ],
        None,
    );
    assert!(!ok && err.contains("written reason"), "{err}");
    let (ok, _, err) = s.cli(
        &[
            "admin",
            "accounts",
            "unlock",
            "--id-number",
            &who.id_number,
            "--note",
            "Quyết định số 13/QĐ-CA",
            "--actor",
            "op-2",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (_, ch) = pkce();
    Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch, &[]),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();

    let history = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 100)
        .await
        .unwrap();
    let locked = history.iter().find(|h| h.action == "locked").unwrap();
    assert_eq!(locked.actor, "cli:op-1");
    assert!(locked.detail.contains("authority_request") && locked.detail.contains("12/QĐ-CA"));
    let unlocked = history.iter().find(|h| h.action == "unlocked").unwrap();
    assert_eq!(unlocked.actor, "cli:op-2");
    assert!(unlocked.detail.contains("13/QĐ-CA"));
}

async fn admin_post(
    path: String,
    body: serde_json::Value,
    token: &str,
) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(path)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let no_store = r
        .headers()
        .get("cache-control")
        .is_some_and(|v| v == "no-store");
    let status = r.status().as_u16();
    assert!(no_store || status == 401, "admin answers are never cached");
    (
        status,
        r.json::<serde_json::Value>().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn admin_api_verifies_and_locks_for_officers_only() {
    let s = TestServer::start().await;
    let who = s.citizen(92).await;
    let officer = common::officer(&s, "CA-1", "officer", "001085000001").await;
    let admin = common::officer(&s, "AD-1", "admin", "001085000002").await;
    let verify = s.url(&format!("/admin/v1/accounts/{}/verify", who.id_number));
    let body = serde_json::json!({"evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, _) = admin_post(verify.clone(), body.clone(), "not-a-token").await;
    assert_eq!(status, 401);
    let (status, v) = admin_post(verify.clone(), body.clone(), &officer).await;
    assert_eq!((status, v["level"].as_i64()), (200, Some(2)), "{v}");
    let entry = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "level2")
        .unwrap();
    assert_eq!(entry.actor, "officer:CA-1", "the officer of the credential");
    assert!(
        entry.client_id.is_some(),
        "and the client they came through"
    );
    let failed = serde_json::json!({"evidence_ref": "HS-2", "chip_authentic": false, "biometric_match": true});
    assert_eq!(
        admin_post(verify, failed, &officer).await.0,
        400,
        "a failed chip check does not verify"
    );
    let lock = s.url(&format!("/admin/v1/accounts/{}/lock", who.id_number));
    let (status, _) = admin_post(
        lock.clone(),
        serde_json::json!({"reason": "terms_violation", "note": "x"}),
        &officer,
    )
    .await;
    assert_eq!(status, 403, "the officer role cannot lock");
    let (status, v) = admin_post(
        lock,
        serde_json::json!({"reason": "terms_violation", "note": "Vi phạm điều khoản"}),
        &admin,
    )
    .await;
    assert_eq!((status, v["state"].as_str()), (200, Some("locked")), "{v}");
    let unlock = s.url(&format!("/admin/v1/accounts/{}/unlock", who.id_number));
    let (status, v) = admin_post(unlock, serde_json::json!({"note": "Đã xác minh"}), &admin).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("active")), "{v}");
}

#[tokio::test]
async fn account_page_history_password_change_and_self_lock() {
    let s = TestServer::start().await;
    let who = s.citizen(93).await;
    let (c, secret) = s.confidential().await;
    common::code_flow(&s, &who, &c, &secret).await;
    let b = Browser::new();
    let (status, page) = common::account_page(&s, &b, &who).await;
    let at = url::Url::parse(&s.base).unwrap();
    assert_eq!(status, 200);
    assert!(
        page.contains("Trần Thị Bình") && page.contains(&who.id_number),
        "profile from the register"
    );
    assert!(
        page.contains("127.0.0.1"),
        "sign-in history shows the address"
    );
    assert!(
        page.contains("Cổng dịch vụ công"),
        "and which service received data"
    );
    let csrf = input_value(&page, "csrf").unwrap();
    let new_pw = "Đổi-mật-khẩu-7";
    let (status, page) = common::confirm(&s, &b, &who, ("sms", None)).await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = b
        .post_form(
            &at,
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "wrong"),
                ("new_password", new_pw),
                ("new_password_confirm", new_pw),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 400);
    let (status, _) = b
        .post_form(
            &at,
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", &who.password),
                ("new_password", new_pw),
                ("new_password_confirm", new_pw),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 200);
    let moved = Citizen {
        password: new_pw.into(),
        ..who
    };
    common::code_flow(&s, &moved, &c, &secret).await;
    let (status, page) = b
        .post_form(&at, "/account/lock", &[("csrf", &csrf), ("confirm", "yes")])
        .await
        .expect_page();
    assert_eq!(status, 200, "{page}");
    let account = s
        .provider
        .db
        .account_by_sub(&moved.sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (account.state.as_str(), account.lock_reason.as_deref()),
        ("locked", Some("holder_request"))
    );
    let (_, ch) = pkce();
    let (status, _) = Browser::new()
        .sign_in(
            &authorize_url(&s.base, &c.client_id, &ch, &[]),
            &moved.id_number,
            new_pw,
        )
        .await
        .expect_page();
    assert_eq!(status, 401);
}
