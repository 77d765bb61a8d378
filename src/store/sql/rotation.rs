//! Refresh-token rotation, the write every signed-in relying party makes, and the grant view
//! (grant ⋈ account ⋈ person) that comes back with it.
//!
//! A family is its grant's row (migration 0006): spending the current token moves the grant
//! one generation on, in one UPDATE that also checks the presenting client's ownership and the
//! grant's liveness. Each rotation writes a random nonce beside the generation, and the views
//! come back with it: a job whose nonce is on its grant moved the family, any other did not
//! (the same token twice in one batch moves it once).
//!
//! Rotations are group-committed (`batcher.rs`): whatever queued while the database was busy
//! goes out as one statement, and the views of all of them come back in the same call.

use std::sync::LazyLock;

use sqlx::Row;

use super::accounts::{ACCOUNT_COLS, AccountRow, Opt, PERSON_COLS, PersonRow, account, person};
use super::grants::{GRANT_COLS, GrantRow, grant};
use crate::store::{GrantView, StoreResult};

/// Grant ⋈ account ⋈ person (account and person columns NULL when absent): `lead` columns
/// first, then the view, from the grants joined to `from` (which must yield `g`).
fn view_sql(lead: &str, from: &str, filter: &str) -> String {
    let prefixed = |alias: &str, cols: &str| {
        cols.split(',')
            .map(|c| format!("{alias}.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT {lead}{}, {}, {} FROM {from} LEFT JOIN accounts a ON a.sub = g.sub \
         LEFT JOIN persons p ON p.id_number = a.id_number WHERE {filter}",
        prefixed("g", GRANT_COLS),
        prefixed("a", ACCOUNT_COLS),
        prefixed("p", PERSON_COLS),
    )
}

pub(super) static VIEW_SQL: LazyLock<String> =
    LazyLock::new(|| view_sql("", "grants g", "g.id = $1"));

/// Decode consecutive columns from `$at` into a tuple of the listed types.
macro_rules! columns {
    ($row:expr, $at:expr, ($($t:ty),+ $(,)?)) => {{
        let mut i = $at;
        ($({
            let v: $t = $row.try_get(i)?;
            i += 1;
            v
        },)+)
    }};
}

const GRANT_COLUMNS: usize = 17;

/// A grant's columns (`GRANT_COLS`), starting at column `at`.
#[allow(unused_assignments)] // the last column's index step in `columns!`
pub(super) fn grant_row<R: Row>(r: &R, at: usize) -> Result<GrantRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    #[rustfmt::skip]
    let core = columns!(r, at, (String, String, Opt, String, Option<i64>, Opt, String, Opt, Opt, i64, i64, Option<i64>, Option<i64>, Option<i64>, Opt, Opt));
    let ext: Opt = r.try_get(at + GRANT_COLUMNS - 1)?;
    Ok((core, ext))
}

pub(super) type ViewRow = (GrantRow, Option<AccountRow>, Option<PersonRow>);

/// The view's columns, starting at column `at`.
#[allow(unused_assignments)] // the last column's index step in `columns!`
pub(super) fn view_row<R: Row>(r: &R, at: usize) -> Result<ViewRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let account_at = at + GRANT_COLUMNS;
    let person_at = account_at + 10;
    let g = grant_row(r, at)?;
    let a = match r.try_get::<Opt, _>(account_at)? {
        None => None,
        #[rustfmt::skip]
        Some(_) => Some(columns!(r, account_at, (String, String, String, i64, String, Opt, Opt, i64, i64, i64))),
    };
    let p = match r.try_get::<Opt, _>(person_at)? {
        None => None,
        #[rustfmt::skip]
        Some(_) => Some(columns!(r, person_at, (String, String, String, String, String, Opt, Opt, Opt, Opt, Opt, Opt, Opt, Opt, i64, i64))),
    };
    Ok((g, a, p))
}

pub(super) fn view((g, a, p): ViewRow) -> StoreResult<GrantView> {
    Ok(GrantView {
        grant: grant(g)?,
        account: a.map(account),
        person: p.map(person),
    })
}

pub(super) const MAX_BATCH: usize = 32;
const COLS_PER_JOB: usize = 5;

/// `($1,$2,$3,$4,$5),($6,…)`: per rotation the grant, the generation presented, the client,
/// the time and the rotation's nonce.
fn values(n: usize) -> String {
    (0..n)
        .map(|i| {
            let b = i * COLS_PER_JOB;
            format!("(${},${},${},${},${})", b + 1, b + 2, b + 3, b + 4, b + 5)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Move the family on, if the presented generation is its current one, the grant is live and
/// the presenting client's. `jobs` yields `v (gid, gen, client, at, nonce)`.
fn rotate_sql(jobs: &str) -> String {
    format!(
        "UPDATE grants AS g SET refresh_generation = g.refresh_generation + 1, \
         refresh_issued_at = v.at, refresh_nonce = v.nonce FROM {jobs} \
         WHERE g.id = v.gid AND g.refresh_generation = v.gen AND g.client_id = v.client \
         AND g.revoked_at IS NULL AND g.expires_at > v.at"
    )
}

/// SQLite: the rotations, then (same call, same writer thread, so nothing writes between) the
/// views of the grants the batch named, led by their nonces.
pub(super) fn sqlite_batch(n: usize) -> String {
    let grants = (0..n)
        .map(|i| format!("${}", n * COLS_PER_JOB + i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let rotate = rotate_sql(&format!(
        "(SELECT column1 AS gid, column2 AS gen, column3 AS client, column4 AS at, \
         column5 AS nonce FROM (VALUES {})) AS v",
        values(n)
    ));
    let views = view_sql(
        "g.refresh_nonce, ",
        "grants g",
        &format!("g.id IN ({grants})"),
    );
    format!("{rotate}; {views}")
}

/// PostgreSQL: one statement with parameters per call, so a data-modifying CTE whose
/// RETURNING feeds the views.
pub(super) fn postgres_batch(n: usize) -> String {
    let views = view_sql("g.refresh_nonce, ", "spent g", "TRUE");
    format!(
        "WITH v (gid, gen, client, at, nonce) AS (VALUES {}), \
         spent AS ({} RETURNING g.*) {views}",
        values(n),
        rotate_sql("v")
    )
}
