//! Consent: what a person agreed that a relying party may receive, for which purpose, and the
//! receipt that proves it. One standing record per person and client (the claims let through
//! and every claim asked about); one receipt per consent given (what the page showed, its
//! hash). Every consent and withdrawal is in the person's usage history, written before the
//! record, so a consent the history cannot hold is not given.
//!
//! What a request offers and how it is shown is an OpenID Connect matter (`oidc::offer`); this
//! module keeps and checks the records.

use serde_json::json;

use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};
use crate::store::{
    ConsentReceipt, ConsentRecord, ConsentShown, Consented, Durable, StoreError, StoreResult,
};

/// The person's standing consent for the client, if any.
pub async fn lookup(
    db: &dyn Durable,
    sub: &Subject,
    client_id: &ClientId,
) -> StoreResult<Option<ConsentRecord>> {
    db.consent(sub, client_id).await
}

/// What a request asks consent for: its scopes, the person claims it would release, and the
/// purpose (`id@version`) when the client registered one.
pub struct Asking<'a> {
    pub scopes: &'a [String],
    pub claims: &'a [&'a str],
    pub purpose: Option<String>,
}

/// Does `record` cover the request? Its scopes, every claim it would release (let through or
/// left out when asked before), and the same purpose at the same text version. A consent from
/// before per-claim consent covers by scope alone.
pub fn covers(record: Option<&ConsentRecord>, a: &Asking<'_>) -> bool {
    let Some(c) = record else { return false };
    let scopes = a.scopes.iter().all(|w| c.scopes.contains(w));
    if c.claims.is_none() {
        return scopes;
    }
    scopes
        && a.claims.iter().all(|w| c.asked.iter().any(|x| x == w))
        && (a.purpose.is_none() || a.purpose == c.purpose)
}

/// The consent a grant issued under `record` rests on.
pub fn consented(record: Option<&ConsentRecord>) -> Option<Consented> {
    let c = record?;
    Some(Consented {
        receipt: c.receipt_id.clone()?,
        claims: c.claims.clone()?,
    })
}

/// Who gave a consent, to whom, from where.
pub struct Giving<'a> {
    pub sub: &'a Subject,
    pub client_id: &'a ClientId,
    pub ip: Option<&'a str>,
    pub now: UnixTime,
}

/// What the person approved: the page as shown, its hash, the scopes and the claims asked
/// about, and those let through.
pub struct Approval {
    pub shown: ConsentShown,
    pub shown_hash: String,
    pub scopes: Vec<String>,
    pub asked: Vec<String>,
    pub granted: Vec<String>,
}

/// Record the consent: history first, then the receipt and the standing record together.
/// What was agreed before for claims not asked about now is kept; claims asked about now
/// take the person's new answer.
pub async fn give(db: &dyn Durable, g: &Giving<'_>, a: Approval) -> StoreResult<ConsentReceipt> {
    let prev = db.consent(g.sub, g.client_id).await?;
    let (mut scopes, mut asked, mut granted) =
        (a.scopes.clone(), a.asked.clone(), a.granted.clone());
    if let Some(prev) = prev {
        scopes.extend(prev.scopes.into_iter().filter(|p| !a.scopes.contains(p)));
        let kept = prev.claims.unwrap_or_default();
        granted.extend(kept.into_iter().filter(|c| !a.asked.contains(c)));
        asked.extend(prev.asked.into_iter().filter(|c| !a.asked.contains(c)));
    }
    let id = crate::crypto::random_id().map_err(|e| StoreError::Other(e.to_string()))?;
    let declined: Vec<&String> = a.asked.iter().filter(|c| !a.granted.contains(c)).collect();
    let purpose = a
        .shown
        .purpose_id
        .as_ref()
        .map(|p| format!("{p}@{}", a.shown.purpose_version));
    let event = Event {
        actor: g.sub.to_string(),
        action: actions::CONSENT,
        subject: Some(g.sub.to_string()),
        client_id: Some(g.client_id.to_string()),
        detail: json!({"scopes": a.scopes, "claims": a.granted, "declined": declined,
                       "purpose": purpose, "receipt": id, "shown_hash": a.shown_hash}),
        ip: g.ip.map(String::from),
    };
    audit::record(db, event, g.now).await?;
    let receipt = ConsentReceipt {
        id: id.clone(),
        sub: g.sub.clone(),
        client_id: g.client_id.clone(),
        shown: a.shown,
        shown_hash: a.shown_hash,
        granted: a.granted,
        given_at: g.now,
        withdrawn_at: None,
    };
    let rec = ConsentRecord {
        sub: g.sub.clone(),
        client_id: g.client_id.clone(),
        scopes,
        granted_at: g.now,
        claims: Some(granted),
        asked,
        purpose,
        receipt_id: Some(id),
    };
    db.put_consent(&rec, &receipt).await?;
    Ok(receipt)
}

/// Withdraw the person's consent for the client: history first, then the client's sessions
/// are queued for a back-channel logout (read from the grants about to end), then the consent,
/// its receipts and the client's grants (refresh and access tokens) end together. The next
/// disclosure needs consent again. Returns how many grants ended.
pub async fn withdraw(db: &dyn Durable, g: &Giving<'_>) -> StoreResult<u64> {
    let event = Event {
        actor: g.sub.to_string(),
        action: actions::CONSENT_WITHDRAWN,
        subject: Some(g.sub.to_string()),
        client_id: Some(g.client_id.to_string()),
        detail: json!({}),
        ip: g.ip.map(String::from),
    };
    audit::record(db, event, g.now).await?;
    crate::backchannel::for_client(db, g.sub, g.client_id, g.now).await?;
    db.withdraw_consent(g.sub, g.client_id, g.now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(scopes: &[&str], claims: Option<&[&str]>, asked: &[&str]) -> ConsentRecord {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ConsentRecord {
            sub: Subject::parse("u").unwrap(),
            client_id: ClientId::parse("c").unwrap(),
            scopes: v(scopes),
            granted_at: 0,
            claims: claims.map(v),
            asked: v(asked),
            purpose: Some("open@1".into()),
            receipt_id: Some("r".into()),
        }
    }

    fn asking<'a>(scopes: &'a [String], claims: &'a [&'a str], purpose: &str) -> Asking<'a> {
        Asking {
            scopes,
            claims,
            purpose: Some(purpose.into()),
        }
    }

    #[test]
    fn a_record_covers_only_what_was_asked_for_the_same_purpose() {
        let s = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = rec(
            &["openid", "profile"],
            Some(&["name"]),
            &["name", "birthdate"],
        );
        let scopes = s(&["openid", "profile"]);
        assert!(covers(
            Some(&c),
            &asking(&scopes, &["name", "birthdate"], "open@1")
        ));
        assert!(!covers(
            Some(&c),
            &asking(&scopes, &["name", "gender"], "open@1")
        ));
        assert!(
            !covers(Some(&c), &asking(&scopes, &["name"], "open@2")),
            "new text version"
        );
        assert!(!covers(
            Some(&c),
            &asking(&s(&["openid", "eid"]), &[], "open@1")
        ));
        assert!(!covers(None, &asking(&scopes, &[], "open@1")));
        let legacy = rec(&["openid", "profile"], None, &[]);
        assert!(covers(Some(&legacy), &asking(&scopes, &["name"], "open@1")));
        assert_eq!(consented(Some(&legacy)), None);
        assert_eq!(consented(Some(&c)).unwrap().claims, vec!["name"]);
    }
}
