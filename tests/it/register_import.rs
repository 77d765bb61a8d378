//! The register import at speed, safely (issue #18): streamed, batched, unchanged rows
//! recognised by their content hash and not written, CSV and JSON Lines, a dry run, and an
//! import killed half-way that leaves whole batches only and completes when run again.

use std::time::Duration;

use crate::common::TestServer;

/// A synthetic register of `count` rows in a file; the file and its ID numbers.
fn generated(s: &TestServer, dir: &std::path::Path, count: usize) -> (String, Vec<String>) {
    let n = count.to_string();
    let (ok, csv, err) = s.cli(
        &[
            "admin", "citizens", "generate", "--count", &n, "--seed", "11",
        ],
        None,
    );
    assert!(ok, "{err}");
    let ids = csv.lines().skip(1).map(|l| l[..12].to_string()).collect();
    let file = dir.join("register.csv");
    std::fs::write(&file, csv).unwrap();
    (file.to_str().unwrap().to_string(), ids)
}

fn import(s: &TestServer, file: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["admin", "citizens", "import", file, "--json"];
    args.extend_from_slice(extra);
    let (ok, out, err) = s.cli(&args, None);
    assert!(ok, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

fn counts(r: &serde_json::Value) -> [u64; 4] {
    ["rows", "imported", "updated", "unchanged"].map(|k| r[k].as_u64().unwrap())
}

async fn register_entries(s: &TestServer) -> usize {
    let log = s.provider.db.audit_since(0, i64::MAX).await.unwrap();
    log.iter()
        .filter(|e| e.action == "register_updated")
        .count()
}

#[tokio::test]
async fn an_identical_reimport_reports_every_row_unchanged_and_writes_nothing() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, ids) = generated(&s, dir.path(), 5_000);
    // A dry run first: the counts of an import, nothing written.
    let dry = import(&s, &file, &["--dry-run"]);
    assert_eq!(counts(&dry), [5_000, 5_000, 0, 0], "{dry}");
    assert_eq!(s.provider.db.person(&ids[0]).await.unwrap(), None);
    assert_eq!(register_entries(&s).await, 0);

    let first = import(&s, &file, &[]);
    assert_eq!(counts(&first), [5_000, 5_000, 0, 0], "{first}");
    let before = s.provider.db.person(&ids[17]).await.unwrap().unwrap();
    let entries = register_entries(&s).await;
    let batch = eidp::identity::register::import::BATCH;
    assert_eq!(
        entries,
        5_000usize.div_ceil(batch),
        "one history entry per batch written"
    );

    let again = import(&s, &file, &[]);
    assert_eq!(counts(&again), [5_000, 0, 0, 5_000], "{again}");
    assert_eq!(s.provider.db.person(&ids[17]).await.unwrap(), Some(before));
    assert_eq!(
        register_entries(&s).await,
        entries,
        "nothing written, nothing recorded"
    );

    // One row changed: one update, the rest unchanged.
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().nth(18).unwrap();
    let changed = line.replacen(",VN,", ",LA,", 1);
    assert_ne!(
        line, changed,
        "the generated row has a nationality to change"
    );
    std::fs::write(&file, text.replacen(line, &changed, 1)).unwrap();
    let third = import(&s, &file, &[]);
    assert_eq!(counts(&third), [5_000, 0, 1, 4_999], "{third}");
}

#[tokio::test]
async fn json_lines_are_imported_like_csv() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.jsonl");
    let rows = [
        r#"{"id_number":"079301000123","full_name":"Võ Thị Hồng","birth_date":"2001-04-30","sex":"female","phone":"0901234567"}"#,
        r#"{"id_number":"001085000456","full_name":"Đặng Văn Nam","birth_date":"1985-12-01","sex":"male"}"#,
        r#"["not", "an", "object"]"#,
    ];
    std::fs::write(&file, rows.join("\n")).unwrap();
    let r = import(&s, file.to_str().unwrap(), &[]);
    assert_eq!(counts(&r), [3, 2, 0, 0], "{r}");
    assert_eq!(r["invalid"][0]["line"], 3);
    let hong = s.provider.db.person("079301000123").await.unwrap().unwrap();
    assert_eq!(hong.phone.as_deref(), Some("+84901234567"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_half_way_leaves_whole_batches_and_a_rerun_completes() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, ids) = generated(&s, dir.path(), 100_000);
    let mut child = s
        .cli_command(&["admin", "citizens", "import", &file, "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the first batches are in. A batch's history entry is written with it (on
    // SQLite's file several batches per commit), or before it, up to three batches in flight
    // (PostgreSQL): a fourth entry is recorded only after the first batch is written.
    for _ in 0..2_000 {
        if register_entries(&s).await >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written = s.provider.db.person_hashes(&ids).await.unwrap().len();
    let batch = eidp::identity::register::import::BATCH;
    assert!(
        written > 0 && written < ids.len(),
        "killed half-way: {written}"
    );
    assert_eq!(written % batch, 0, "whole batches only: {written}");
    let r = import(&s, &file, &[]);
    let expect = [ids.len(), ids.len() - written, 0, written].map(|n| n as u64);
    assert_eq!(counts(&r), expect, "{r}");
    assert_eq!(
        s.provider.db.person_hashes(&ids).await.unwrap().len(),
        ids.len()
    );
}

#[tokio::test]
async fn officers_with_the_admin_role_upload_a_register_file() {
    let s = TestServer::start().await;
    let admin = crate::common::officer(&s, "qt-1", "admin", "001080000111").await;
    let clerk = crate::common::officer(&s, "cb-2", "officer", "001080000222").await;
    let dir = tempfile::tempdir().unwrap();
    let (file, ids) = generated(&s, dir.path(), 3_000);
    let csv = std::fs::read(&file).unwrap();
    let upload = |token: &str, query: &str| {
        reqwest::Client::new()
            .post(s.url(&format!("/admin/v1/citizens/import{query}")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
    };
    let refused = upload(&clerk, "").await.unwrap();
    assert_eq!(refused.status(), 403);
    let dry: serde_json::Value = upload(&admin, "?dry_run=true")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts(&dry), [3_000, 3_000, 0, 0], "{dry}");
    assert_eq!(s.provider.db.person(&ids[0]).await.unwrap(), None);
    let done = upload(&admin, "").await.unwrap();
    assert_eq!(done.status(), 200);
    let r: serde_json::Value = done.json().await.unwrap();
    assert_eq!(counts(&r), [3_000, 3_000, 0, 0], "{r}");
    let log = s.provider.db.audit_since(0, i64::MAX).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "register_updated" && e.actor == "officer:qt-1"),
        "the officer is named in the history"
    );
}
