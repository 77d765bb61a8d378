//! The admin API for relying-party clients: an officer with the `admin` role registers,
//! changes, rotates, disables and enables clients through their own admin credential; each
//! change takes effect at once at the protocol endpoints and is in the audit log first.

use serde_json::{Value, json};

use crate::common::{
    self, Browser, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, token_request,
};

/// One admin API call; status and JSON answer.
pub(crate) async fn call(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    token: &str,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, s.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

pub(crate) async fn post(s: &TestServer, path: &str, body: Value, token: &str) -> (u16, Value) {
    call(s, reqwest::Method::POST, path, Some(body), token).await
}

pub(crate) async fn patch(s: &TestServer, id: &str, body: Value, token: &str) -> (u16, Value) {
    let path = format!("/admin/v1/clients/{id}");
    call(s, reqwest::Method::PATCH, &path, Some(body), token).await
}

pub(crate) async fn admin(s: &TestServer) -> String {
    common::officer(s, "AD-1", "admin", "001085000001").await
}

/// A portal client made through the API; its id and secret.
pub(crate) async fn create(s: &TestServer, token: &str, kind: &str) -> (String, String) {
    let body = json!({
        "name": "Cổng dịch vụ công tỉnh",
        "kind": kind,
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [common::POST_LOGOUT_URI],
    });
    let (status, v) = post(s, "/admin/v1/clients", body, token).await;
    assert_eq!(status, 201, "{v}");
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    (id, v["client_secret"].as_str().unwrap().to_string())
}

/// The audit entries about client `id`, oldest first.
pub(crate) async fn audit_of(s: &TestServer, id: &str) -> Vec<eidp::store::AuditRecord> {
    let all = s.provider.db.audit_since(0, 1000).await.unwrap();
    all.into_iter()
        .filter(|e| e.client_id.as_deref() == Some(id))
        .collect()
}

pub(crate) fn detail(e: &eidp::store::AuditRecord) -> Value {
    serde_json::from_str(&e.detail).unwrap()
}

async fn client_credentials(s: &TestServer, id: &str, secret: &str) -> (u16, Value) {
    let form = [("grant_type", "client_credentials")];
    token_request(&s.base, Some((id, secret)), &form).await
}

#[tokio::test]
async fn an_admin_creates_and_narrows_a_client_and_the_narrowing_holds_at_once() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let (id, _) = create(&s, &token, "portal").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &id, &challenge, &[]);
    // The client is cached on this node by now: the request goes on to sign-in.
    let (at, status, _) = Browser::new().go(&url).await;
    assert!(status == 200 && at.path() == "/login", "{at}");

    let (status, v) = patch(&s, &id, json!({"scopes": ["openid"]}), &token).await;
    assert_eq!(
        (status, v["scopes"].clone()),
        (200, json!(["openid"])),
        "{v}"
    );
    let (at, _, _) = Browser::new().go(&url).await;
    assert_eq!(
        query_param(&at, "error").as_deref(),
        Some("invalid_scope"),
        "{at}"
    );
    let entry = audit_of(&s, &id).await.pop().unwrap();
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("client_updated", "officer:AD-1")
    );
    let changes = &detail(&entry)["changes"];
    assert_eq!(changes["scopes"]["to"], json!(["openid"]), "{changes}");
    assert!(changes["scopes"]["from"].as_array().unwrap().len() > 1);
    assert!(detail(&entry)["via_client"].is_string());

    // Bad input names the field; an unknown client is 404; what cannot change is refused.
    let (status, v) = patch(
        &s,
        &id,
        json!({"redirect_uris": ["http://x.vn/cb"]}),
        &token,
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str(), v["field"].as_str()),
        (400, Some("invalid_client_metadata"), Some("redirect_uri")),
        "{v}"
    );
    let (status, _) = patch(&s, "no-such-client", json!({"name": "X"}), &token).await;
    assert_eq!(status, 404);
    let (status, v) = patch(&s, &id, json!({"kind": "bank"}), &token).await;
    assert!(status == 400 && v["error_description"].as_str().unwrap().contains("kind"));
    let (status, v) = patch(&s, &id, json!({"min_account_level": 3}), &token).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("min_account_level"))
    );
    // Moving the redirect URIs to another host would move the pairwise sector: refused.
    let moved = json!({"redirect_uris": ["https://other.vn/cb"]});
    let (status, v) = patch(&s, &id, moved, &token).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("redirect_uri")),
        "{v}"
    );
    assert!(v["error_description"].as_str().unwrap().contains("sector"));
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one_at_once() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let (id, old) = create(&s, &token, "portal").await;
    let (status, v) = client_credentials(&s, &id, &old).await;
    assert_eq!(status, 200, "{v}");

    let path = format!("/admin/v1/clients/{id}/secret");
    let (status, v) = call(&s, reqwest::Method::POST, &path, None, &token).await;
    assert_eq!(status, 200, "{v}");
    let new = v["client_secret"].as_str().unwrap();
    assert_ne!(new, old);
    let (status, v) = client_credentials(&s, &id, &old).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    let (status, v) = client_credentials(&s, &id, new).await;
    assert_eq!(status, 200, "{v}");
    let entry = audit_of(&s, &id).await.pop().unwrap();
    assert_eq!(entry.action, "client_secret_rotated");
    assert!(!entry.detail.contains(new) && !entry.detail.contains(&old));
}

#[tokio::test]
async fn a_disabled_client_is_refused_everywhere_and_its_refresh_tokens_end() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let who = s.citizen(501).await;
    let (c, secret) = s.confidential().await;
    let id = c.client_id.to_string();
    let tokens = common::code_flow(&s, &who, &c, &secret).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    // A sign-in under way when the client is disabled.
    let pending = Browser::new();
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &id, &challenge, &[("ui_locales", "en")]);
    let (pending_at, _, login) = pending.go(&url).await;
    assert!(login.contains("action=\"/login\""), "{login}");

    let path = format!("/admin/v1/clients/{id}/disable");
    let why = json!({"reason": "Hợp đồng tạm ngừng"});
    let (status, v) = post(&s, &path, why, &token).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            v["client"]["disabled"].as_bool(),
            v["grants_revoked"].as_u64()
        ),
        (Some(true), Some(1))
    );

    // /authorize: a page that says so, never a redirect to the client.
    let (_, challenge) = pkce();
    let url = authorize_url(&s.base, &id, &challenge, &[("ui_locales", "en")]);
    let (at, status, page) = Browser::new().go(&url).await;
    assert!(!at.as_str().starts_with(REDIRECT_URI), "{at}");
    assert_eq!(status, 400);
    assert!(page.contains("suspended"), "{page}");
    // The sign-in under way ends on the same page, not at the client.
    let input = |name| common::browser::input_value(&login, name).unwrap();
    let (ar, csrf) = (input("ar"), input("csrf"));
    let form = [
        ("ar", ar.as_str()),
        ("csrf", csrf.as_str()),
        ("id_number", who.id_number.as_str()),
        ("password", who.password.as_str()),
    ];
    let (status, page) = pending
        .post_form(&pending_at, "/login", &form)
        .await
        .expect_page();
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("suspended") || page.contains("tạm ngừng"),
        "{page}"
    );
    // /token (the refresh token and client credentials): invalid_client.
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, v) = token_request(&s.base, Some((&id, &secret)), &form).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    // /userinfo with its access token: invalid_token.
    let r = reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // /introspect and /revoke: the client cannot authenticate.
    for endpoint in ["/introspect", "/revoke"] {
        let r = reqwest::Client::new()
            .post(s.url(endpoint))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", access)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{endpoint}");
    }

    // Enabled again: it works, but the grants revoked with the disabling stay revoked.
    let path = format!("/admin/v1/clients/{id}/enable");
    let (status, v) = call(&s, reqwest::Method::POST, &path, None, &token).await;
    assert_eq!(
        (status, v["client"]["disabled"].as_bool()),
        (200, Some(false)),
        "{v}"
    );
    let (status, v) = token_request(&s.base, Some((&id, &secret)), &form).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    common::code_flow(&s, &who, &c, &secret).await;
    let actions: Vec<String> = audit_of(&s, &id)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.ends_with(&["client_disabled".into(), "client_enabled".into()])
            || actions.contains(&"client_disabled".into())
                && actions.contains(&"client_enabled".into()),
        "{actions:?}"
    );
    let disabled = audit_of(&s, &id)
        .await
        .into_iter()
        .find(|e| e.action == "client_disabled")
        .unwrap();
    assert_eq!(detail(&disabled)["reason"], "Hợp đồng tạm ngừng");
}

#[tokio::test]
async fn only_an_admin_officer_manages_clients_and_no_listing_shows_a_secret() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let clerk = common::officer(&s, "CA-2", "officer", "001085000002").await;
    let (id, secret) = create(&s, &token, "portal").await;
    let (status, v) = call(&s, reqwest::Method::GET, "/admin/v1/clients", None, &clerk).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("access_denied")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("admin role")
    );
    let (status, _) = patch(&s, &id, json!({"name": "X"}), &clerk).await;
    assert_eq!(status, 403);
    let path = format!("/admin/v1/clients/{id}/disable");
    let (status, _) = call(&s, reqwest::Method::POST, &path, None, &clerk).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &s,
        reqwest::Method::GET,
        "/admin/v1/clients",
        None,
        "not-a-token",
    )
    .await;
    assert_eq!(status, 401);

    let (status, v) = call(&s, reqwest::Method::GET, "/admin/v1/clients", None, &token).await;
    assert_eq!(status, 200);
    let all = v["clients"].as_array().unwrap();
    assert!(all.iter().any(|c| c["client_id"] == id.as_str()));
    assert!(
        all.len() >= 3,
        "the officers' credentials are clients too: {v}"
    );
    let path = format!("/admin/v1/clients/{id}");
    let (status, one) = call(&s, reqwest::Method::GET, &path, None, &token).await;
    assert_eq!(
        (status, one["name"].as_str()),
        (200, Some("Cổng dịch vụ công tỉnh"))
    );
    for text in [v.to_string(), one.to_string()] {
        assert!(
            !text.contains(&secret) && !text.contains("secret_hash"),
            "{text}"
        );
        assert!(!text.contains("client_secret\""), "{text}");
    }
}

#[tokio::test]
async fn an_admin_cannot_take_over_another_officers_credential_but_can_stop_it() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let clerk = common::officer(&s, "CA-3", "officer", "001085000003").await;
    let all = s.provider.db.clients().await.unwrap();
    let of = |o: &str| {
        let c = all
            .iter()
            .find(|c| c.officer_id.as_deref() == Some(o))
            .unwrap();
        c.client_id.to_string()
    };
    let (theirs, mine) = (of("CA-3"), of("AD-1"));
    // A secret rotated by another admin would let them act as the officer: refused.
    let path = format!("/admin/v1/clients/{theirs}/secret");
    let (status, v) = call(&s, reqwest::Method::POST, &path, None, &token).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("access_denied")),
        "{v}"
    );
    let (status, _) = patch(&s, &theirs, json!({"name": "X"}), &token).await;
    assert_eq!(status, 403);
    // Their own: allowed.
    let path = format!("/admin/v1/clients/{mine}/secret");
    let (status, v) = call(&s, reqwest::Method::POST, &path, None, &token).await;
    assert_eq!(status, 200, "{v}");
    // Stopping another officer's credential is allowed, and their tokens stop at once.
    let path = format!("/admin/v1/accounts/{}/verify", "079190100001");
    let (status, _) = post(&s, &path, json!({}), &clerk).await;
    assert_eq!(status, 400, "the clerk's token works (the body is wrong)");
    let path = format!("/admin/v1/clients/{theirs}/disable");
    let (status, v) = call(&s, reqwest::Method::POST, &path, None, &token).await;
    assert_eq!(status, 200, "{v}");
    let path = format!("/admin/v1/accounts/{}/verify", "079190100001");
    let (status, _) = post(&s, &path, json!({}), &clerk).await;
    assert_eq!(status, 401, "a disabled admin client's token is refused");
}
