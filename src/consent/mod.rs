//! Consent: what a person agreed that a relying party may receive. One record per person and
//! client with the scopes agreed; a new consent adds to what was agreed before (asking for
//! more never silently drops what was given). Every consent is in the person's usage history,
//! written before the record, so a consent the history cannot hold is not given.
//!
//! Which scopes a request needs consent for is an OpenID Connect rule
//! (`oidc::claims::consent_scopes`); this module keeps and checks the records.

use serde_json::json;

use crate::audit::{self, Event, actions};
use crate::clock::UnixTime;
use crate::ids::{ClientId, Subject};
use crate::store::{ConsentRecord, Durable, StoreResult};

/// The person's standing consent for the client, if any.
pub async fn lookup(
    db: &dyn Durable,
    sub: &Subject,
    client_id: &ClientId,
) -> StoreResult<Option<ConsentRecord>> {
    db.consent(sub, client_id).await
}

/// Does `record` cover every scope in `wanted`?
pub fn covers(record: Option<&ConsentRecord>, wanted: &[String]) -> bool {
    record.is_some_and(|c| wanted.iter().all(|w| c.scopes.contains(w)))
}

/// Who gave a consent, to whom, from where.
pub struct Giving<'a> {
    pub sub: &'a Subject,
    pub client_id: &'a ClientId,
    pub ip: Option<&'a str>,
    pub now: UnixTime,
}

/// Record consent to `asked`, keeping what the person agreed to before.
pub async fn give(db: &dyn Durable, g: &Giving<'_>, asked: &[String]) -> StoreResult<()> {
    let mut scopes = asked.to_vec();
    if let Some(prev) = db.consent(g.sub, g.client_id).await? {
        scopes.extend(prev.scopes.into_iter().filter(|p| !asked.contains(p)));
    }
    let event = Event {
        actor: g.sub.to_string(),
        action: actions::CONSENT,
        subject: Some(g.sub.to_string()),
        client_id: Some(g.client_id.to_string()),
        detail: json!({"scopes": asked}),
        ip: g.ip.map(String::from),
    };
    audit::record(db, event, g.now).await?;
    let rec = ConsentRecord {
        sub: g.sub.clone(),
        client_id: g.client_id.clone(),
        scopes,
        granted_at: g.now,
    };
    db.put_consent(&rec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_covers_only_what_it_names() {
        let rec = ConsentRecord {
            sub: crate::ids::Subject::parse("u").unwrap(),
            client_id: crate::ids::ClientId::parse("c").unwrap(),
            scopes: vec!["openid".into(), "profile".into()],
            granted_at: 0,
        };
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(covers(Some(&rec), &v(&["openid"])));
        assert!(covers(Some(&rec), &v(&["openid", "profile"])));
        assert!(!covers(Some(&rec), &v(&["openid", "eid"])));
        assert!(!covers(None, &v(&["openid"])));
    }
}
