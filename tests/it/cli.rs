//! The provisioning contract through the real binary: `eidp admin accounts create` and
//! `eidp admin clients create` with `--json`, on a fresh SQLite database.

use std::process::Command;

use crate::common::run_eidp;

fn eidp(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let db = format!("sqlite://{}", dir.join("data/eidp.db").display());
    let keys = dir.join("keys");
    run_eidp(
        &[
            ("EIDP_DATABASE_URL", &db),
            ("EIDP_KEYS_DIR", keys.to_str().unwrap()),
        ],
        Some(dir),
        args,
        stdin,
    )
}

#[test]
fn admin_creates_accounts_and_clients_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "admin",
        "accounts",
        "create",
        "--id-number",
        "048195000123",
        "--phone",
        "0905123456",
        "--full-name",
        "Lê Văn Cường",
        "--birth-date",
        "1995-07-01",
        "--password-stdin",
        "--json",
    ];
    let (ok, out, err) = eidp(dir.path(), &args, Some("Mật-khẩu-2026!\n"));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (
            v["id_number"].as_str(),
            v["level"].as_i64(),
            v["state"].as_str()
        ),
        (Some("048195000123"), Some(1), Some("active"))
    );
    let (ok, _, err) = eidp(dir.path(), &args, Some("Mật-khẩu-2026!\n"));
    assert!(
        !ok && err.contains("already exists"),
        "duplicate refused: {err}"
    );
    // The ID number's century/sex digit says male born 1995; a mismatching birth year is named.
    let bad = [
        "admin",
        "accounts",
        "create",
        "--id-number",
        "048195000124",
        "--phone",
        "0905123456",
        "--full-name",
        "X",
        "--birth-date",
        "1994-07-01",
        "--password-stdin",
    ];
    let (ok, _, err) = eidp(dir.path(), &bad, Some("Mật-khẩu-2026!\n"));
    assert!(!ok && err.contains("id_number"), "{err}");
    let weak = [
        "admin",
        "accounts",
        "create",
        "--id-number",
        "048195000125",
        "--phone",
        "0905123456",
        "--full-name",
        "X",
        "--birth-date",
        "1995-07-01",
        "--password-stdin",
    ];
    let (ok, _, err) = eidp(dir.path(), &weak, Some("password\n"));
    assert!(!ok && err.contains("password"), "{err}");

    let (ok, out, err) = eidp(
        dir.path(),
        &[
            "admin",
            "clients",
            "create",
            "--name",
            "Bệnh viện",
            "--kind",
            "hospital",
            "--redirect-uri",
            "https://bv.example.vn/cb",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["client_id"].is_string());
    assert!(
        v["client_secret"].as_str().unwrap().len() >= 43,
        "high-entropy secret"
    );
    assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");
    let (ok, _, err) = eidp(
        dir.path(),
        &[
            "admin", "clients", "create", "--name", "X", "--kind", "shop", "--json",
        ],
        None,
    );
    assert!(!ok && err.contains("kind"), "{err}");
    // A back-channel logout endpoint: https (plain http only on loopback), checked here.
    let with_bcl = |uri: &'static str| {
        [
            "admin",
            "clients",
            "create",
            "--name",
            "Cổng",
            "--kind",
            "portal",
            "--redirect-uri",
            "https://cong.example.vn/cb",
            "--backchannel-logout-uri",
            uri,
            "--backchannel-logout-session-required",
            "--json",
        ]
    };
    let (ok, _, err) = eidp(dir.path(), &with_bcl("http://cong.example.vn/bcl"), None);
    assert!(!ok && err.contains("backchannel_logout_uri"), "{err}");
    let (ok, _, err) = eidp(dir.path(), &with_bcl("https://cong.example.vn/bcl"), None);
    assert!(ok, "{err}");
    let (ok, out, err) = eidp(
        dir.path(),
        &["admin", "backchannel", "list", "--json"],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"deliveries\":[]"), "{out}");
}

#[test]
fn production_refuses_development_keys_and_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_eidp"));
        c.arg("serve")
            .current_dir(dir.path())
            .env("EIDP_DATABASE_URL", "sqlite::memory:")
            .env("EIDP_LISTEN", "127.0.0.1:0");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, err) = run(&[
        ("EIDP_MODE", "production"),
        ("EIDP_ISSUER", "https://id.example.vn"),
    ]);
    assert!(
        !ok && err.contains("EIDP_KEK"),
        "no dev keys in production: {err}"
    );
    let kek = eidp::crypto::b64url(&[7u8; 32]);
    let (ok, err) = run(&[
        ("EIDP_MODE", "production"),
        ("EIDP_ISSUER", "http://id.example.vn"),
        ("EIDP_KEK", &kek),
    ]);
    assert!(
        !ok && err.contains("https"),
        "no plain-http issuer in production: {err}"
    );
}

/// Parse one JSON line the CLI printed.
fn json_of(ok: bool, out: &str, err: &str) -> serde_json::Value {
    assert!(ok, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn admin_manages_clients_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| eidp(dir.path(), args, None);
    let (ok, out, err) = run(&[
        "admin",
        "clients",
        "create",
        "--name",
        "Bệnh viện",
        "--kind",
        "hospital",
        "--redirect-uri",
        "https://bv.example.vn/cb",
        "--json",
    ]);
    let created = json_of(ok, &out, &err);
    let id = created["client_id"].as_str().unwrap().to_string();
    let first = created["client_secret"].as_str().unwrap().to_string();

    // list and show: the registration, never a secret.
    let (ok, out, err) = run(&["admin", "clients", "list", "--json"]);
    let all = json_of(ok, &out, &err);
    assert_eq!(all["clients"][0]["client_id"], id.as_str());
    assert!(
        !out.contains(&first) && !out.contains("secret_hash"),
        "{out}"
    );
    let (ok, out, err) = run(&["admin", "clients", "list"]);
    assert!(ok && out.contains(&id) && out.contains("hospital"), "{err}");
    let (ok, out, err) = run(&["admin", "clients", "show", "--client-id", &id, "--json"]);
    assert_eq!(json_of(ok, &out, &err)["kind"], "hospital");
    let (ok, _, err) = run(&["admin", "clients", "show", "--client-id", "nobody"]);
    assert!(!ok && err.contains("no client"), "{err}");

    // update: narrowing is a change; going past the kind needs the written reason.
    let (ok, out, err) = run(&[
        "admin",
        "clients",
        "update",
        "--client-id",
        &id,
        "--scopes",
        "openid,eid",
        "--json",
    ]);
    assert_eq!(
        json_of(ok, &out, &err)["scopes"],
        serde_json::json!(["openid", "eid"])
    );
    let widen = [
        "admin",
        "clients",
        "update",
        "--client-id",
        &id,
        "--scopes",
        "openid,eid,address",
    ];
    let (ok, _, err) = run(&widen);
    assert!(!ok && err.contains("policy_override"), "{err}");
    let reason = ["--policy-override", "Quyết định 7/QĐ-SYT", "--json"];
    let (ok, out, err) = run(&[&widen[..], &reason[..]].concat());
    assert_eq!(
        json_of(ok, &out, &err)["policy_override"],
        "Quyết định 7/QĐ-SYT"
    );
    let (ok, _, err) = run(&[
        "admin",
        "clients",
        "update",
        "--client-id",
        &id,
        "--access-token-ttl",
        "soon",
    ]);
    assert!(!ok && err.contains("--access-token-ttl"), "{err}");

    // rotate-secret: a new one, shown once.
    let (ok, out, err) = run(&[
        "admin",
        "clients",
        "rotate-secret",
        "--client-id",
        &id,
        "--json",
    ]);
    let rotated = json_of(ok, &out, &err);
    let second = rotated["client_secret"].as_str().unwrap();
    assert!(second.len() >= 43 && second != first);

    // disable and enable.
    let (ok, out, err) = run(&[
        "admin",
        "clients",
        "disable",
        "--client-id",
        &id,
        "--reason",
        "audit",
        "--json",
    ]);
    let disabled = json_of(ok, &out, &err);
    assert_eq!(disabled["client"]["disabled"], true);
    assert_eq!(disabled["grants_revoked"], 0);
    let (ok, out, err) = run(&["admin", "clients", "enable", "--client-id", &id, "--json"]);
    assert_eq!(json_of(ok, &out, &err)["disabled"], false);

    // Each change is in the audit log, by `cli`, without a secret.
    let (ok, out, err) = run(&["admin", "audit", "export", "--since", "0"]);
    assert!(ok, "{err}");
    let actions: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["client_id"] == id.as_str() && e["actor"] == "cli")
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "client_registered",
            "client_updated",
            "client_updated",
            "client_secret_rotated",
            "client_disabled",
            "client_enabled"
        ],
        "{out}"
    );
    assert!(!out.contains(&first) && !out.contains(second));
}
