//! Officers (admin users with roles) and the in-person verifications they record.

use async_trait::async_trait;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::store::{OfficerRecord, OfficerStore, StoreResult, VerificationRecord};

pub(super) type OfficerRow = (String, String, String, Option<String>, i64, Option<String>);

pub(super) fn officer(r: OfficerRow) -> StoreResult<OfficerRecord> {
    Ok(OfficerRecord {
        officer_id: r.0,
        name: r.1,
        roles: from_json(&r.2)?,
        id_number: r.3,
        created_at: r.4,
        unit: r.5,
    })
}

#[async_trait]
impl OfficerStore for SqlStore {
    async fn insert_officer(&self, o: &OfficerRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO officers (officer_id, name, roles, id_number, created_at, \
             unit) VALUES ($1,$2,$3,$4,$5,$6)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&o.officer_id)
            .bind(&o.name)
            .bind(to_json(&o.roles))
            .bind(&o.id_number)
            .bind(o.created_at)
            .bind(&o.unit)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn officer(&self, officer_id: &str) -> StoreResult<Option<OfficerRecord>> {
        const SQL: &str = "SELECT officer_id, name, roles, id_number, created_at, unit \
             FROM officers WHERE officer_id = $1";
        let row = on!(self, |p| {
            sqlx::query_as::<_, OfficerRow>(SQL)
                .bind(officer_id)
                .fetch_optional(p)
                .await
                .map_err(db_err)
        })?;
        row.map(officer).transpose()
    }

    async fn insert_verification(&self, v: &VerificationRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO level2_verifications (id_number, officer_id, evidence_ref, \
             chip_authentic, biometric_match, verified_at, unit) VALUES ($1,$2,$3,$4,$5,$6,$7)";
        on_write!(self, |p| sqlx::query(SQL)
            .bind(&v.id_number)
            .bind(&v.officer_id)
            .bind(&v.evidence_ref)
            .bind(v.chip_authentic as i64)
            .bind(v.biometric_match as i64)
            .bind(v.verified_at)
            .bind(&v.unit)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))
    }

    async fn latest_verification(
        &self,
        id_number: &str,
    ) -> StoreResult<Option<VerificationRecord>> {
        const SQL: &str = "SELECT officer_id, evidence_ref, verified_at, unit \
             FROM level2_verifications WHERE id_number = $1 AND chip_authentic = 1 \
             AND biometric_match = 1 ORDER BY verified_at DESC, id DESC LIMIT 1";
        let row = on!(self, |p| {
            sqlx::query_as::<_, (String, String, i64, Option<String>)>(SQL)
                .bind(id_number)
                .fetch_optional(p)
                .await
                .map_err(db_err)
        })?;
        Ok(row.map(|r| VerificationRecord {
            id_number: id_number.to_string(),
            officer_id: r.0,
            unit: r.3,
            evidence_ref: r.1,
            chip_authentic: true,
            biometric_match: true,
            verified_at: r.2,
        }))
    }
}
