//! The register's cleansing report (issue #18): each defect class found on a crafted file —
//! the finding and its evidence — and none on a clean generated register; a death locks the
//! account (reason `deceased`, audited); `admin citizens report` on the register as it
//! stands. Each test runs on SQLite, and on PostgreSQL too when EIDP_TEST_DATABASE_URL is set.

use eidp::identity::Sex;
use eidp::identity::id_number::make;
use serde_json::Value;

use crate::common::{Options, TestServer, services};

/// A fresh SQLite server, and a PostgreSQL one when the suite has a database.
pub(crate) async fn servers() -> Vec<TestServer> {
    let mut out = vec![TestServer::start().await];
    if let Some(url) = services::fresh_postgres().await {
        let o = Options {
            database_url: Some(url),
            ..Default::default()
        };
        out.push(TestServer::start_with(o).await);
    }
    out
}

const HEADER: &str = "id_number,full_name,birth_date,sex,residence,household_id,\
                      household_relation,phone,cmnd,card_expires_on,deceased_on";

/// One crafted row; `id` is a 12-digit number built from the birth year and sex.
#[derive(Clone)]
struct Row {
    id: String,
    name: &'static str,
    born: &'static str,
    male: bool,
    residence: &'static str,
    household: String,
    relation: &'static str,
    phone: String,
    cmnd: String,
    card: &'static str,
    deceased: &'static str,
}

fn id(born: &str, male: bool, serial: u32) -> String {
    let year: u16 = born[..4].parse().unwrap();
    let sex = if male { Sex::Male } else { Sex::Female };
    make("001", year, sex, serial).unwrap().as_str().to_string()
}

/// A plausible person with their own phone and CMND, head of their own household `n`.
fn person(n: u32, name: &'static str, born: &'static str, male: bool) -> Row {
    Row {
        id: id(born, male, 100_000 + n),
        name,
        born,
        male,
        residence: "Số 12 Lê Lợi, Hà Nội",
        household: format!("HH{n:04}"),
        relation: "head",
        phone: format!("0912{n:06}"),
        cmnd: format!("0123{n:05}"),
        card: "2040-01-01",
        deceased: "",
    }
}

/// A member of `head`'s household.
fn member(head: &Row, n: u32, relation: &'static str, born: &'static str) -> Row {
    Row {
        relation,
        household: head.household.clone(),
        ..person(n, "Lê Thị Hoa", born, false)
    }
}

fn csv(rows: &[Row]) -> String {
    let mut out = vec![HEADER.to_string()];
    for r in rows {
        let sex = if r.male { "male" } else { "female" };
        out.push(
            [
                r.id.as_str(),
                r.name,
                r.born,
                sex,
                &format!("\"{}\"", r.residence),
                &r.household,
                r.relation,
                &r.phone,
                &r.cmnd,
                r.card,
                r.deceased,
            ]
            .join(","),
        );
    }
    out.join("\n") + "\n"
}

/// Import `rows` through the CLI; the whole JSON report.
fn import(s: &TestServer, rows: &[Row], extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.csv");
    std::fs::write(&file, csv(rows)).unwrap();
    let mut args = vec![
        "admin",
        "citizens",
        "import",
        file.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let (ok, out, err) = s.cli(&args, None);
    assert!(ok, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

pub(crate) fn report(s: &TestServer) -> Value {
    let (ok, out, err) = s.cli(&["admin", "citizens", "report", "--json"], None);
    assert!(ok, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

/// The counts of every check that found something.
pub(crate) fn found(cleansing: &Value) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = cleansing["findings"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| (k.clone(), s["count"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    v.sort();
    v
}

fn first(cleansing: &Value, check: &str) -> Value {
    cleansing["findings"][check]["listed"][0].clone()
}

fn a_family() -> Vec<Row> {
    let head = person(1, "Nguyễn Văn An", "1970-03-01", true);
    let spouse = member(&head, 2, "spouse", "1972-05-05");
    let child = Row {
        phone: String::new(),
        cmnd: String::new(),
        card: "",
        ..member(&head, 3, "child", "2012-07-07")
    };
    vec![head, spouse, child]
}

#[tokio::test]
async fn a_crafted_clean_family_has_no_findings() {
    for s in servers().await {
        let r = import(&s, &a_family(), &[]);
        assert_eq!(found(&r["cleansing"]), vec![], "{}", r["cleansing"]);
        assert_eq!(r["cleansing"]["scores"]["clean"]["score"], 100.0);
    }
}

#[tokio::test]
async fn the_same_person_under_two_numbers_with_the_shared_cmnd_as_evidence() {
    for s in servers().await {
        let a = person(1, "Nguyễn Văn An", "1970-03-01", true);
        let b = Row {
            id: id("1970-03-01", true, 200_001),
            name: "NGUYỄN  văn An",
            phone: "0988000001".into(),
            household: "HH9999".into(),
            ..a.clone()
        };
        let r = import(&s, &[a.clone(), b.clone()], &[]);
        let c = &r["cleansing"];
        let f = first(c, "duplicate_person");
        assert_eq!(f["persons"], serde_json::json!([a.id, b.id]), "{c}");
        assert_eq!(f["confidence"], 0.95);
        assert_eq!(f["evidence"]["shared_cmnd"][0], a.cmnd.as_str());
        assert_eq!(f["evidence"]["shared_phone"], Value::Null);
        assert_eq!(c["findings"]["duplicate_person"]["count"], 1);
        assert_eq!(c["scores"]["clean"]["problems"]["duplicate_person"], 2);
    }
}

#[tokio::test]
async fn a_duplicate_is_found_against_the_register_already_loaded() {
    for s in servers().await {
        let a = person(1, "Trần Thị Bình", "1985-08-08", false);
        let first_file = import(&s, std::slice::from_ref(&a), &[]);
        assert_eq!(found(&first_file["cleansing"]), vec![]);
        // Another number, another CMND, the same phone: found, with the lower confidence.
        let b = Row {
            id: id("1985-08-08", false, 300_001),
            cmnd: "098765432".into(),
            household: "HH7777".into(),
            ..a.clone()
        };
        let r = import(&s, std::slice::from_ref(&b), &[]);
        let f = first(&r["cleansing"], "duplicate_person");
        assert_eq!(f["persons"], serde_json::json!([a.id, b.id]), "{r}");
        assert_eq!(f["confidence"], 0.8);
        assert_eq!(f["evidence"]["shared_phone"], "+84912000001");
    }
}

#[tokio::test]
async fn an_old_cmnd_pointing_at_two_persons() {
    for s in servers().await {
        let a = person(1, "Phạm Văn Cường", "1960-01-01", true);
        let b = Row {
            cmnd: a.cmnd.clone(),
            ..person(2, "Đỗ Thị Mai", "1975-02-02", false)
        };
        let r = import(&s, &[a.clone(), b.clone()], &[]);
        let c = &r["cleansing"];
        assert_eq!(found(c), vec![("cmnd_shared".into(), 1)], "{c}");
        let f = first(c, "cmnd_shared");
        assert_eq!(f["evidence"]["cmnd"], a.cmnd.as_str());
        assert_eq!(f["persons"], serde_json::json!([a.id, b.id]));
    }
}

#[tokio::test]
async fn a_cmnd_never_linked_to_the_12_digit_number() {
    for s in servers().await {
        let mut rows = a_family();
        rows[1].cmnd.clear();
        let r = import(&s, &rows, &[]);
        let c = &r["cleansing"];
        assert_eq!(found(c), vec![("cmnd_unlinked".into(), 1)], "{c}");
        let f = first(c, "cmnd_unlinked");
        assert_eq!(f["persons"][0], rows[1].id.as_str());
        assert_eq!(f["line"], 3);
        assert_eq!(f["evidence"]["born_by"], "2001-12-31");
        let reg = report(&s);
        assert_eq!(found(&reg), vec![("cmnd_unlinked".into(), 1)], "{reg}");
    }
}

/// A family with one change; the one household finding it makes, and its evidence.
async fn household_case(change: fn(&mut Vec<Row>), check: &str) -> Vec<(Vec<Row>, Value)> {
    let mut out = Vec::new();
    for s in servers().await {
        let mut rows = a_family();
        change(&mut rows);
        let r = import(&s, &rows, &[]);
        let c = &r["cleansing"];
        assert_eq!(found(c), vec![(check.to_string(), 1)], "{c}");
        let f = first(c, check);
        assert_eq!(f["household_id"], "HH0001");
        out.push((rows, f));
    }
    out
}

#[tokio::test]
async fn a_household_without_a_head() {
    for (_, f) in household_case(|r| r[0].relation = "other", "household_no_head").await {
        assert_eq!(f["persons"].as_array().unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_household_with_two_heads() {
    let change: fn(&mut Vec<Row>) = |r| r[1].relation = "head";
    for (rows, f) in household_case(change, "household_several_heads").await {
        assert_eq!(
            f["evidence"]["heads"],
            serde_json::json!([rows[0].id, rows[1].id])
        );
    }
}

#[tokio::test]
async fn a_head_under_15() {
    let change: fn(&mut Vec<Row>) = |r| {
        let mut child = r[2].clone();
        child.relation = "head";
        *r = vec![child];
    };
    for (rows, f) in household_case(change, "household_head_under_15").await {
        assert_eq!(f["persons"][0], rows[0].id.as_str());
        assert_eq!(f["evidence"]["head_birth_date"], "2012-07-07");
    }
}

#[tokio::test]
async fn a_head_who_lives_elsewhere_is_not_a_member() {
    let change: fn(&mut Vec<Row>) = |r| r[0].residence = "Số 99 Hùng Vương, Hà Nội";
    for (_, f) in household_case(change, "household_head_not_member").await {
        assert_eq!(f["evidence"]["reason"], "lives_elsewhere");
        assert_eq!(f["evidence"]["household_residence"], "Số 12 Lê Lợi, Hà Nội");
    }
}

#[tokio::test]
async fn a_parent_younger_than_the_head() {
    let change: fn(&mut Vec<Row>) = |r| r[1].relation = "parent";
    for (rows, f) in household_case(change, "household_relation_age").await {
        assert_eq!(f["persons"][0], rows[1].id.as_str());
        assert_eq!(f["evidence"]["relation"], "parent");
        assert_eq!(f["evidence"]["head_birth_date"], "1970-03-01");
    }
}

#[tokio::test]
async fn a_card_past_expiry() {
    for s in servers().await {
        let mut rows = a_family();
        rows[1].card = "2020-05-05";
        let r = import(&s, &rows, &[]);
        let c = &r["cleansing"];
        assert_eq!(found(c), vec![("card_expired".into(), 1)], "{c}");
        assert_eq!(first(c, "card_expired")["persons"][0], rows[1].id.as_str());
        assert_eq!(c["scores"]["live"]["good"], 2);
    }
}

#[tokio::test]
async fn a_phone_shared_by_five_unrelated_adults_and_not_under_a_higher_threshold() {
    for s in servers().await {
        const BORN: [&str; 5] = [
            "1961-04-04",
            "1962-04-04",
            "1963-04-04",
            "1964-04-04",
            "1965-04-04",
        ];
        let fixed: Vec<Row> = (1..=5)
            .map(|n| Row {
                phone: "0977123456".into(),
                ..person(n, "Hoàng Văn Long", BORN[n as usize - 1], true)
            })
            .collect();
        let r = import(&s, &fixed, &["--phone-threshold", "6"]);
        assert_eq!(found(&r["cleansing"]), vec![], "{r}");
        let r = import(&s, &fixed, &[]);
        let f = first(&r["cleansing"], "phone_shared");
        assert_eq!(f["evidence"]["phone"], "+84977123456", "{r}");
        assert_eq!(f["evidence"]["households"], 5);
        assert_eq!(f["persons"].as_array().unwrap().len(), 5);
    }
}

#[tokio::test]
async fn a_death_in_the_register_locks_the_account_with_reason_deceased_audited() {
    for s in servers().await {
        let c = s.citizen(1).await;
        let p = s.provider.db.person(&c.id_number).await.unwrap().unwrap();
        let dead = Row {
            id: c.id_number.clone(),
            name: "Trần Thị Bình",
            born: "1990-03-08",
            male: false,
            deceased: "2026-01-02",
            phone: p.phone.unwrap_or_default().replace("+84", "0"),
            ..person(1, "x", "1990-03-08", false)
        };
        let r = import(&s, &[dead], &[]);
        let f = first(&r["cleansing"], "deceased_active_account");
        assert_eq!(f["persons"][0], c.id_number.as_str(), "{r}");
        assert_eq!(f["evidence"]["reason"], "deceased");
        let acc = s.provider.db.account_by_id_number(&c.id_number).await;
        let acc = acc.unwrap().unwrap();
        assert_eq!(acc.lock_reason.as_deref(), Some("deceased"));
        let log = s.provider.db.audit_since(0, i64::MAX).await.unwrap();
        assert!(log.iter().any(|e| e.action == "locked"
            && e.actor == "register"
            && e.subject.as_deref() == Some(c.sub.as_str())
            && e.detail.contains("\"deceased\"")));
    }
}

#[tokio::test]
async fn the_register_report_locks_an_open_account_of_the_deceased() {
    for s in servers().await {
        let c = s.citizen(2).await;
        // Written by another path than an import: the report finds it.
        let mut p = s.provider.db.person(&c.id_number).await.unwrap().unwrap();
        p.deceased_on = Some("2026-02-02".into());
        s.provider.db.upsert_person(&p).await.unwrap();
        let r = report(&s);
        let f = first(&r, "deceased_active_account");
        assert_eq!(f["persons"][0], c.id_number.as_str(), "{r}");
        assert_eq!(f["evidence"]["account_locked"], true);
        let acc = s.provider.db.account_by_id_number(&c.id_number).await;
        assert_eq!(
            acc.unwrap().unwrap().lock_reason.as_deref(),
            Some("deceased")
        );
        let again = report(&s);
        assert_eq!(again["findings"]["deceased_active_account"]["count"], 0);
    }
}

#[tokio::test]
async fn the_admin_upload_answers_with_the_cleansing_report() {
    let s = TestServer::start().await;
    let admin = crate::common::officer(&s, "qt-1", "admin", "001080000111").await;
    let mut rows = a_family();
    rows[0].relation = "spouse";
    let upload = reqwest::Client::new()
        .post(s.url("/admin/v1/citizens/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv(&rows));
    let answer = upload.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let r: Value = answer.json().await.unwrap();
    assert_eq!(
        found(&r["cleansing"]),
        vec![("household_no_head".into(), 1)],
        "{r}"
    );
    assert_eq!(r["cleansing"]["scope"], "file");
}
