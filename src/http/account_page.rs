//! The account page itself: who the register says the person is, the account's level with
//! what it means, the sign-in methods, the sessions that are signed in (each can be ended), and
//! the usage history — every line naming the service it concerned. Read-only; the changes are
//! posted to `account`, `account_factors` and `passkeys`.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::pages::{self, with_new_cookie};
use super::ui::{choose_lang, date_text, local_date_time};
use super::{AppState, SESSION_COOKIE, form};
use crate::audit::actions;
use crate::authn::overview::{self, Overview};
use crate::authn::session;
use crate::ids::ClientId;
use crate::store::{AccountRecord, AuditRecord, PersonRecord};

pub(super) async fn render(
    s: &AppState,
    headers: &HeaderMap,
    account: &AccountRecord,
    (message, error): (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let lang = choose_lang(&[], headers);
    let o = match overview::of(s.p.db.as_ref(), s.p.eph.as_ref(), account, s.p.now()).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "account page: overview unreadable");
            return s.ui.try_later(lang);
        }
    };
    let t = |k: &str| s.ui.t(lang, k);
    let account_json = json!({
        "level": account.level,
        "level_meaning": t(&format!("level_{}_meaning", account.level.clamp(1, 2))),
        "state_label": t(&format!("state_{}", account.state)),
        "lock_reason_label": account.lock_reason.as_ref().map(|r| t(&format!("lock_reason_{r}"))),
    });
    let keys: Vec<Value> = o
        .passkeys
        .iter()
        .map(|k| {
            json!({
                "id": crate::crypto::b64url(&k.cred_id), "name": k.name,
                "created": local_date_time(lang, k.created_at),
                "last_used": k.last_used_at.map(|t| local_date_time(lang, t)), "synced": k.backup_state,
            })
        })
        .collect();
    let Ok(insurance) = insurance_lookups(s, lang, &o.person.id_number).await else {
        tracing::warn!("account page: insurance look-ups unreadable");
        return s.ui.try_later(lang);
    };
    let (token, webauthn_csrf, cookie) = pages::csrf_with_webauthn(s, headers, "account");
    let ctx = json!({"csrf": token, "message": message, "error": error,
                     "person": person_json(s, lang, &o.person),
                     "account": account_json, "history": history(s, lang, &o.history).await,
                     "sessions": sessions(headers, lang, &o), "history_years": 5,
                     "connected": connected(s, lang, &o).await, "insurance": insurance,
                     "factors": {"totp": o.totp, "recovery_left": o.recovery_left}, "passkeys": keys,
                     "webauthn_csrf": webauthn_csrf});
    with_new_cookie(s.ui.page(status, "account.html", lang, ctx), cookie)
}

fn person_json(s: &AppState, lang: &str, p: &PersonRecord) -> Value {
    let t = |k: &str| s.ui.t(lang, k);
    json!({
        "full_name": p.full_name, "id_number": p.id_number,
        "birth_date": (!p.birth_date.is_empty()).then(|| date_text(lang, &p.birth_date)),
        "sex_label": if p.sex.is_empty() { String::new() } else { t(&format!("sex_{}", p.sex)) },
        "nationality": p.nationality,
        "birth_place": p.birth_place.as_deref().and_then(crate::identity::id_number::province_name_for),
        "residence": p.residence, "household_id": p.household_id,
        "household_relation": p.household_relation.as_ref().map(|r| t(&format!("relation_{r}"))),
        "phone": p.phone, "email": p.email,
    })
}

/// The service a history line concerned, by its registered name (the id when it is gone).
async fn service_name(s: &AppState, id: &str) -> String {
    let client = match ClientId::parse(id) {
        Ok(id) => s.p.client(&id).await.ok().flatten(),
        Err(_) => None,
    };
    client.map_or_else(|| id.to_string(), |c| c.name)
}

/// The usage history, newest first: each line names the service it concerned, or the e-ID
/// account itself.
async fn history(s: &AppState, lang: &str, entries: &[AuditRecord]) -> Vec<Value> {
    let t = |k: &str| s.ui.t(lang, k);
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut rows = Vec::new();
    for h in entries {
        let service = match h.client_id.as_deref() {
            Some(id) => {
                if !names.contains_key(id) {
                    names.insert(id, service_name(s, id).await);
                }
                names.get(id).cloned().unwrap_or_default()
            }
            None => t("history_own_account"),
        };
        let detail: Value = serde_json::from_str(&h.detail).unwrap_or_default();
        let action = match h.action.as_str() {
            actions::ACCOUNT_CREATED => actions::ENROLLED,
            other => other,
        };
        rows.push(json!({
            "when": local_date_time(lang, h.at),
            "what": t(&format!("action_{action}")),
            "client": service,
            "method": detail.get("method").and_then(Value::as_str).map(|m| t(&format!("method_{m}"))),
            "claims": disclosed_claims(&detail),
            "ip": h.ip,
        }));
    }
    rows
}

/// The services holding the person's consent: per service its latest receipt (what it may
/// receive, for what purpose, since when) and when it last received anything.
async fn connected(s: &AppState, lang: &str, o: &Overview) -> Vec<Value> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for r in o.receipts.iter().filter(|r| r.withdrawn_at.is_none()) {
        if seen.contains(&r.client_id.as_str()) {
            continue;
        }
        seen.push(r.client_id.as_str());
        let last = o
            .history
            .iter()
            .find(|h| {
                h.action == actions::DISCLOSURE && h.client_id.as_deref() == Some(&r.client_id)
            })
            .map(|h| local_date_time(lang, h.at));
        let received: Vec<&str> = r
            .shown
            .items
            .iter()
            .filter(|i| r.granted.contains(&i.claim) || i.claim == "sub")
            .map(|i| i.label.as_str())
            .collect();
        out.push(json!({
            "client_id": r.client_id, "name": service_name(s, &r.client_id).await,
            "purpose": r.shown.purpose_text, "received": received,
            "since": local_date_time(lang, r.given_at), "last": last, "receipt": r.id,
        }));
    }
    out
}

/// Who looked up the person's health insurance, when and why (hospital, staff member's name,
/// purpose, outcome), newest first, for the retention period.
async fn insurance_lookups(
    s: &AppState,
    lang: &str,
    id_number: &str,
) -> crate::store::StoreResult<Vec<Value>> {
    let since = s.p.now() - crate::audit::RETENTION_SECS;
    let rows = crate::rp_api::lookups::for_patient(s.p.db.as_ref(), id_number, since, 100).await?;
    let t = |k: &str| s.ui.t(lang, k);
    let mut out = Vec::with_capacity(rows.len());
    for l in rows {
        out.push(json!({
            "when": local_date_time(lang, l.at), "hospital": service_name(s, &l.client_id).await,
            "operator": l.operator_name, "purpose": t(&format!("lookup_purpose_{}", l.purpose)),
            "outcome": t(if l.eligible { "insurance_eligible" } else { "insurance_not_eligible" }),
        }));
    }
    Ok(out)
}

/// The claim names a disclosure released, as the history line lists them.
fn disclosed_claims(detail: &Value) -> Option<String> {
    let names: Vec<&str> = detail
        .get("claims")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// The browsers signed in to the account now; this one first and marked.
fn sessions(headers: &HeaderMap, lang: &str, o: &Overview) -> Vec<Value> {
    let this = form::cookie(headers, SESSION_COOKIE).map(|c| session::digest_of(&c));
    let mut out: Vec<Value> = o
        .sessions
        .iter()
        .map(|(digest, sess)| {
            json!({
                "sid": sess.sid, "current": this.as_deref() == Some(digest.as_str()),
                "started": local_date_time(lang, sess.started_at), "ip": sess.ip,
                "device": sess.agent.as_deref().map(device_name),
            })
        })
        .collect();
    out.sort_by_key(|v| !v["current"].as_bool().unwrap_or(false));
    out
}

/// A short name for a browser from its User-Agent: "Chrome · Android", "Safari · iPhone".
fn device_name(agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(k, _)| agent.contains(k))
    .map_or("Browser", |(_, n)| n);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| agent.contains(k))
    .map_or("", |(_, n)| n);
    match system {
        "" => browser.to_string(),
        sys => format!("{browser} · {sys}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn devices_are_named_briefly() {
        let chrome = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
        assert_eq!(super::device_name(chrome), "Chrome · Android");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(super::device_name(safari), "Safari · iPhone");
        assert_eq!(super::device_name("curl/8"), "Browser");
    }
}
