//! Refresh-token rotation, the write every signed-in relying party makes, and the grant view
//! (grant ⋈ account ⋈ person) that comes back with it.
//!
//! Spending a token names its successor; the `refresh_tokens_rotate` trigger (migration 0005)
//! inserts the successor within the same statement, so a family is never half-rotated. The
//! presenting client's ownership and the grant's liveness are checked in that statement too.
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

pub(super) type ViewRow = (GrantRow, Option<AccountRow>, Option<PersonRow>);

/// The view's columns, starting at column `at`.
#[allow(unused_assignments)] // the last column's index step in `columns!`
pub(super) fn view_row<R: Row>(r: &R, at: usize) -> Result<ViewRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let account_at = at + 12;
    let person_at = account_at + 10;
    #[rustfmt::skip]
    let g: GrantRow = columns!(r, at, (String, String, Opt, String, Option<i64>, Opt, String, Opt, Opt, i64, i64, Option<i64>));
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

/// `($1,$2,$3,$4,$5),($6,…)`: per rotation the old hash, the successor's hash and expiry, the
/// client and the time.
fn values(n: usize) -> String {
    (0..n)
        .map(|i| {
            let b = i * COLS_PER_JOB;
            format!("(${},${},${},${},${})", b + 1, b + 2, b + 3, b + 4, b + 5)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The condition for spending a token: live, and its grant live and the presenting client's.
const SPENDABLE: &str = "r.used_at IS NULL AND r.expires_at > v.at \
     AND EXISTS (SELECT 1 FROM grants g WHERE g.id = r.grant_id \
     AND g.client_id = v.client AND g.revoked_at IS NULL AND g.expires_at > v.at)";

/// SQLite: the spend of all `n` rotations, then (same call, same writer thread) the view of
/// every successor that now exists — each exists only if its own token was spent. A token
/// presented twice in one batch is spent once: the join picks one successor, and the other
/// presenter finds the token spent (a replay).
pub(super) fn sqlite_batch(n: usize) -> String {
    let successors = (0..n)
        .map(|i| format!("${}", n * COLS_PER_JOB + i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let spend = format!(
        "UPDATE refresh_tokens AS r SET used_at = v.at, successor = v.succ, \
         successor_expires_at = v.succ_exp \
         FROM (SELECT column1 AS presented, column2 AS succ, column3 AS succ_exp, column4 AS client, \
         column5 AS at FROM (VALUES {})) AS v WHERE r.token_hash = v.presented AND {SPENDABLE}",
        values(n)
    );
    let views = view_sql(
        "r.token_hash, ",
        "refresh_tokens r JOIN grants g ON g.id = r.grant_id",
        &format!("r.token_hash IN ({successors})"),
    );
    format!("{spend}; {views}")
}

/// PostgreSQL: one statement with parameters per call, so a data-modifying CTE; the trigger
/// inserts the successors when the statement ends.
pub(super) fn postgres_batch(n: usize) -> String {
    let views = view_sql(
        "spent.successor, ",
        "spent JOIN grants g ON g.id = spent.grant_id",
        "TRUE",
    );
    format!(
        "WITH v (presented, succ, succ_exp, client, at) AS (VALUES {}), \
         spent AS (UPDATE refresh_tokens AS r SET used_at = v.at, successor = v.succ, \
         successor_expires_at = v.succ_exp FROM v WHERE r.token_hash = v.presented AND {SPENDABLE} \
         RETURNING r.successor, r.grant_id) {views}",
        values(n)
    )
}
