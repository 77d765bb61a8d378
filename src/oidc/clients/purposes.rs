//! A client's purposes: what it says it uses a person's data for. The consent page shows the
//! text in the person's language and a consent record keeps which text (id and version) the
//! person saw, so the texts are checked here once, at registration.

use super::{ClientRuleError, rule};
use crate::oidc::claims;
use crate::store::{ClientRecord, Purpose};

/// OpenID Connect for Identity Assurance §8 bounds a purpose text to 3–300 characters.
const TEXT_CHARS: std::ops::RangeInclusive<usize> = 3..=300;

/// The purposes as registered, or why not.
pub fn check(purposes: &[Purpose]) -> Result<Vec<Purpose>, ClientRuleError> {
    let mut seen: Vec<&str> = Vec::new();
    for p in purposes {
        let id_ok = (1..=40).contains(&p.id.len())
            && p.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(rule(
                "purposes",
                format!("id {:?}: 1–40 of a-z 0-9 _ -", p.id),
            ));
        }
        if seen.contains(&p.id.as_str()) {
            return Err(rule("purposes", format!("id {:?} is used twice", p.id)));
        }
        seen.push(&p.id);
        for (lang, text) in [("vi", &p.text_vi), ("en", &p.text_en)] {
            if !TEXT_CHARS.contains(&text.trim().chars().count()) {
                return Err(rule(
                    "purposes",
                    format!("{}: the {lang} text must be 3–300 characters", p.id),
                ));
            }
        }
        if let Some(c) = p
            .required_claims
            .iter()
            .find(|c| claims::scope_of(c).is_none())
        {
            return Err(rule("purposes", format!("{}: unknown claim {c:?}", p.id)));
        }
        if p.version < 1 {
            return Err(rule("purposes", format!("{}: version starts at 1", p.id)));
        }
    }
    Ok(purposes.to_vec())
}

/// A required claim whose scope the client may not ask for: the purpose could never be met.
pub fn outside_scopes<'a>(purposes: &'a [Purpose], scopes: &[String]) -> Option<&'a str> {
    purposes
        .iter()
        .flat_map(|p| p.required_claims.iter())
        .find(|c| claims::scope_of(c).is_none_or(|s| !scopes.iter().any(|x| x == s)))
        .map(String::as_str)
}

/// The `purpose` a request names: one the client registered, or none.
pub fn asked(client: &ClientRecord, raw: Option<&str>) -> Result<Option<String>, String> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(id) if client.settings.purposes.iter().any(|p| p.id == id) => Ok(Some(id.into())),
        Some(_) => Err("purpose must name one of the purposes the client registered".into()),
    }
}

/// The purpose a request names, or the client's first; `None` when the client registered none.
pub fn chosen<'a>(purposes: &'a [Purpose], asked: Option<&str>) -> Option<&'a Purpose> {
    match asked {
        Some(id) => purposes.iter().find(|p| p.id == id),
        None => purposes.first(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, vi: &str, claims: &[&str]) -> Purpose {
        Purpose {
            id: id.into(),
            text_vi: vi.into(),
            text_en: "Open an account".into(),
            required_claims: claims.iter().map(|c| c.to_string()).collect(),
            version: 1,
        }
    }

    #[test]
    fn purposes_are_checked_once_at_registration() {
        assert!(check(&[p("open", "Mở tài khoản", &["name"])]).is_ok());
        assert!(check(&[p("Open!", "Mở tài khoản", &[])]).is_err());
        assert!(check(&[p("a", "Mở", &[])]).is_err(), "too short");
        assert!(check(&[p("a", "Mở tài khoản", &["password"])]).is_err());
        assert!(check(&[p("a", "Mở tài khoản", &[]), p("a", "Mở tài khoản", &[])]).is_err());
        let mut v0 = p("a", "Mở tài khoản", &[]);
        v0.version = 0;
        assert!(check(&[v0]).is_err());
    }

    #[test]
    fn a_required_claim_must_be_within_the_scopes() {
        let ps = [p("open", "Mở tài khoản", &["name", "id_number"])];
        let scopes = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            outside_scopes(&ps, &scopes(&["openid", "profile"])),
            Some("id_number")
        );
        assert_eq!(
            outside_scopes(&ps, &scopes(&["openid", "profile", "eid"])),
            None
        );
    }
}
