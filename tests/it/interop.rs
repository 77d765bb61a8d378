//! Other certified relying-party libraries complete the flow unchanged: Node's
//! `openid-client` and Python's Authlib (scripts in tests/interop/). Their dependencies come
//! from `tests/interop/install.sh`; without them the tests are skipped locally and fail in CI.

use std::path::Path;
use std::process::Command;

use crate::common::{REDIRECT_URI, TestServer};

fn required() -> bool {
    std::env::var("CI").is_ok() || std::env::var("EIDP_TEST_INTEROP").is_ok_and(|v| v == "1")
}

/// Run an RP script against a fresh server, with a client registered for `auth_method` (the
/// method the script uses: the provider holds a client to the one it registered).
async fn run(n: u32, program: &str, script: &str, installed: &str, auth_method: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(installed).exists() {
        assert!(
            !required(),
            "{installed} is missing: run tests/interop/install.sh"
        );
        eprintln!("SKIPPED ({script}): run tests/interop/install.sh to enable it");
        return;
    }
    let s = TestServer::start().await;
    let who = s.citizen(n).await;
    let (c, secret) = s
        .client(eidp::oidc::clients::NewClient {
            name: "Cổng dịch vụ công".into(),
            kind: "portal".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            auth_method: Some(auth_method.into()),
            min_account_level: Some(1),
            ..Default::default()
        })
        .await;
    let secret = secret.unwrap();
    let program = root.join(program);
    let program = if program.exists() {
        program.into_os_string()
    } else {
        "node".into()
    };
    let mut cmd = Command::new(program);
    cmd.arg(root.join(script))
        .env("EIDP_ISSUER", &s.base)
        .env("EIDP_CLIENT_ID", c.client_id.as_str())
        .env("EIDP_CLIENT_SECRET", &secret)
        .env("EIDP_REDIRECT_URI", REDIRECT_URI)
        .env("EIDP_ID_NUMBER", &who.id_number)
        .env("EIDP_PASSWORD", &who.password);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script}: last line is not JSON ({e}): {stdout}"));
    assert_eq!(line["sub"], s.sub_at(&c, &who.sub), "{script}: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_completes_the_flow() {
    run(
        70,
        "node",
        "tests/interop/node/rp.mjs",
        "tests/interop/node/node_modules/openid-client",
        "client_secret_basic",
    )
    .await;
}

/// The FAPI 2.0 bank flow with `openid-client` v6: JAR + PAR + private_key_jwt + DPoP, the
/// face step (asked with `acr_values`), the KYC assertion and a bound refresh
/// (tests/interop/node/bank.mjs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_completes_the_bank_flow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root
        .join("tests/interop/node/node_modules/openid-client")
        .exists()
    {
        assert!(!required(), "run tests/interop/install.sh");
        eprintln!("SKIPPED (bank.mjs): run tests/interop/install.sh to enable it");
        return;
    }
    let s = TestServer::start().await;
    let who = s.citizen(72).await;
    crate::common::fapi::make_level2(&s, &who).await;
    let bank = crate::common::fapi::Bank::register(&s).await;
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/interop/node/bank.mjs"))
        .env("EIDP_ISSUER", &s.base)
        .env("EIDP_CLIENT_ID", bank.id())
        .env("EIDP_CLIENT_KEY", bank.key.pkcs8_base64())
        .env("EIDP_CLIENT_KID", "bank-1")
        .env("EIDP_REDIRECT_URI", REDIRECT_URI)
        .env("EIDP_ID_NUMBER", &who.id_number)
        .env("EIDP_PASSWORD", &who.password)
        .env("EIDP_SMS_OUTBOX", s.outbox_path())
        .env("EIDP_FACE_IMAGE", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(crate::face::jpeg())
        });
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bank.mjs failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bank.mjs: last line is not JSON ({e}): {stdout}"));
    assert_eq!(line["sub"], s.sub_at(&bank.client, &who.sub), "{line}");
    assert_eq!(line["kyc_status"], 200, "{line}");
    let kyc = crate::flow::decode_payload(line["kyc"].as_str().unwrap());
    assert_eq!(kyc["aud"], bank.id(), "{kyc}");
    assert_eq!(kyc["id_number"], who.id_number.as_str());
    assert!(
        kyc["amr"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("face"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_authlib_completes_the_flow() {
    run(
        71,
        "tests/interop/python/.venv/bin/python",
        "tests/interop/python/rp.py",
        "tests/interop/python/.venv/bin/python",
        "client_secret_post",
    )
    .await;
}
