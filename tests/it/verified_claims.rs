//! OpenID Connect for Identity Assurance 1.0: `verified_claims` requested through the `claims`
//! parameter, answered for a Level-2 account with the in-person check (unit, evidence, time)
//! and validated against the OpenID Foundation's JSON schemas (vendored in tests/schema/ida,
//! checked by Python's `jsonschema` from tests/interop/install.sh).

use std::path::Path;
use std::process::{Command, Stdio};

use eidp::oidc::clients::NewClient;

use crate::common::{self, Browser, REDIRECT_URI, TestServer, authorize_url, pkce, redeem};
use crate::flow::decode_payload;

const PYTHON: &str = "tests/interop/python/.venv/bin/python";

/// `instance` checked against `schema` of tests/schema/ida; `None` when the validator is not
/// installed (skipped locally, a failure in CI).
fn schema_errors(schema: &str, instance: &serde_json::Value) -> Option<String> {
    schema_errors_in("tests/schema/ida", schema, instance)
}

/// `instance` checked against `schema` of the directory `dir` (every schema there has an
/// `$id`); `None` when the validator is not installed (skipped locally, a failure in CI).
pub fn schema_errors_in(dir: &str, schema: &str, instance: &serde_json::Value) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(PYTHON).exists() {
        let required = std::env::var("CI").is_ok()
            || std::env::var("EIDP_TEST_INTEROP").is_ok_and(|v| v == "1");
        assert!(!required, "{PYTHON} missing: run tests/interop/install.sh");
        eprintln!("SKIPPED (schema validation): run tests/interop/install.sh");
        return None;
    }
    let mut child = Command::new(root.join(PYTHON))
        .arg(root.join("tests/interop/python/validate_schema.py"))
        .arg(root.join(dir))
        .arg(schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(instance.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    Some(if out.status.success() {
        String::new()
    } else {
        text
    })
}

fn request(trust_framework: serde_json::Value) -> serde_json::Value {
    let ask = serde_json::json!({
        "verification": {"trust_framework": trust_framework},
        "claims": {"name": null, "birthdate": null, "id_number": null},
    });
    serde_json::json!({"userinfo": {"verified_claims": ask}, "id_token": {"verified_claims": ask}})
}

#[tokio::test]
async fn verified_claims_for_a_level_2_account_validate_against_the_ida_schema() {
    let s = TestServer::start().await;
    let who = s.citizen(501).await;
    crate::common::fapi::make_level2(&s, &who).await;
    let (portal, secret) = s
        .client(NewClient {
            name: "Cổng dịch vụ công".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let asked = request(serde_json::json!({"value": "vn_eid"}));
    if let Some(errors) = schema_errors("verified_claims_request.json", &asked) {
        assert_eq!(errors, "", "our test request itself");
    }
    let (verifier, challenge) = pkce();
    let claims = asked.to_string();
    let url = authorize_url(
        &s.base,
        &portal.client_id,
        &challenge,
        &[("claims", &claims)],
    );
    let cb = Browser::new()
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    let tokens = redeem(&s, &portal.client_id, &secret, &cb, &verifier).await;
    let info = common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
    let idt = decode_payload(tokens["id_token"].as_str().unwrap());
    for (what, doc) in [("userinfo", &info), ("id token", &idt)] {
        let vc = &doc["verified_claims"];
        assert_eq!(
            vc["verification"]["trust_framework"], "vn_eid",
            "{what}: {doc}"
        );
        assert_eq!(vc["verification"]["assurance_level"], "level2");
        assert_eq!(vc["claims"]["id_number"], who.id_number.as_str());
        assert_eq!(vc["claims"]["name"], "Trần Thị Bình");
        let evidence = &vc["verification"]["evidence"][0];
        assert_eq!(evidence["type"], "document");
        assert_eq!(evidence["document_details"]["type"], "idcard");
        assert_eq!(
            evidence["check_details"][0]["organization"],
            "Công an phường Hàng Bài"
        );
        assert!(
            !doc.to_string().contains("cb-017"),
            "never the officer: {doc}"
        );
        if let Some(errors) = schema_errors("verified_claims.json", doc) {
            assert_eq!(errors, "", "{what} against verified_claims.json: {doc}");
        }
    }
    // The release is in the person's history, by name.
    let audit = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "disclosure" && a.detail.contains("\"verified_claims\":[\"name\"")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn no_verified_claims_for_level_1_or_another_trust_framework() {
    let s = TestServer::start().await;
    let who = s.citizen(502).await;
    let (c, secret) = s.confidential().await;
    for (n, tf) in [
        (0, serde_json::Value::Null),
        (1, serde_json::json!({"value": "eidas"})),
    ] {
        if n == 1 {
            s.provider
                .db
                .set_level(&who.sub, 2, s.provider.now())
                .await
                .unwrap();
        }
        let (verifier, challenge) = pkce();
        let claims = request(tf).to_string();
        let url = authorize_url(&s.base, &c.client_id, &challenge, &[("claims", &claims)]);
        let cb = Browser::new()
            .sign_in(&url, &who.id_number, &who.password)
            .await
            .expect_redirect();
        let tokens = redeem(&s, &c.client_id, &secret, &cb, &verifier).await;
        let info = common::userinfo(&s, tokens["access_token"].as_str().unwrap()).await;
        assert!(info.get("verified_claims").is_none(), "case {n}: {info}");
    }
}

#[tokio::test]
async fn discovery_advertises_identity_assurance() {
    let s = TestServer::start().await;
    let meta = crate::common::discovery(&s).await;
    assert_eq!(meta["verified_claims_supported"], true);
    assert_eq!(
        meta["trust_frameworks_supported"],
        serde_json::json!(["vn_eid"])
    );
    assert_eq!(meta["evidence_supported"], serde_json::json!(["document"]));
    assert_eq!(meta["documents_supported"], serde_json::json!(["idcard"]));
    let claims = meta["claims_in_verified_claims_supported"]
        .as_array()
        .unwrap();
    assert!(claims.iter().any(|c| c == "id_number"), "{meta}");
}
