//! Relying parties held to their kind's policy (DOMAIN.md: what each party may receive), and
//! pairwise subject identifiers between them (OIDC Core §8).

use eidp::oidc::clients::NewClient;
use eidp::store::{ClientRecord, SubjectType};

use crate::common::{
    Browser, REDIRECT_URI, TestServer, authorize_url, code_flow, pkce, query_param,
};
use crate::flow::decode_payload;

async fn client_of(s: &TestServer, kind: &str, extra: NewClient) -> (ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: format!("{kind} client"),
            kind: kind.into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            ..extra
        })
        .await;
    (c, secret.unwrap())
}

#[tokio::test]
async fn a_level_1_account_is_refused_by_a_bank_with_a_page_that_says_why_and_how() {
    let s = TestServer::start().await;
    let who = s.citizen(301).await;
    // A bank outside FAPI (front-channel requests), as an override allows.
    let standard = NewClient {
        profile: Some(eidp::store::Profile::Standard),
        policy_override: Some("test: a bank without FAPI".into()),
        ..Default::default()
    };
    let (bank, _) = client_of(&s, "bank", standard).await;
    let (_, challenge) = pkce();
    let b = Browser::new();
    let url = authorize_url(
        &s.base,
        &bank.client_id,
        &challenge,
        &[("ui_locales", "vi")],
    );
    let (status, page) = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_page();
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("tài khoản định danh điện tử mức 2"), "{page}");
    assert!(page.contains("đang ở mức 1"), "{page}");
    assert!(
        page.contains("thẻ căn cước gắn chip"),
        "how to reach Level 2: {page}"
    );
    // The way back tells the bank: access_denied, with its state.
    let back = crate::common::browser::link_href(&page, "button-link").unwrap();
    let back = url::Url::parse(&back).unwrap();
    assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
    // The same person at Level 2 gets through (after the bank's two factors).
    let db = &s.provider.db;
    db.set_level(&who.sub, 2, s.provider.now()).await.unwrap();
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &bank.client_id, &challenge, &[]);
    let (status, page) = Browser::new()
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_page();
    assert_eq!(status, 200);
    assert!(
        page.contains("action=\"/login/step-up\""),
        "the bank's loa:2 floor: {page}"
    );
}

#[tokio::test]
async fn an_out_of_policy_scope_is_refused_and_out_of_policy_claims_left_out() {
    let s = TestServer::start().await;
    let who = s.citizen(302).await;
    let (hospital, secret) = client_of(&s, "hospital", NewClient::default()).await;
    assert!(!hospital.scopes.iter().any(|x| x == "address"));
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &hospital.client_id, &challenge, &[])
        .replace("scope=openid+profile", "scope=openid+profile+address");
    let (at, _, _) = Browser::new().go(&url).await;
    assert_eq!(
        query_param(&at, "error").as_deref(),
        Some("invalid_scope"),
        "{at}"
    );
    assert_eq!(query_param(&at, "state").as_deref(), Some("st-1"));
    // Asked for by name instead, the address is simply not there (OIDC Core §5.5).
    let (verifier, challenge) = pkce();
    let claims = r#"{"id_token":{"address":null,"birthdate":null}}"#;
    let url = authorize_url(
        &s.base,
        &hospital.client_id,
        &challenge,
        &[("claims", claims)],
    );
    let b = Browser::new();
    let cb = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let tokens = crate::common::redeem(&s, &hospital.client_id, &secret, &cb, &verifier).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["birthdate"], "1990-03-08");
    assert!(idt.get("address").is_none(), "{idt}");
}

#[tokio::test]
async fn registration_cannot_widen_a_kind_without_a_written_override() {
    let s = TestServer::start().await;
    let wide = NewClient {
        name: "Bệnh viện".into(),
        kind: "hospital".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        scopes: Some(vec!["openid".into(), "address".into()]),
        ..Default::default()
    };
    let e = eidp::oidc::clients::build(&wide, &s.provider.kek, 0).unwrap_err();
    assert_eq!(e.field, "policy");
    assert!(e.reason.contains("address"), "{e}");
    let low_bank = NewClient {
        kind: "bank".into(),
        min_account_level: Some(1),
        ..wide.clone()
    };
    assert!(eidp::oidc::clients::build(&low_bank, &s.provider.kek, 0).is_err());
    // With a reason it is allowed, and the registration's audit entry keeps the reason.
    let to = eidp::oidc::clients::Registry::of(&s.provider, "officer:CA-HN-1");
    let reason = "Quyết định 12/QĐ-BYT: khám tại nhà";
    let with_reason = NewClient {
        policy_override: Some(reason.into()),
        ..wide
    };
    let (rec, _) = eidp::oidc::clients::register(&to, &with_reason)
        .await
        .unwrap();
    assert_eq!(rec.settings.policy_override.as_deref(), Some(reason));
    let entries = s.provider.db.audit_since(0, 100).await.unwrap();
    let entry = entries
        .iter()
        .find(|e| e.action == "client_registered")
        .unwrap();
    assert_eq!(entry.actor, "officer:CA-HN-1");
    assert!(entry.detail.contains(reason), "{}", entry.detail);
}

#[tokio::test]
async fn sectors_get_different_subs_and_one_sector_the_same() {
    let s = TestServer::start().await;
    let who = s.citizen(303).await;
    let sector = |host: &str| NewClient {
        sector_identifier_uri: Some(format!("https://{host}/sector.json")),
        verified_sector: Some(host.into()),
        ..Default::default()
    };
    let (a1, a1s) = client_of(&s, "portal", sector("dichvucong.gov.vn")).await;
    let (a2, a2s) = client_of(&s, "portal", sector("dichvucong.gov.vn")).await;
    let (b, bs) = client_of(&s, "hospital", sector("benhvien.vn")).await;
    let public = NewClient {
        subject_type: Some(SubjectType::Public),
        ..Default::default()
    };
    let (p, ps) = client_of(&s, "portal", public).await;
    let mut subs = Vec::new();
    for (c, secret) in [(&a1, &a1s), (&a2, &a2s), (&b, &bs), (&p, &ps)] {
        let tokens = code_flow(&s, &who, c, secret).await;
        let idt = decode_payload(tokens["id_token"].as_str().unwrap());
        // UserInfo and introspection say the same `sub` as the ID token.
        let info = crate::common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(info["sub"], idt["sub"]);
        subs.push(idt["sub"].as_str().unwrap().to_string());
    }
    assert_eq!(subs[0], subs[1], "one sector, one sub");
    assert_ne!(subs[0], subs[2], "different sectors cannot link the person");
    assert_eq!(
        subs[3], who.sub,
        "a public-sub client gets the account's own"
    );
    assert_ne!(subs[0], who.sub);
}

#[tokio::test]
async fn a_sector_identifier_document_is_fetched_and_must_list_every_redirect_uri() {
    let s = TestServer::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let doc = serde_json::json!([REDIRECT_URI, "https://other.vn/cb"]).to_string();
    let app = axum::Router::new().route(
        "/sector.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { doc }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let to = eidp::oidc::clients::Registry::of(&s.provider, "cli");
    let n = NewClient {
        name: "Nhóm cổng".into(),
        kind: "portal".into(),
        redirect_uris: vec![REDIRECT_URI.into(), "https://other.vn/cb".into()],
        sector_identifier_uri: Some(format!("http://{addr}/sector.json")),
        ..Default::default()
    };
    let (rec, _) = eidp::oidc::clients::register(&to, &n).await.unwrap();
    assert_eq!(rec.settings.sector.as_deref(), Some("127.0.0.1"));
    let unlisted = NewClient {
        redirect_uris: vec!["https://third.vn/cb".into()],
        ..n.clone()
    };
    let e = eidp::oidc::clients::register(&to, &unlisted)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not list"), "{e}");
    let two_hosts = NewClient {
        sector_identifier_uri: None,
        ..n
    };
    let e = eidp::oidc::clients::build(&two_hosts, &s.provider.kek, 0).unwrap_err();
    assert_eq!(e.field, "sector_identifier_uri", "{e}");
}

#[tokio::test]
async fn discovery_advertises_pairwise_and_public() {
    let s = TestServer::start().await;
    let meta = crate::common::discovery(&s).await;
    let types = meta["subject_types_supported"].as_array().unwrap();
    assert!(types.contains(&"pairwise".into()) && types.contains(&"public".into()));
}
