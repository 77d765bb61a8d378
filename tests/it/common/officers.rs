//! Officers for tests: made with the real CLI, each with their own admin credential.

use super::{TestServer, token_request};

/// An officer made with the CLI (with their own ID number), and an access token of the
/// officer's own admin credential.
pub async fn officer(s: &TestServer, id: &str, role: &str, id_number: &str) -> String {
    let (ok, out, err) = s.cli(
        &[
            "admin",
            "officers",
            "create",
            "--officer-id",
            id,
            "--name",
            "Cán bộ",
            "--role",
            role,
            "--id-number",
            id_number,
            "--unit",
            "Công an phường Hàng Bài",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let (cid, secret) = (
        v["client_id"].as_str().unwrap(),
        v["client_secret"].as_str().unwrap(),
    );
    let (status, tok) = token_request(
        &s.base,
        Some((cid, secret)),
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    assert_eq!(status, 200, "{tok}");
    tok["access_token"].as_str().unwrap().to_string()
}
