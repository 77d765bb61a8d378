//! Face match results (`face_checks`): appended, the latest read back for the KYC assertion.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::officers::{latest_verification_sql, passed_check};
use super::{SqlStore, db_err, on, on_write};
use crate::store::StoreResult;
use crate::store::face::{Evidence, FaceCheck, FaceStore};

/// The latest face match of the account bound to `param` (the id breaks ties within one
/// second: the later insert is the latest).
fn latest_face_sql(param: &str) -> String {
    format!(
        "SELECT matched, score, matcher, at FROM face_checks WHERE sub = {param} \
         ORDER BY at DESC, id DESC LIMIT 1"
    )
}

static LATEST_FACE: LazyLock<String> = LazyLock::new(|| latest_face_sql("$1"));

/// Both latest rows side by side, each half NULL when there is none: one round trip.
static EVIDENCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT v.officer_id, v.evidence_ref, v.verified_at, v.unit, \
         f.matched, f.score, f.matcher, f.at FROM (SELECT 1 AS one) AS o \
         LEFT JOIN ({}) AS v ON true LEFT JOIN ({}) AS f ON true",
        latest_verification_sql("$1"),
        latest_face_sql("$2")
    )
});

type EvidenceRow = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<bool>,
    Option<f64>,
    Option<String>,
    Option<i64>,
);

#[async_trait]
impl FaceStore for SqlStore {
    async fn record_face_check(&self, sub: &str, c: &FaceCheck) -> StoreResult<()> {
        const SQL: &str =
            "INSERT INTO face_checks (sub, matched, score, matcher, at) VALUES ($1,$2,$3,$4,$5)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(sub)
            .bind(c.matched)
            .bind(c.score)
            .bind(&c.matcher)
            .bind(c.at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn latest_face_check(&self, sub: &str) -> StoreResult<Option<FaceCheck>> {
        let sql = AssertSqlSafe(LATEST_FACE.as_str());
        let row = on!(self, |p| sqlx::query_as::<_, (bool, f64, String, i64)>(sql)
            .bind(sub)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(|(matched, score, matcher, at)| FaceCheck {
            matched,
            score,
            matcher,
            at,
        }))
    }

    async fn identity_evidence(&self, id_number: &str, sub: &str) -> StoreResult<Evidence> {
        let sql = AssertSqlSafe(EVIDENCE.as_str());
        let r: EvidenceRow = on!(self, |p| sqlx::query_as(sql)
            .bind(id_number)
            .bind(sub)
            .fetch_one(p)
            .await
            .map_err(db_err))?;
        let verification = match (r.0, r.1, r.2) {
            (Some(officer), Some(evidence), Some(at)) => {
                Some(passed_check(id_number, (officer, evidence, at, r.3)))
            }
            _ => None,
        };
        let face = match (r.4, r.5, r.6, r.7) {
            (Some(matched), Some(score), Some(matcher), Some(at)) => Some(FaceCheck {
                matched,
                score,
                matcher,
                at,
            }),
            _ => None,
        };
        Ok(Evidence { verification, face })
    }
}

#[cfg(test)]
mod tests {
    use sqlx::AssertSqlSafe;

    use super::super::{Pool, SqlStore};

    /// SQLite's plan for `sql` (two text parameters), one line per step.
    async fn plan(db: &SqlStore, sql: &str) -> String {
        let Pool::Sqlite(p) = &db.pool else {
            panic!("a SQLite store")
        };
        let steps: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind("001090000001")
                .bind("s1")
                .fetch_all(p)
                .await
                .unwrap();
        steps
            .into_iter()
            .map(|s| s.3)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The evidence a KYC assertion cites is found through indexes, never by reading every
    /// in-person check or face match ever recorded.
    #[tokio::test]
    async fn the_evidence_is_read_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("eidp.db").display());
        let db = SqlStore::connect(&url).await.unwrap();
        for sql in [
            super::super::officers::latest_verification_sql("$1"),
            super::latest_face_sql("$2"),
            super::EVIDENCE.clone(),
        ] {
            let plan = plan(&db, &sql).await;
            assert!(!plan.contains("SCAN level2"), "{sql}:\n{plan}");
            assert!(!plan.contains("SCAN face_checks"), "{sql}:\n{plan}");
        }
        let plan = plan(&db, &super::EVIDENCE).await;
        assert!(plan.contains("level2_verifications_person"), "{plan}");
        assert!(plan.contains("face_checks_sub_at"), "{plan}");
    }
}
