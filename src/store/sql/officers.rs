//! Officers (admin users with roles) and the in-person verifications they record.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{SqlStore, db_err, from_json, on, on_write, to_json};
use crate::store::{OfficerRecord, OfficerStore, StoreResult, VerificationRecord};

/// The latest passed in-person check (chip authentic, biometrics matched) of the ID number
/// bound to `param`: officer, evidence, time, unit.
pub(super) fn latest_verification_sql(param: &str) -> String {
    format!(
        "SELECT officer_id, evidence_ref, verified_at, unit FROM level2_verifications \
         WHERE id_number = {param} AND chip_authentic = 1 AND biometric_match = 1 \
         ORDER BY verified_at DESC, id DESC LIMIT 1"
    )
}

static LATEST_VERIFICATION: LazyLock<String> = LazyLock::new(|| latest_verification_sql("$1"));

/// A passed check of `id_number` from its row.
pub(super) fn passed_check(
    id_number: &str,
    (officer_id, evidence_ref, verified_at, unit): (String, String, i64, Option<String>),
) -> VerificationRecord {
    VerificationRecord {
        id_number: id_number.to_string(),
        officer_id,
        unit,
        evidence_ref,
        chip_authentic: true,
        biometric_match: true,
        verified_at,
    }
}

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
        let sql = AssertSqlSafe(LATEST_VERIFICATION.as_str());
        let row = on!(self, |p| {
            sqlx::query_as::<_, (String, String, i64, Option<String>)>(sql)
                .bind(id_number)
                .fetch_optional(p)
                .await
                .map_err(db_err)
        })?;
        Ok(row.map(|r| passed_check(id_number, r)))
    }
}
