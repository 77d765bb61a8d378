//! Consent per purpose and per claim (DOMAIN.md: informed, never pre-ticked, evidence kept,
//! withdrawable): the page shows the party, its purpose and each value; the tokens carry
//! exactly what was let through; every release is in the person's history; withdrawal ends
//! the service's tokens and the next request asks again.

use eidp::oidc::clients::NewClient;
use eidp::store::{ClientRecord, Purpose};

use crate::common::{
    self, Browser, Citizen, REDIRECT_URI, TestServer, authorize_url, browser::input_value, pkce,
    redeem, token_request,
};
use crate::flow::decode_payload;

fn purpose() -> Purpose {
    Purpose {
        id: "file".into(),
        text_vi: "Nộp hồ sơ thủ tục hành chính trực tuyến".into(),
        text_en: "Filing an administrative procedure online".into(),
        required_claims: vec!["name".into()],
        version: 1,
    }
}

/// A portal that registered one purpose needing only the name.
pub async fn portal_with_purpose(s: &TestServer) -> (ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: "Cổng dịch vụ công".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            purposes: vec![purpose()],
            ..Default::default()
        })
        .await;
    (c, secret.unwrap())
}

const SCOPE: &str = "openid profile phone eid offline_access";

/// The claims parameter asks for the name and the phone number in the ID token.
const IN_ID_TOKEN: &str = r#"{"id_token":{"name":null,"phone_number":null}}"#;

fn url_for(s: &TestServer, c: &ClientRecord, challenge: &str) -> String {
    let extra = [("ui_locales", "en"), ("claims", IN_ID_TOKEN)];
    authorize_url(&s.base, &c.client_id, challenge, &extra).replace(
        "scope=openid+profile",
        &format!("scope={}", SCOPE.replace(' ', "+")),
    )
}

/// Sign in up to the consent page; the page.
pub async fn consent_page(b: &Browser, who: &Citizen, url: &str) -> String {
    let (at, _, page) = b.go(url).await;
    let form = [
        ("ar", input_value(&page, "ar").unwrap()),
        ("csrf", input_value(&page, "csrf").unwrap()),
        ("id_number", who.id_number.clone()),
        ("password", who.password.clone()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = b.post_form(&at, "/login", &form).await.expect_page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/consent\""), "{page}");
    page
}

#[tokio::test]
async fn a_portal_gets_exactly_the_consented_claims_and_the_page_says_what_and_why() {
    let s = TestServer::start().await;
    let who = s.citizen(401).await;
    let (portal, secret) = portal_with_purpose(&s).await;
    let (verifier, challenge) = pkce();
    let b = Browser::new();
    let page = consent_page(&b, &who, &url_for(&s, &portal, &challenge)).await;
    // The party, its kind, the purpose, and each value to be shared.
    for shown in [
        "Cổng dịch vụ công",
        "Public service portal",
        "Filing an administrative procedure online",
        "Trần Thị Bình",
        "1990-03-08",
        "079••••••401",
        "+849•••••321",
        "Sensitive",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    assert!(!page.contains(&who.id_number), "the ID number is masked");
    // Only what the purpose needs is ticked, and cannot be unticked; the rest is optional.
    assert!(page.contains("checked disabled"), "{page}");
    for optional in [
        "birthdate",
        "gender",
        "phone_number",
        "id_number",
        "eid_level",
    ] {
        let tag = format!("name=\"share_{optional}\"");
        let at = page
            .find(&tag)
            .unwrap_or_else(|| panic!("{optional}: {page}"));
        let input = &page[page[..at].rfind('<').unwrap()..at + page[at..].find('>').unwrap()];
        assert!(!input.contains("checked"), "{optional} pre-ticked: {input}");
    }
    assert!(
        !page.contains("name=\"share_name\""),
        "required: not a choice"
    );

    // Share the birth date, nothing else optional.
    let at = url::Url::parse(&s.base).unwrap();
    let cb = b
        .approve(&at, &page, &["birthdate"])
        .await
        .expect_redirect();
    let tokens = redeem(&s, &portal.client_id, &secret, &cb, &verifier).await;
    let info = common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
    let mut got: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    got.sort();
    assert_eq!(got, ["birthdate", "name", "sub"], "{info}");
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        idt["name"], "Trần Thị Bình",
        "asked for by name and consented"
    );
    for absent in ["id_number", "eid_level", "phone_number", "gender"] {
        assert!(idt.get(absent).is_none(), "{absent} in the ID token: {idt}");
    }
    // The same request again is covered: no page, the same claims.
    let (verifier, challenge) = pkce();
    let cb = b
        .sign_in(
            &url_for(&s, &portal, &challenge),
            &who.id_number,
            &who.password,
        )
        .await
        .expect_redirect();
    let tokens = redeem(&s, &portal.client_id, &secret, &cb, &verifier).await;
    let info = common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
    assert!(
        info.get("gender").is_none() && info.get("birthdate").is_some(),
        "{info}"
    );

    // Every release is in the person's history, by claim name.
    let audit = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 100)
        .await
        .unwrap();
    let disclosures: Vec<_> = audit.iter().filter(|a| a.action == "disclosure").collect();
    assert!(
        disclosures.len() >= 3,
        "id token and userinfo, twice: {disclosures:?}"
    );
    let to_userinfo = disclosures
        .iter()
        .find(|d| d.detail.contains("\"userinfo\""))
        .unwrap();
    assert!(
        to_userinfo.detail.contains("birthdate"),
        "{}",
        to_userinfo.detail
    );
    assert!(
        to_userinfo.detail.contains("\"consent\":\""),
        "{}",
        to_userinfo.detail
    );
    assert!(
        !to_userinfo.detail.contains("1990-03-08"),
        "names, never values"
    );
}

#[tokio::test]
async fn withdrawal_ends_the_services_tokens_and_the_next_request_asks_again() {
    let s = TestServer::start().await;
    let who = s.citizen(402).await;
    let (portal, secret) = portal_with_purpose(&s).await;
    let (verifier, challenge) = pkce();
    let b = Browser::new();
    let page = consent_page(&b, &who, &url_for(&s, &portal, &challenge)).await;
    let at = url::Url::parse(&s.base).unwrap();
    let cb = b.approve(&at, &page, &[]).await.expect_redirect();
    let tokens = redeem(&s, &portal.client_id, &secret, &cb, &verifier).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let access = tokens["access_token"].as_str().unwrap().to_string();

    // The account page lists the service, what it may receive, and a receipt.
    let (_, _, account) = b.go(&s.url("/account")).await;
    assert!(account.contains("Cổng dịch vụ công"), "{account}");
    let receipt = crate::common::browser::link_href(&account, "receipt").unwrap();
    let (_, status, printed) = b.go(&s.url(&receipt)).await;
    assert_eq!(status, 200, "{printed}");
    assert!(
        printed.contains("Nộp hồ sơ") || printed.contains("Filing"),
        "{printed}"
    );
    let hash = printed.split("class=\"hash\">").nth(1).unwrap();
    assert_eq!(
        hash.find('<'),
        Some(64),
        "a SHA-256 of the page shown: {printed}"
    );
    // Someone else's receipt id reads as unknown.
    let (_, status, _) = b.go(&s.url("/account/consents/not-mine")).await;
    assert_eq!(status, 404);

    // Withdraw.
    let csrf = input_value(&account, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("client_id", portal.client_id.as_str()),
    ];
    let (status, after) = b
        .post_form(&at, "/account/consents/withdraw", &form)
        .await
        .expect_page();
    assert_eq!(status, 200, "{after}");
    assert!(
        after.contains("Consent withdrawn") || after.contains("rút lại"),
        "{after}"
    );
    let (status, body) = token_request(
        &s.base,
        Some((&portal.client_id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let resp = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "the access token ended too");
    // The next request asks again.
    let (_, challenge) = pkce();
    let (_, _, again) = b.go(&url_for(&s, &portal, &challenge)).await;
    assert!(again.contains("action=\"/consent\""), "{again}");
}
