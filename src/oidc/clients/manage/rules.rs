//! What a change to a client may not do: move its pairwise sector, go further past its
//! kind's policy without a reason, or change a purpose's text under an old version.

use super::super::{NewClient, RegisterError, rule};
use super::Desk;
use crate::authn::Acr;
use crate::oidc::{policy, subject};
use crate::store::{ClientRecord, Purpose, SubjectType};

/// A purpose whose text changed gets a later version, so consent given to the old text is
/// asked again (`Purpose::version`); a version never goes back.
pub(super) fn versioned(new: &[Purpose], old: &[Purpose]) -> Vec<Purpose> {
    let mut out = new.to_vec();
    for p in &mut out {
        if let Some(o) = old.iter().find(|o| o.id == p.id) {
            let same_text = o.text_vi == p.text_vi && o.text_en == p.text_en;
            let floor = if same_text { o.version } else { o.version + 1 };
            p.version = p.version.max(floor);
        }
    }
    out
}

/// The sector the changed client would compute pairwise `sub` values for: checked as at
/// registration (a `sector_identifier_uri` is fetched again when it or the redirect URIs
/// change), and refused if it differs from the client's — every person would get a new
/// `sub` at the client, which would no longer recognise its users (OIDC Core §8.1).
pub(super) async fn sector(
    d: &Desk<'_>,
    old: &ClientRecord,
    n: &NewClient,
) -> Result<Option<String>, RegisterError> {
    let s = &old.settings;
    let uri_changed = n.sector_identifier_uri != s.sector_identifier_uri;
    if !uri_changed && n.redirect_uris == old.redirect_uris {
        return Ok(s.sector.clone());
    }
    let field = if uri_changed {
        "sector_identifier_uri"
    } else {
        "redirect_uri"
    };
    let new = match &n.sector_identifier_uri {
        Some(uri) => {
            let bad = |e: subject::SectorError| rule("sector_identifier_uri", e.to_string());
            let doc = d
                .reg
                .fetcher
                .fetch(uri)
                .await
                .map_err(|e| bad(subject::SectorError::Unreadable(e)))?;
            Some(subject::check_sector_document(uri, &doc, &n.redirect_uris).map_err(bad)?)
        }
        None => subject::sector_of(&n.redirect_uris)
            .map_err(|e| rule("sector_identifier_uri", e.to_string()))?,
    };
    if s.subject_type == SubjectType::Pairwise && new != s.sector {
        let name = |v: &Option<String>| v.clone().unwrap_or_else(|| "(the client itself)".into());
        let why = format!(
            "this change would move the client's pairwise sector from {} to {}, and every \
             person would get a new sub at this client; keep the redirect URIs within {} \
             (or list them in a sector_identifier_uri on that host), or register a new client",
            name(&s.sector),
            name(&new),
            name(&s.sector),
        );
        return Err(rule(field, why).into());
    }
    Ok(new)
}

/// Where `new` goes further past its kind's policy than `old` did: a scope outside the kind
/// that the client did not have, a lower level or `acr` below the kind's floor, a longer
/// token lifetime above the kind's cap.
pub(super) fn widened(old: &ClientRecord, new: &ClientRecord) -> Vec<String> {
    let k = policy::of(new.kind);
    let kind = new.kind;
    let mut out = Vec::new();
    for s in &new.scopes {
        if !k.scopes.contains(&s.as_str()) && !old.scopes.contains(s) {
            out.push(format!("scope {s:?} is not for a {kind} client"));
        }
    }
    let level = new.min_account_level;
    if level < k.min_account_level && level < old.min_account_level {
        out.push(format!(
            "min_account_level {level}: a {kind} client needs Level {} at least",
            k.min_account_level
        ));
    }
    let acr = |c: &ClientRecord| {
        c.min_acr
            .as_deref()
            .and_then(Acr::parse)
            .unwrap_or(k.min_acr)
    };
    if acr(new) < k.min_acr && acr(new) < acr(old) {
        out.push(format!(
            "min_acr {}: a {kind} client needs {} at least",
            acr(new).as_str(),
            k.min_acr.as_str()
        ));
    }
    let longer = |n: Option<i64>, o: Option<i64>, max: i64| {
        n.is_some_and(|t| t > max && t > o.unwrap_or(max))
    };
    let (ns, os) = (&new.settings, &old.settings);
    if longer(ns.access_token_ttl, os.access_token_ttl, k.access_token_max) {
        out.push(format!(
            "access_token_ttl: a {kind} client's access tokens live {} s at most",
            k.access_token_max
        ));
    }
    if longer(
        ns.refresh_token_ttl,
        os.refresh_token_ttl,
        k.refresh_token_max,
    ) {
        out.push(format!(
            "refresh_token_ttl: a {kind} client's refresh tokens live {} s at most",
            k.refresh_token_max
        ));
    }
    out
}
