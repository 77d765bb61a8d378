//! Rich authorization requests (RFC 9396): the one type this provider knows,
//! `vn_bank_transfer` — a bank asks the person to approve one transfer (docs/banks.md). The
//! rules mirror docs/schemas/vn_bank_transfer.json (a test keeps the two in step).
//!
//! SBV Decision 2345/QĐ-NHNN: a transfer over 10,000,000 VND, or one that takes the day's
//! approved total at that bank over 20,000,000 VND, needs biometric authentication — here,
//! `loa:3` or above (`authn::assurance`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OAuthError;
use crate::authn::Acr;
use crate::store::{ClientKind, ClientRecord};

pub const TRANSFER: &str = "vn_bank_transfer";
pub const SINGLE_LIMIT: i64 = 10_000_000;
pub const DAILY_LIMIT: i64 = 20_000_000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// One transfer, as approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub creditor_name: String,
    pub creditor_account: String,
    pub creditor_bank: String,
    pub debtor_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Set by this provider when the person approves (never by the bank): what spends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

fn bad(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_authorization_details(msg)
}

fn digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn text_ok(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

impl Transfer {
    fn check(&self) -> Result<(), OAuthError> {
        if !(1..=MAX_AMOUNT).contains(&self.amount) {
            return Err(bad("amount must be a whole number of đồng, 1 to 10^12"));
        }
        if self.currency != "VND" {
            return Err(bad("currency must be VND"));
        }
        if !text_ok(self.creditor_name.trim(), 1, 70) {
            return Err(bad("creditor_name must be 1 to 70 characters"));
        }
        if !digits(&self.creditor_account, 6, 20) || !digits(&self.debtor_account, 6, 20) {
            return Err(bad("accounts must be 6 to 20 digits"));
        }
        let bank = &self.creditor_bank;
        if !(3..=11).contains(&bank.len())
            || !bank
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(bad(
                "creditor_bank must be a bank code (3 to 11 of A-Z, 0-9)",
            ));
        }
        if self
            .reference
            .as_deref()
            .is_some_and(|r| !text_ok(r, 0, 140))
        {
            return Err(bad("reference must be at most 140 characters"));
        }
        Ok(())
    }

    /// Whether approving this transfer needs a biometric sign-in, given what the person
    /// already approved at this bank today.
    pub fn needs_biometric(&self, approved_today: i64) -> bool {
        self.amount > SINGLE_LIMIT || approved_today.saturating_add(self.amount) > DAILY_LIMIT
    }
}

/// The level a transfer needs: `loa:3` when it needs a biometric, else nothing more.
pub fn level_for(t: &Transfer, approved_today: i64) -> Option<Acr> {
    t.needs_biometric(approved_today).then_some(Acr::Loa3)
}

/// Validate a request's `authorization_details` for `client`: a JSON array of one
/// `vn_bank_transfer`, from a bank. Returns it normalised.
pub fn parse(raw: &str, client: &ClientRecord) -> Result<Value, OAuthError> {
    let t = transfer_in(raw)?;
    if client.kind != ClientKind::Bank {
        return Err(bad("only a bank may ask to approve a transfer"));
    }
    Ok(Value::Array(vec![
        serde_json::to_value(&t).map_err(|e| bad(e.to_string()))?,
    ]))
}

/// The one transfer `raw` (untrusted) asks for, checked.
pub fn transfer_in(raw: &str) -> Result<Transfer, OAuthError> {
    let list: Vec<Value> =
        serde_json::from_str(raw).map_err(|_| bad("authorization_details must be a JSON array"))?;
    let [one] = list.as_slice() else {
        return Err(bad("exactly one authorization_details entry is supported"));
    };
    let kind = one.get("type").and_then(Value::as_str);
    if kind != Some(TRANSFER) {
        return Err(bad(format!("unknown authorization_details type {kind:?}")));
    }
    let t: Transfer =
        serde_json::from_value(one.clone()).map_err(|e| bad(format!("vn_bank_transfer: {e}")))?;
    t.check()?;
    if t.approval_id.is_some() {
        return Err(bad("approval_id is set by the provider"));
    }
    Ok(t)
}

/// The transfer in validated details, if any.
pub fn transfer_of(details: Option<&Value>) -> Option<Transfer> {
    let first = details?.as_array()?.first()?;
    serde_json::from_value(first.clone()).ok()
}

#[path = "rar_words.rs"]
pub mod words;

#[cfg(test)]
#[path = "rar_tests.rs"]
mod tests;
