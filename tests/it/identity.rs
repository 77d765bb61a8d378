//! Citizen identity over HTTP and the CLI: Level-1 enrolment against the register with the
//! OTP read from the development outbox, Level-2 verification, locking and unlocking, the
//! account page, and the audit trail of every state change.

use crate::common::browser::input_value;
use crate::common::{
    self, Browser, Citizen, REDIRECT_URI, TestServer, authorize_url, pkce, query_param,
    token_request,
};
use crate::flow::decode_payload;

const REGISTER: &str = "id_number,full_name,birth_date,sex,phone,residence,household_id,household_relation,cmnd,bhyt
079301000123,Võ Thị Hồng,2001-04-30,female,0901234567,\"Số 5 Lê Lợi, Quận 1, TP Hồ Chí Minh\",HH-79-1,head,025123456,HC4790123456789
001085000456,Đặng Văn Nam,1985-12-01,male,0912000456,\"Số 2 Tràng Tiền, Hà Nội\",HH-01-9,head,,
";

async fn load_register(s: &TestServer) {
    let report =
        eidp::identity::register::import(s.provider.db.as_ref(), REGISTER, s.provider.now())
            .await
            .unwrap();
    assert_eq!(
        (report.imported, report.invalid.len()),
        (2, 0),
        "{report:?}"
    );
}

async fn enrol_start(b: &Browser, s: &TestServer, fields: &[(&str, &str)]) -> (u16, String) {
    let (at, _, page) = b.go(&s.url("/enrol")).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post_form(&at, "/enrol", &form).await.expect_page()
}

fn hong(name: &str, birth: &str) -> Vec<(&'static str, String)> {
    vec![
        ("id_number", "079301000123".into()),
        ("full_name", name.into()),
        ("birth_date", birth.into()),
        ("phone", "0901 234 567".into()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn level1_enrolment_with_the_code_from_the_outbox() {
    let s = TestServer::start().await;
    load_register(&s).await;
    let b = Browser::new();
    // Case and spacing differ from the register; accents do not.
    let (status, page) = enrol_start(&b, &s, &refs(&hong("  võ THỊ   hồng ", "2001-04-30"))).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/enrol/otp\""));
    let flow = input_value(&page, "flow").unwrap();
    let csrf = input_value(&page, "csrf").unwrap();
    let code = s
        .last_sms_code("+84901234567")
        .expect("the outbox holds the code");
    let at = url::Url::parse(&s.base).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = b
        .post_form(
            &at,
            "/enrol/otp",
            &[("flow", &flow), ("csrf", &csrf), ("otp", wrong)],
        )
        .await
        .expect_page();
    assert_eq!(status, 400, "a wrong code is refused");
    let (status, page) = b
        .post_form(
            &at,
            "/enrol/otp",
            &[("flow", &flow), ("csrf", &csrf), ("otp", &code)],
        )
        .await
        .expect_page();
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/enrol/password\""));
    let (status, _) = b
        .post_form(
            &at,
            "/enrol/password",
            &[
                ("flow", &flow),
                ("csrf", &csrf),
                ("password", "weakpass"),
                ("password_confirm", "weakpass"),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 400, "the VNeID password rule applies");
    let pw = "Hồng-2026-eID!";
    let (status, page) = b
        .post_form(
            &at,
            "/enrol/password",
            &[
                ("flow", &flow),
                ("csrf", &csrf),
                ("password", pw),
                ("password_confirm", pw),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 200, "{page}");
    let account = s
        .provider
        .db
        .account_by_id_number("079301000123")
        .await
        .unwrap()
        .expect("account created");
    assert_eq!((account.level, account.state.as_str()), (1, "active"));
    // The new account signs in to a relying party; the ID token says Level 1.
    let (c, secret) = s.confidential().await;
    let who = Citizen {
        id_number: "079301000123".into(),
        password: pw.into(),
        sub: account.sub.clone(),
    };
    let tokens = eid_flow(&s, &who, &c.client_id, &secret).await;
    assert_eq!(
        decode_payload(tokens["id_token"].as_str().unwrap())["eid_level"],
        1
    );
}

/// A code flow asking for the `eid` scope; returns the token response.
async fn eid_flow(
    s: &TestServer,
    who: &Citizen,
    client_id: &str,
    secret: &str,
) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, client_id, &challenge, &[])
        .replace("scope=openid+profile", "scope=openid+eid");
    let cb = Browser::new()
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let (status, body) = token_request(
        &s.base,
        Some((client_id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn mismatched_register_data_creates_no_account_and_is_throttled() {
    let s = TestServer::start().await;
    load_register(&s).await;
    let b = Browser::new();
    let (s1, p1) = enrol_start(&b, &s, &refs(&hong("Vo Thi Hong", "2001-04-30"))).await;
    let (s2, p2) = enrol_start(&b, &s, &refs(&hong("Võ Thị Hồng", "2001-04-29"))).await;
    let alert = |p: &str| {
        p.split("role=\"alert\"")
            .nth(1)
            .map(|r| r[..r.find("</").unwrap_or(0)].to_string())
    };
    assert_eq!((s1, s2), (400, 400));
    assert_eq!(
        alert(&p1),
        alert(&p2),
        "one message, whichever field differed"
    );
    assert!(
        s.provider
            .db
            .account_by_id_number("079301000123")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.last_sms_code("+84901234567").is_none(),
        "no code sent on a mismatch"
    );
    for _ in 0..3 {
        enrol_start(&b, &s, &refs(&hong("Someone Else", "2001-04-30"))).await;
    }
    let (status, _) = enrol_start(&b, &s, &refs(&hong("Võ Thị Hồng", "2001-04-30"))).await;
    assert_eq!(
        status, 429,
        "after five mismatches even the right data waits"
    );
}

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

#[tokio::test]
async fn admin_api_verifies_and_locks_for_officers_only() {
    let s = TestServer::start().await;
    let who = s.citizen(92).await;
    let (admin, secret) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Cổng quản trị".into(),
            kind: "admin".into(),
            min_account_level: 1,
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let (_, tok) = token_request(
        &s.base,
        Some((&admin.client_id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    let at = tok["access_token"]
        .as_str()
        .expect("admin token")
        .to_string();
    s.cli(
        &[
            "admin",
            "officers",
            "create",
            "--officer-id",
            "CA-1",
            "--name",
            "A",
            "--role",
            "officer",
        ],
        None,
    );
    s.cli(
        &[
            "admin",
            "officers",
            "create",
            "--officer-id",
            "AD-1",
            "--name",
            "B",
            "--role",
            "admin",
        ],
        None,
    );
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value, token: String| {
        let http = http.clone();
        async move {
            let r = http
                .post(path)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let verify = s.url(&format!("/admin/v1/accounts/{}/verify", who.id_number));
    let body = serde_json::json!({"officer_id": "CA-1", "evidence_ref": "HS-1", "chip_authentic": true, "biometric_match": true});
    let (status, _) = post(verify.clone(), body.clone(), "not-a-token".into()).await;
    assert_eq!(status, 401);
    let (status, v) = post(verify.clone(), body.clone(), at.clone()).await;
    assert_eq!((status, v["level"].as_i64()), (200, Some(2)), "{v}");
    let failed = serde_json::json!({"officer_id": "CA-1", "evidence_ref": "HS-2", "chip_authentic": false, "biometric_match": true});
    assert_eq!(
        post(verify, failed, at.clone()).await.0,
        400,
        "a failed chip check does not verify"
    );
    let lock = s.url(&format!("/admin/v1/accounts/{}/lock", who.id_number));
    let (status, _) = post(
        lock.clone(),
        serde_json::json!({"officer_id": "CA-1", "reason": "terms_violation", "note": "x"}),
        at.clone(),
    )
    .await;
    assert_eq!(status, 403, "the officer role cannot lock");
    let (status, v) = post(lock, serde_json::json!({"officer_id": "AD-1", "reason": "terms_violation", "note": "Vi phạm điều khoản"}), at.clone()).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("locked")), "{v}");
    let (_, cc) = token_request(
        &s.base,
        Some((&admin.client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let no_scope = cc["access_token"].as_str().unwrap().to_string();
    let unlock = s.url(&format!("/admin/v1/accounts/{}/unlock", who.id_number));
    assert_eq!(
        post(
            unlock,
            serde_json::json!({"officer_id": "AD-1", "note": "ok"}),
            no_scope
        )
        .await
        .0,
        403
    );
}

#[tokio::test]
async fn account_page_history_password_change_and_self_lock() {
    let s = TestServer::start().await;
    let who = s.citizen(93).await;
    let (c, secret) = s.confidential().await;
    common::code_flow(&s, &who, &c, &secret).await;
    let b = Browser::new();
    let (at, _, page) = b.go(&s.url("/account")).await;
    assert!(
        page.contains("name=\"next\""),
        "the account page asks to sign in first"
    );
    let csrf = input_value(&page, "csrf").unwrap();
    let (status, page) = b
        .post_form(
            &at,
            "/login",
            &[
                ("ar", ""),
                ("next", "account"),
                ("csrf", &csrf),
                ("id_number", &who.id_number),
                ("password", &who.password),
            ],
        )
        .await
        .expect_page();
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

#[tokio::test]
async fn register_import_reports_and_locks_the_deceased() {
    let s = TestServer::start().await;
    let who = s.citizen(94).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    let csv = format!(
        "id_number,full_name,birth_date,sex,deceased_on\n{},Trần Thị Bình,1990-03-08,female,2026-10-01\n001090000999,Bad Name 1,1990-01-01,male,\n079301000123,Võ Thị Hồng,2001-04-30,female,\n079301000123,Võ Thị Hồng,2001-04-30,female,\n",
        who.id_number
    );
    std::fs::write(&file, csv).unwrap();
    let (ok, out, err) = s.cli(
        &[
            "admin",
            "citizens",
            "import",
            file.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (
            r["rows"].as_u64(),
            r["imported"].as_u64(),
            r["updated"].as_u64()
        ),
        (Some(4), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["invalid"][0]["field"], "full_name");
    assert_eq!(r["duplicates"].as_array().unwrap().len(), 1);
    assert_eq!(r["locked"][0], who.id_number.as_str());
    let account = s
        .provider
        .db
        .account_by_sub(&who.sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lock_reason.as_deref(), Some("deceased"));
    let (ok, out, _) = s.cli(
        &[
            "admin", "citizens", "generate", "--count", "50", "--seed", "7",
        ],
        None,
    );
    assert!(ok);
    assert_eq!(out.lines().count(), 51);
}
