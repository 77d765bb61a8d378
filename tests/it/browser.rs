//! The real-browser passkey test: headless Chromium (Debian's `chromium`) driven by
//! `playwright-core` over CDP with a virtual authenticator (tests/browser/passkey.mjs). Without
//! chromium or the npm package it is skipped locally and fails in CI.

use std::path::Path;
use std::process::Command;

use crate::common::{REDIRECT_URI, start_on_localhost};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_registers_a_passkey_and_signs_in_with_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists()
        && root
            .join("tests/browser/node_modules/playwright-core")
            .exists();
    if !ready {
        let required = std::env::var("CI").is_ok()
            || std::env::var("EIDP_TEST_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "chromium or playwright-core missing: apt-get install chromium; npm ci in tests/browser"
        );
        eprintln!(
            "SKIPPED (browser passkey test): install chromium and run npm ci in tests/browser"
        );
        return;
    }
    let s = start_on_localhost().await;
    let who = s.citizen(130).await;
    let (c, secret) = s.confidential().await;
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/browser/passkey.mjs"))
        .env("EIDP_ISSUER", &s.base)
        .env("EIDP_CLIENT_ID", &c.client_id)
        .env("EIDP_CLIENT_SECRET", &secret)
        .env("EIDP_REDIRECT_URI", REDIRECT_URI)
        .env("EIDP_ID_NUMBER", &who.id_number)
        .env("EIDP_PASSWORD", &who.password)
        .env("EIDP_OUTBOX", s.outbox_path())
        .env("EIDP_PHONE", crate::common::PHONE)
        .env("CHROMIUM", &chromium);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "browser test failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    eprintln!("browser passkey test: {line}");
    assert_eq!(line["sub"], who.sub.as_str());
    assert_eq!(line["acr"], "urn:vn:eid:loa:3");
}
