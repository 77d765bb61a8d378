//! Abuse, replayed: each test plays an attacker against a limit and asserts the limit holds —
//! parallel guesses on one ID number, credential stuffing from one address, enrolment and
//! one-time-code brute force, SMS floods, oversized parameters and pending-request floods,
//! and a forged `X-Forwarded-For`. Parallel tests run on a multi-threaded runtime, and on Redis
//! as well as the in-process store when `EIDP_TEST_REDIS_URL` is set.

use std::sync::Arc;

use eidp::store::PersonRecord;
use url::Url;

use crate::common::browser::input_value;
use crate::common::{Browser, Options, TestServer, authorize_url, pkce, services};

/// Stores to run a parallel test on: the in-process one, and Redis when configured.
fn ephemeral_options() -> Vec<(&'static str, Options)> {
    let mut v = vec![("memory", Options::default())];
    if let Some(url) = services::redis_url() {
        v.push((
            "redis",
            Options {
                redis_url: Some(url),
                ..Default::default()
            },
        ));
    }
    v
}

/// A sign-in page for a fresh authorization request: the browser, its `ar` and CSRF token.
async fn login_form(s: &TestServer, client_id: &str) -> (Browser, String, String) {
    let b = Browser::new();
    let (_, status, page) = b
        .go(&authorize_url(&s.base, client_id, &pkce().1, &[]))
        .await;
    assert_eq!(status, 200, "{page}");
    let ar = input_value(&page, "ar").unwrap();
    let csrf = input_value(&page, "csrf").unwrap();
    (b, ar, csrf)
}

/// Post all the sign-in forms at once; the status of each answer.
async fn post_all(
    s: &TestServer,
    forms: Vec<(Browser, String, String, String, String)>,
) -> Vec<u16> {
    let base = Url::parse(&s.base).unwrap();
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(b, ar, csrf, id, pw)| {
            let base = base.clone();
            tokio::spawn(async move {
                let form = [
                    ("ar", ar.as_str()),
                    ("csrf", csrf.as_str()),
                    ("id_number", id.as_str()),
                    ("password", pw.as_str()),
                ];
                let r = b
                    .http
                    .post(base.join("/login").unwrap())
                    .form(&form)
                    .send()
                    .await;
                r.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_guesses_on_one_id_get_no_more_checks_than_the_limit() {
    for (store, o) in ephemeral_options() {
        let s = TestServer::start_with(o).await;
        let who = s.citizen(300).await;
        let (c, _) = s.confidential().await;
        let mut forms = Vec::new();
        for _ in 0..40 {
            let (b, ar, csrf) = login_form(&s, &c.client_id).await;
            forms.push((
                b,
                ar,
                csrf,
                who.id_number.clone(),
                "Wrong-guess-1".to_string(),
            ));
        }
        let statuses = post_all(&s, forms).await;
        let checked = statuses.iter().filter(|st| **st == 401).count();
        let refused = statuses.iter().filter(|st| **st == 429).count();
        assert_eq!(checked + refused, 40, "{store}: {statuses:?}");
        assert!(
            checked as i64 <= eidp::authn::throttle::LOCKOUT_AFTER,
            "{store}: {checked} of 40 parallel guesses were checked"
        );
        // Every checked guess is in the person's history; refused ones were never checked.
        // The guess numbered at the lockout is written as `throttled`: with parallel tries in
        // flight that number can fall on a checked guess before ten have been checked.
        let failed = s
            .provider
            .db
            .audit_for_subject(&who.sub, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "signin_failed" || e.action == "throttled")
            .count();
        assert_eq!(failed, checked, "{store}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_stuffing_from_one_address_stops_at_the_address_limit() {
    for (store, o) in ephemeral_options() {
        let s = TestServer::start_with(o).await;
        let who = s.citizen(301).await;
        let (c, _) = s.confidential().await;
        let limit = eidp::authn::throttle::PER_IP_LIMIT as usize;
        // Eighty different ID numbers at once, one guess each: the per-number limits never
        // trigger, the address's does.
        let mut forms = Vec::new();
        for i in 0..80 {
            let (b, ar, csrf) = login_form(&s, &c.client_id).await;
            let id = format!("001090{:06}", 500_000 + i);
            forms.push((b, ar, csrf, id, "Stuffed-pass-1".to_string()));
        }
        let statuses = post_all(&s, forms).await;
        let checked = statuses.iter().filter(|st| **st == 401).count();
        assert!(
            checked <= limit,
            "{store}: {checked} guesses checked (limit {limit})"
        );
        assert!(
            statuses.iter().all(|st| *st == 401 || *st == 429),
            "{statuses:?}"
        );
        // The address is shut for the window, even for a real person's right password.
        let (b, ar, csrf) = login_form(&s, &c.client_id).await;
        let statuses = post_all(
            &s,
            vec![(b, ar, csrf, who.id_number.clone(), who.password.clone())],
        )
        .await;
        assert_eq!(statuses, vec![429], "{store}");
    }
}

/// A register record the attacker knows everything of but the phone.
async fn victim(s: &TestServer, n: u32) -> (String, String) {
    let id = format!("001190{:06}", 700_000 + n);
    let phone = format!("+8491{:07}", 1_000_000 + n);
    let p = PersonRecord {
        id_number: id.clone(),
        full_name: "Nguyễn Văn An".into(),
        birth_date: "1990-01-01".into(),
        sex: "male".into(),
        nationality: "VN".into(),
        phone: Some(phone.clone()),
        ..Default::default()
    };
    s.provider.db.upsert_person(&p).await.unwrap();
    (id, phone)
}

async fn enrol_start(s: &TestServer, b: &Browser, id: &str, phone: &str) -> (u16, String) {
    let (at, _, page) = b.go(&s.url("/enrol")).await;
    let csrf = input_value(&page, "csrf").unwrap();
    let local = format!("0{}", &phone[3..]);
    let form = [
        ("csrf", csrf.as_str()),
        ("id_number", id),
        ("full_name", "Nguyễn Văn An"),
        ("birth_date", "1990-01-01"),
        ("phone", local.as_str()),
    ];
    b.post_form(&at, "/enrol", &form).await.expect_page()
}

async fn enrol_code(s: &TestServer, b: &Browser, page: &str, code: &str) -> (u16, String) {
    let (flow, csrf) = (
        input_value(page, "flow").unwrap(),
        input_value(page, "csrf").unwrap(),
    );
    let at = Url::parse(&s.base).unwrap();
    b.post_form(
        &at,
        "/enrol/otp",
        &[("flow", &flow), ("csrf", &csrf), ("otp", code)],
    )
    .await
    .expect_page()
}

fn sms_count(s: &TestServer, phone: &str) -> usize {
    let path = s.outbox_path();
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(phone))
        .count()
}

/// The enrolment page's words for a code that died of wrong tries (vi.json).
const EXHAUSTED: &str = "nhập sai mã quá nhiều lần";

#[tokio::test]
async fn enrolment_codes_cannot_be_brute_forced_by_starting_over() {
    let s = TestServer::start().await;
    let (id, phone) = victim(&s, 1).await;
    let b = Browser::new();
    let mut wrong_total = 0;
    let mut waits = 0;
    loop {
        let (status, page) = enrol_start(&s, &b, &id, &phone).await;
        if status == 429 {
            // The next send must wait: wait it out, as a patient attacker would.
            s.clock.advance(eidp::otp::FIRST_WAIT << waits.min(6));
            waits += 1;
            assert!(waits < 8, "the sends never resumed: {page}");
            continue;
        }
        assert_eq!(status, 200, "{page}");
        // The page tells the person the tries the code really has.
        let tries = format!("tối đa {} lần", eidp::otp::TRIES_PER_CODE);
        assert!(page.contains(&tries), "{page}");
        let code = s.last_sms_code(&phone).unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let mut locked = false;
        for _ in 0..eidp::otp::TRIES_PER_CODE {
            // Checked: "wrong" (400), or "wrong, and the code is gone" (429, start again);
            // unchecked: "try again in …" (429): the day's guesses are spent.
            match enrol_code(&s, &b, &page, wrong).await {
                (400, _) => wrong_total += 1,
                (429, p) if p.contains(EXHAUSTED) => wrong_total += 1,
                (429, _) => locked = true,
                (other, p) => panic!("unexpected {other}: {p}"),
            }
        }
        // Three wrong tries killed this code: even the right one is refused now.
        let (status, _) = enrol_code(&s, &b, &page, &code).await;
        assert_ne!(status, 200, "a dead code let the enrolment through");
        if locked {
            break;
        }
    }
    assert_eq!(
        wrong_total,
        eidp::otp::WRONG_PER_HOLDER,
        "ten wrong guesses a day, all flows together"
    );
    // Now even a fresh code, right the first time, is refused for the rest of the day.
    s.clock.advance(3600);
    let (status, page) = enrol_start(&s, &b, &id, &phone).await;
    if status == 200 {
        let code = s.last_sms_code(&phone).unwrap();
        let (status, _) = enrol_code(&s, &b, &page, &code).await;
        assert_eq!(status, 429, "the day's guesses are spent");
    } else {
        assert_eq!(status, 429);
    }
    assert!(
        s.provider
            .db
            .account_by_id_number(&id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn enrolment_sms_flood_is_capped_per_person_phone_and_address() {
    let s = TestServer::start().await;
    let (id, phone) = victim(&s, 2).await;
    let b = Browser::new();
    // Back to back: one SMS, then waits.
    assert_eq!(enrol_start(&s, &b, &id, &phone).await.0, 200);
    for _ in 0..5 {
        assert_eq!(enrol_start(&s, &b, &id, &phone).await.0, 429);
    }
    assert_eq!(sms_count(&s, &phone), 1);
    // Waiting out each growing wait still gets no more than five an hour.
    for _ in 0..10 {
        s.clock.advance(eidp::otp::FIRST_WAIT << 6);
        enrol_start(&s, &b, &id, &phone).await;
    }
    assert_eq!(sms_count(&s, &phone) as i64, eidp::otp::SENDS_PER_HOLDER);
    // One address enrolling many people: capped too.
    let cap = eidp::otp::SENDS_PER_IP as u32;
    let mut sent = 0;
    for n in 10..10 + cap + 5 {
        let (id, phone) = victim(&s, n).await;
        if enrol_start(&s, &Browser::new(), &id, &phone).await.0 == 200 {
            sent += 1;
        }
    }
    // The first victim's sends counted against the address too.
    assert_eq!(sent + eidp::otp::SENDS_PER_HOLDER as u32, cap);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_enrolment_starts_send_one_sms() {
    for (store, o) in ephemeral_options() {
        let s = Arc::new(TestServer::start_with(o).await);
        let (id, phone) = victim(&s, 3).await;
        let mut pages = Vec::new();
        for _ in 0..20 {
            let b = Browser::new();
            let (at, _, page) = b.go(&s.url("/enrol")).await;
            pages.push((b, at, input_value(&page, "csrf").unwrap()));
        }
        let local = format!("0{}", &phone[3..]);
        let tasks: Vec<_> = pages
            .into_iter()
            .map(|(b, at, csrf)| {
                let (id, local) = (id.clone(), local.clone());
                tokio::spawn(async move {
                    let form = [
                        ("csrf", csrf.as_str()),
                        ("id_number", id.as_str()),
                        ("full_name", "Nguyễn Văn An"),
                        ("birth_date", "1990-01-01"),
                        ("phone", local.as_str()),
                    ];
                    let r = b
                        .http
                        .post(at.join("/enrol").unwrap())
                        .form(&form)
                        .send()
                        .await;
                    r.unwrap().status().as_u16()
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            ok += (t.await.unwrap() == 200) as usize;
        }
        assert_eq!((ok, sms_count(&s, &phone)), (1, 1), "{store}");
    }
}

#[tokio::test]
async fn oversized_parameters_are_refused_and_nothing_is_kept() {
    let s = TestServer::start().await;
    let (c, _) = s.confidential().await;
    let big = "x".repeat(30 * 1024);
    for param in ["login_hint", "claims", "acr_values", "ui_locales"] {
        let url = authorize_url(&s.base, &c.client_id, &pkce().1, &[(param, &big)]);
        let (at, status, page) = Browser::new().go(&url).await;
        assert_eq!(status, 400, "{param}");
        assert_eq!(
            at.origin(),
            Url::parse(&s.base).unwrap().origin(),
            "a page, no redirect"
        );
        assert!(page.contains("invalid_request"), "{param}: {page}");
        assert!(!page.contains(&big[..64]), "the value is not echoed");
    }
    // `state` and `nonce` (which the helper sets) too.
    for (param, short) in [("state", "state=st-1"), ("nonce", "nonce=n-1")] {
        let url = authorize_url(&s.base, &c.client_id, &pkce().1, &[])
            .replace(short, &format!("{param}={big}"));
        let (_, status, page) = Browser::new().go(&url).await;
        assert_eq!(status, 400, "{param}: {page}");
        assert!(!page.contains(&big[..64]), "the value is not echoed");
    }
    // A long but honest value is fine.
    let url = authorize_url(
        &s.base,
        &c.client_id,
        &pkce().1,
        &[("login_hint", &"0".repeat(256))],
    );
    let (_, status, page) = Browser::new().go(&url).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn one_address_cannot_fill_the_store_with_pending_requests() {
    let s = TestServer::start_with(Options {
        configure: Some(|cfg| cfg.authorize_per_ip = 5),
        ..Default::default()
    })
    .await;
    let (c, _) = s.confidential().await;
    for _ in 0..5 {
        let url = authorize_url(&s.base, &c.client_id, &pkce().1, &[]);
        assert_eq!(Browser::new().go(&url).await.1, 200);
    }
    let url = authorize_url(&s.base, &c.client_id, &pkce().1, &[]);
    let (_, status, page) = Browser::new().go(&url).await;
    assert_eq!(status, 429, "{page}");
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_change_the_address() {
    // Behind a trusted proxy (the test's own loopback), the right-most untrusted hop counts.
    let s = TestServer::start_with(Options {
        configure: Some(|cfg| {
            cfg.trusted_proxies = vec![eidp::config::Cidr::parse("127.0.0.1/32").unwrap()]
        }),
        ..Default::default()
    })
    .await;
    let who = s.citizen(302).await;
    let (c, _) = s.confidential().await;
    let limit = eidp::authn::throttle::PER_IP_LIMIT;
    for i in 0..limit + 3 {
        let (b, ar, csrf) = login_form(&s, &c.client_id).await;
        // The attacker rotates what it writes on the left; the proxy appends what it saw.
        let xff = format!("10.9.{}.{}, 203.0.113.9", i / 250, i % 250);
        let r = b
            .http
            .post(s.url("/login"))
            .header("x-forwarded-for", xff)
            .form(&[
                ("ar", ar.as_str()),
                ("csrf", csrf.as_str()),
                ("id_number", &format!("001090{:06}", 600_000 + i)),
                ("password", "Stuffed-pass-1"),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if i < limit {
            assert_eq!(status, 401, "try {i}");
        } else {
            assert_eq!(status, 429, "try {i}: the address 203.0.113.9 is shut");
        }
    }
    // The history names the proxy's view of the client, not what the client claimed.
    let (b, ar, csrf) = login_form(&s, &c.client_id).await;
    b.http
        .post(s.url("/login"))
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.20")
        .form(&[
            ("ar", ar.as_str()),
            ("csrf", csrf.as_str()),
            ("id_number", who.id_number.as_str()),
            ("password", "Wrong-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    let entry = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 5)
        .await
        .unwrap();
    assert_eq!(entry[0].ip.as_deref(), Some("198.51.100.20"));

    // Without trusted proxies the header is ignored altogether.
    let plain = TestServer::start().await;
    let who = plain.citizen(303).await;
    let (c, _) = plain.confidential().await;
    let (b, ar, csrf) = login_form(&plain, &c.client_id).await;
    b.http
        .post(plain.url("/login"))
        .header("x-forwarded-for", "198.51.100.20")
        .form(&[
            ("ar", ar.as_str()),
            ("csrf", csrf.as_str()),
            ("id_number", who.id_number.as_str()),
            ("password", "Wrong-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    let entry = plain
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 5)
        .await
        .unwrap();
    assert_eq!(entry[0].ip.as_deref(), Some("127.0.0.1"));
}
