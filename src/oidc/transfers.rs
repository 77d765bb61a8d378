//! Transfer approvals (docs/banks.md): how much a person approved at a bank today, whether a
//! transfer needs the biometric step, and recording an approval so that the day's limit holds
//! even when two approvals race.

use serde_json::Value;

use super::rar::{self, DAILY_LIMIT, Transfer};
use super::{OAuthError, Provider};
use crate::authn::{Acr, Session};
use crate::clock::UnixTime;
use crate::crypto;
use crate::store::TransferApproval;

/// Vietnam is UTC+7 all year: the day a limit counts in.
const VN_OFFSET: i64 = 7 * 3600;

/// The calendar day in Vietnam, as YYYYMMDD.
pub fn day_of(now: UnixTime) -> i64 {
    let date = crate::identity::register::date_of(now + VN_OFFSET);
    date.replace('-', "").parse().unwrap_or_default()
}

/// The level the request's transfer needs for this person at this bank now (`None`: no
/// transfer, or nothing beyond the client's own floor).
pub async fn need(
    p: &Provider,
    details: Option<&Value>,
    sub: &str,
    client_id: &str,
) -> Result<Option<Acr>, OAuthError> {
    let Some(t) = rar::transfer_of(details) else {
        return Ok(None);
    };
    let today =
        p.db.transfers_total(sub, client_id, day_of(p.now()))
            .await?;
    Ok(rar::level_for(&t, today))
}

/// Whether a session's sign-in counts as biometric for SBV Decision 2345 (`loa:3` or above).
fn biometric(s: &Session) -> bool {
    s.acr >= Acr::Loa3
}

/// Record the approval of the request's transfer, returning the details with its approval id
/// for the code; `Ok(None)` when, after all, it needs the biometric step the session lacks (an
/// approval elsewhere moved the day's total meanwhile).
pub async fn approve(
    p: &Provider,
    details: Option<&Value>,
    session: &Session,
    client_id: &str,
) -> Result<Option<Value>, OAuthError> {
    let Some(t) = rar::transfer_of(details) else {
        return Ok(details.cloned());
    };
    if t.amount > rar::SINGLE_LIMIT && !biometric(session) {
        return Ok(None);
    }
    let now = p.now();
    let id = crypto::random_id()?;
    let rec = TransferApproval {
        id: id.clone(),
        sub: session.sub.to_string(),
        client_id: client_id.to_string(),
        day: day_of(now),
        amount: t.amount,
        grant_id: None,
        approved_at: now,
    };
    let cap = (!biometric(session)).then_some(DAILY_LIMIT);
    if !p.db.approve_transfer(&rec, cap).await? {
        return Ok(None);
    }
    let approved = Transfer {
        approval_id: Some(id),
        ..t
    };
    Ok(Some(Value::Array(vec![
        serde_json::to_value(approved).map_err(|e| OAuthError::server_error(e.to_string()))?,
    ])))
}

/// Spend a transfer's approval (the bank executes it once): `true` the first time.
pub async fn spend(p: &Provider, details: Option<&Value>) -> Result<bool, OAuthError> {
    match rar::transfer_of(details).and_then(|t| t.approval_id) {
        Some(id) => Ok(p.db.use_transfer(&id, p.now()).await?),
        None => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::day_of;

    #[test]
    fn days_are_counted_in_vietnam_time() {
        // 2026-11-30 16:59:59 UTC is 23:59:59 in Hà Nội; a second later it is 1 December.
        assert_eq!(day_of(1_796_057_999), 20261130);
        assert_eq!(day_of(1_796_058_000), 20261201);
        assert_eq!(day_of(0), 19700101);
        assert_eq!(day_of(951_782_400 - 7 * 3600), 20000229);
    }
}
