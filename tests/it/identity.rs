//! Citizen identity over HTTP and the CLI: the population register (import, validation) and
//! Level-1 enrolment against it with the OTP read from the development outbox.

use crate::common::browser::input_value;
use crate::common::{
    Browser, Citizen, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, token_request,
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
        sub: account.sub.to_string(),
    };
    let tokens = eid_flow(&s, &who, &c.client_id, &secret).await;
    assert_eq!(
        decode_payload(tokens["id_token"].as_str().unwrap())["eid_level"],
        1
    );
}

/// A code flow asking for the `eid` scope; returns the token response.
pub async fn eid_flow(
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

#[tokio::test]
async fn an_old_cmnd_signs_in_when_it_points_at_one_person_and_is_refused_when_at_several() {
    let s = TestServer::start().await;
    let (who, other) = (s.citizen(95).await, s.citizen(96).await);
    let db = &s.provider.db;
    let alias = |value: &str, id: &str| eidp::store::AliasRecord {
        kind: "cmnd".into(),
        value: value.into(),
        id_number: id.into(),
    };
    db.add_alias(&alias("025111222", &who.id_number))
        .await
        .unwrap();
    for id in [&who.id_number, &other.id_number] {
        db.add_alias(&alias("025333444", id)).await.unwrap();
    }
    let (c, secret) = s.confidential().await;
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[("ui_locales", "en")]);
    let cb = Browser::new()
        .sign_in(&url, "025111222", &who.password)
        .await
        .expect_redirect();
    let tokens = crate::common::redeem(&s, &c.client_id, &secret, &cb, &verifier).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["sub"], s.sub_at(&c, &who.sub), "the CMND's one person");

    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, &[("ui_locales", "en")]);
    let (status, page) = Browser::new()
        .sign_in(&url, "025333444", &who.password)
        .await
        .expect_page();
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("belongs to more than one person"), "{page}");
    assert!(
        page.contains("12-digit personal identification number"),
        "{page}"
    );
}
