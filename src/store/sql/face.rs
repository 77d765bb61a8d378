//! Face match results (`face_checks`): appended, the latest read back for the KYC assertion.

use async_trait::async_trait;

use super::{SqlStore, db_err, on, on_write};
use crate::store::StoreResult;
use crate::store::face::{FaceCheck, FaceStore};

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
        // The id breaks ties within one second: the later insert is the latest.
        const SQL: &str = "SELECT matched, score, matcher, at FROM face_checks WHERE sub = $1 \
             ORDER BY at DESC, id DESC LIMIT 1";
        let row = on!(self, |p| sqlx::query_as::<_, (bool, f64, String, i64)>(SQL)
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
}
