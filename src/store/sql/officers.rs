//! Officers (admin users with roles) and the in-person verifications they record.

use async_trait::async_trait;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::store::{OfficerRecord, OfficerStore, StoreResult, VerificationRecord};

#[async_trait]
impl OfficerStore for SqlStore {
    async fn insert_officer(&self, o: &OfficerRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO officers (officer_id, name, roles, id_number, created_at) \
             VALUES ($1,$2,$3,$4,$5)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&o.officer_id)
            .bind(&o.name)
            .bind(to_json(&o.roles))
            .bind(&o.id_number)
            .bind(o.created_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn officer(&self, officer_id: &str) -> StoreResult<Option<OfficerRecord>> {
        const SQL: &str = "SELECT officer_id, name, roles, id_number, created_at FROM officers \
             WHERE officer_id = $1";
        let row = on!(self, |p| {
            sqlx::query_as::<_, (String, String, String, Option<String>, i64)>(SQL)
                .bind(officer_id)
                .fetch_optional(p)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| {
            Ok(OfficerRecord {
                officer_id: r.0,
                name: r.1,
                roles: from_json(&r.2)?,
                id_number: r.3,
                created_at: r.4,
            })
        })
        .transpose()
    }

    async fn insert_verification(&self, v: &VerificationRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO level2_verifications (id_number, officer_id, evidence_ref, \
             chip_authentic, biometric_match, verified_at) VALUES ($1,$2,$3,$4,$5,$6)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&v.id_number)
            .bind(&v.officer_id)
            .bind(&v.evidence_ref)
            .bind(v.chip_authentic as i64)
            .bind(v.biometric_match as i64)
            .bind(v.verified_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }
}
