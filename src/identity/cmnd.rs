//! Old 9-digit CMND numbers at sign-in and enrolment. People still know them by heart; the
//! register keeps them as aliases of the 12-digit personal ID number (`person_aliases`, kind
//! `cmnd`). A CMND that points at exactly one person stands for that person's ID number; one
//! issued to several people cannot say who is signing in, so it is refused with what to type
//! instead.

use crate::store::{Durable, StoreResult};

/// The old number points at more than one person: the 12-digit number is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ambiguous;

/// The ID number to use for what the person typed: a 9-digit CMND's one person's 12-digit
/// number; anything else as typed (an unknown CMND then fails like any unknown number).
pub async fn resolve(db: &dyn Durable, typed: &str) -> StoreResult<Result<String, Ambiguous>> {
    let t = typed.trim();
    if t.len() != 9 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Ok(t.to_string()));
    }
    let people = db.persons_by_alias("cmnd", t).await?;
    Ok(match people.as_slice() {
        [one] => Ok(one.id_number.clone()),
        [] => Ok(t.to_string()),
        _ => Err(Ambiguous),
    })
}
