//! Changes to a client held to its kind's policy and its pairwise sector: going further past
//! the kind needs a written, audited reason; the sector never moves.

use serde_json::json;

use crate::admin_clients::{admin, audit_of, create, detail, patch, post};
use crate::common::{REDIRECT_URI, TestServer};

#[tokio::test]
async fn going_past_the_kind_needs_a_written_reason_which_is_audited() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    // At registration.
    let wide = json!({"name": "Bệnh viện", "kind": "hospital", "redirect_uris": [REDIRECT_URI],
                      "scopes": ["openid", "eid", "address"]});
    let (status, v) = post(&s, "/admin/v1/clients", wide, &token).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("policy")), "{v}");
    let (id, _) = create(&s, &token, "hospital").await;
    // At a change: refused without a reason, and nothing changes.
    let widen = json!({"scopes": ["openid", "eid", "address"], "refresh_token_ttl": 2_592_000});
    let (status, v) = patch(&s, &id, widen.clone(), &token).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("policy_override")),
        "{v}"
    );
    let text = v["error_description"].as_str().unwrap();
    assert!(
        text.contains("address") && text.contains("refresh tokens"),
        "{text}"
    );
    let stored = s.provider.db.client(&id).await.unwrap().unwrap();
    assert!(!stored.scopes.contains(&"address".to_string()));
    assert!(
        audit_of(&s, &id)
            .await
            .iter()
            .all(|e| e.action != "client_updated")
    );
    // An empty reason is no reason.
    let mut blank = widen.clone();
    blank["policy_override"] = json!("  ");
    let (status, _) = patch(&s, &id, blank, &token).await;
    assert_eq!(status, 400);
    // With a reason: accepted, kept, audited with what went past the policy.
    let reason = "Quyết định 12/QĐ-SYT: khám tại nhà";
    let mut with = widen;
    with["policy_override"] = json!(reason);
    let (status, v) = patch(&s, &id, with, &token).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["policy_override"], reason);
    assert_eq!(v["beyond_policy"].as_array().unwrap().len(), 2, "{v}");
    let entry = audit_of(&s, &id).await.pop().unwrap();
    let d = detail(&entry);
    assert_eq!(entry.action, "client_updated");
    assert_eq!(d["changes"]["policy_override"]["to"], reason, "{d}");
    assert_eq!(d["widened"].as_array().unwrap().len(), 2, "{d}");
    // The reason on record covers what it was given for, not a further step.
    let further = json!({"scopes": ["openid", "eid", "address", "phone"]});
    let (status, v) = patch(&s, &id, further, &token).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("policy_override")),
        "{v}"
    );
    assert!(
        v["error_description"].as_str().unwrap().contains("phone"),
        "{v}"
    );
    // Back within the kind: the override has nothing left to allow, and is dropped.
    let (status, v) = patch(
        &s,
        &id,
        json!({"scopes": ["openid", "eid"], "refresh_token_ttl": null}),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["policy_override"].is_null() && v["beyond_policy"] == json!([]),
        "{v}"
    );
}

#[tokio::test]
async fn a_client_with_a_sector_document_keeps_its_sector() {
    let s = TestServer::start().await;
    let token = admin(&s).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let doc = json!([REDIRECT_URI, "https://other.vn/cb"]).to_string();
    let app = axum::Router::new().route(
        "/sector.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { doc }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = json!({"name": "Nhóm cổng", "kind": "portal", "redirect_uris": [REDIRECT_URI],
                      "sector_identifier_uri": format!("http://127.0.0.1:{port}/sector.json")});
    let (status, v) = post(&s, "/admin/v1/clients", body, &token).await;
    assert_eq!(
        (status, v["client"]["sector"].as_str()),
        (201, Some("127.0.0.1")),
        "{v}"
    );
    let id = v["client"]["client_id"].as_str().unwrap();
    // A redirect URI the document lists: accepted (the document is read again).
    let listed = json!({"redirect_uris": [REDIRECT_URI, "https://other.vn/cb"]});
    let (status, v) = patch(&s, id, listed, &token).await;
    assert_eq!(status, 200, "{v}");
    // One it does not list: refused.
    let (status, v) = patch(
        &s,
        id,
        json!({"redirect_uris": ["https://third.vn/cb"]}),
        &token,
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("does not list"),
        "{v}"
    );
    // The same document under another host is another sector: refused.
    let moved = json!({"sector_identifier_uri": format!("http://localhost:{port}/sector.json")});
    let (status, v) = patch(&s, id, moved, &token).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("sector_identifier_uri")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("from 127.0.0.1 to localhost")
    );
    let stored = s.provider.db.client(id).await.unwrap().unwrap();
    assert_eq!(stored.settings.sector.as_deref(), Some("127.0.0.1"));
}
