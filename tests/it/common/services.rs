//! PostgreSQL and Redis for the storage tests. When `EIDP_TEST_DATABASE_URL` /
//! `EIDP_TEST_REDIS_URL` are set the service must be reachable (CI sets them: a missing
//! service fails loudly); unset, those tests say they were skipped.

use sqlx::Executor;

pub fn database_admin_url() -> Option<String> {
    std::env::var("EIDP_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub fn redis_url() -> Option<String> {
    std::env::var("EIDP_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A fresh PostgreSQL database for one test, so tests never see each other's rows.
pub async fn fresh_postgres() -> Option<String> {
    let admin = database_admin_url()?;
    let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
        panic!("EIDP_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
    });
    let name = format!(
        "eidp_t_{}",
        eidp::crypto::random_id()
            .unwrap()
            .to_lowercase()
            .replace(['-', '_'], "")
    );
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    pool.close().await;
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

pub fn skip(what: &str) {
    eprintln!("SKIPPED ({what}): set EIDP_TEST_DATABASE_URL / EIDP_TEST_REDIS_URL to run it");
}
