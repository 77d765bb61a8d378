//! The cleansing report on generated registers (issue #18): none on a clean one, every class
//! on a dirty one, in the file's report and the register's; the same findings and scores when
//! the report's scans run in several passes.

use serde_json::Value;

use crate::common::TestServer;
use crate::register_cleanse::{found, report, servers};

/// A generated register of 4 000 rows; its seed is the defect rate's, so two never overlap.
fn generated(s: &TestServer, dir: &std::path::Path, defects: &str) -> String {
    let seed = if defects == "0" { "9" } else { "10" };
    let args = [
        "admin",
        "citizens",
        "generate",
        "--count",
        "4000",
        "--seed",
        seed,
        "--defects",
        defects,
    ];
    let (ok, out, err) = s.cli(&args, None);
    assert!(ok, "{err}");
    let file = dir.join(format!("register-{defects}.csv"));
    std::fs::write(&file, out).unwrap();
    file.to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_clean_generated_register_has_no_findings_and_a_dirty_one_every_class() {
    for s in servers().await {
        let dir = tempfile::tempdir().unwrap();
        let clean = generated(&s, dir.path(), "0");
        let (ok, out, err) = s.cli(&["admin", "citizens", "import", &clean, "--json"], None);
        assert!(ok, "{err}");
        let r: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(found(&r["cleansing"]), vec![], "{}", r["cleansing"]);
        for q in ["correct", "complete", "clean", "live"] {
            assert_eq!(r["cleansing"]["scores"][q]["score"], 100.0, "{q}");
        }
        assert_eq!(found(&report(&s)), vec![]);

        let dirty = generated(&s, dir.path(), "0.05");
        let path = dir.path().join("report.json");
        let args = [
            "admin",
            "citizens",
            "import",
            &dirty,
            "--report",
            path.to_str().unwrap(),
        ];
        let (ok, text, err) = s.cli(&args, None);
        assert!(ok, "{err}");
        assert!(text.contains("clean    (sạch)"), "{text}");
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let names: Vec<String> = found(&written["cleansing"])
            .into_iter()
            .map(|f| f.0)
            .collect();
        let reg = report(&s);
        let in_register: Vec<String> = found(&reg).into_iter().map(|f| f.0).collect();
        for check in [
            "duplicate_person",
            "cmnd_shared",
            "cmnd_unlinked",
            "household_no_head",
            "household_several_heads",
            "household_head_under_15",
            "household_head_not_member",
            "household_relation_age",
            "card_expired",
            "phone_shared",
        ] {
            assert!(names.contains(&check.to_string()), "{check} in {names:?}");
            assert!(in_register.contains(&check.to_string()), "{check}");
        }
        assert!(reg["scores"]["clean"]["score"].as_f64().unwrap() < 100.0);
        assert_eq!(reg["records"], 8000);
        // In passes of 1 500 persons (six, the CMND aliases read by the first and kept): the
        // same findings about the same persons, the same scores.
        let args = [
            "admin",
            "citizens",
            "report",
            "--json",
            "--pass-size",
            "1500",
        ];
        let (ok, out, err) = s.cli(&args, None);
        assert!(ok, "{err}");
        let passes: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(persons_found(&passes), persons_found(&reg));
        assert_eq!(passes["scores"], reg["scores"]);
    }
}

/// Per check, the count and the persons of each finding, in one order whatever the passes
/// (where the list is cut short, which findings it names depends on the passes: the count).
fn persons_found(report: &Value) -> Vec<(String, u64, Vec<String>)> {
    let mut out = Vec::new();
    for (check, section) in report["findings"].as_object().unwrap() {
        let listed = section["listed"].as_array().unwrap();
        let count = section["count"].as_u64().unwrap();
        let mut persons: Vec<String> = listed.iter().map(|f| f["persons"].to_string()).collect();
        persons.sort();
        if (persons.len() as u64) < count {
            persons = vec![format!("{} listed", persons.len())];
        }
        out.push((check.clone(), count, persons));
    }
    out
}
