//! Which claims a grant releases, and their values. Minimal disclosure: a claim is released
//! only when its scope was granted or it was asked for by name in the `claims` parameter
//! (OIDC Core §5.5) — and in both cases the person consented to it.

use serde_json::{Map, Value, json};

use crate::store::{AccountRecord, PersonRecord};

pub const SUPPORTED_SCOPES: [&str; 10] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "eid",
    "offline_access",
    "kyc",
    "health_insurance",
    // Not a person's: the hospital's own token for the eligibility look-up.
    "insurance:eligibility",
];

/// Person claims by scope; `eid` is ours: the personal ID number and the account level;
/// `health_insurance` too: the card facts (`documents`).
const SCOPE_CLAIMS: [(&str, &[&str]); 6] = [
    ("profile", &["name", "birthdate", "gender"]),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    ("address", &["address"]),
    ("eid", &["id_number", "eid_level"]),
    ("health_insurance", &["health_insurance"]),
];

pub const PROTOCOL_CLAIMS: [&str; 11] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "at_hash",
    "sid",
];

pub fn supported_claims() -> Vec<&'static str> {
    let mut all: Vec<&str> = PROTOCOL_CLAIMS.to_vec();
    all.extend(SCOPE_CLAIMS.iter().flat_map(|(_, c)| c.iter().copied()));
    all
}

pub fn scope_of(claim: &str) -> Option<&'static str> {
    SCOPE_CLAIMS
        .iter()
        .find(|(_, cs)| cs.contains(&claim))
        .map(|(s, _)| *s)
}

/// Claims named in the `claims` parameter for one target (`userinfo` or `id_token`).
fn named(claims_param: Option<&Value>, target: &str) -> Vec<&'static str> {
    let Some(obj) = claims_param
        .and_then(|c| c.get(target))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    SCOPE_CLAIMS
        .iter()
        .flat_map(|(_, cs)| cs.iter().copied())
        .filter(|c| obj.contains_key(*c))
        .collect()
}

/// Person claims released to `target`: by scope (UserInfo only, as OIDC Core §5.4 says for
/// the code flow) plus those named for that target.
pub fn released(
    scopes: &[String],
    claims_param: Option<&Value>,
    target: &str,
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    if target == "userinfo" {
        for (scope, cs) in SCOPE_CLAIMS {
            if scopes.iter().any(|s| s == scope) {
                out.extend_from_slice(cs);
            }
        }
    }
    for c in named(claims_param, target) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Every person claim the request would release, to either target (what consent is asked
/// for). The ID token's `eid` assertion is included as `tokens::person_claims` adds it.
pub fn offered(scopes: &[String], claims_param: Option<&Value>) -> Vec<&'static str> {
    let mut out = released(scopes, claims_param, "userinfo");
    let mut extra = released(scopes, claims_param, "id_token");
    if scopes.iter().any(|s| s == "eid") {
        extra.extend(["id_number", "eid_level"]);
    }
    extra.extend(super::verified_claims::named(claims_param));
    for c in extra {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The scopes a person is asked to consent to: granted scopes plus the scopes behind claims
/// requested by name. Consent is recorded per scope.
pub fn consent_scopes(scopes: &[String], claims_param: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = scopes.to_vec();
    let mut by_name = named(claims_param, "userinfo");
    by_name.extend(named(claims_param, "id_token"));
    by_name.extend(super::verified_claims::named(claims_param));
    for c in by_name {
        if let Some(s) = scope_of(c)
            && !out.iter().any(|o| o == s)
        {
            out.push(s.to_string());
        }
    }
    out
}

/// Values for the released claim names; absent data is left out, never invented.
pub fn values(
    person: &PersonRecord,
    account: &AccountRecord,
    names: &[&str],
) -> Map<String, Value> {
    let mut m = Map::new();
    for &name in names {
        let v = match name {
            "name" => json!(person.full_name),
            "birthdate" => json!(person.birth_date),
            "gender" => json!(person.sex),
            "email" => match &person.email {
                Some(e) => json!(e),
                None => continue,
            },
            // The register holds the address; ownership has not been proven by a code.
            "email_verified" if person.email.is_some() => json!(false),
            "phone_number" => match &person.phone {
                Some(p) => json!(p),
                None => continue,
            },
            // Accounts are bound to an own-name mobile number checked at enrolment.
            "phone_number_verified" if person.phone.is_some() => json!(true),
            "address" => match &person.residence {
                Some(r) => json!({"formatted": r, "country": "VN"}),
                None => continue,
            },
            "id_number" => json!(person.id_number),
            "eid_level" => json!(account.level),
            _ => continue,
        };
        m.insert(name.to_string(), v);
    }
    m
}

/// `claims` request parameter (OIDC Core §5.5): a JSON object with optional `userinfo` and
/// `id_token` members, each an object.
/// The `claims` parameter without the person claims whose scope is not in `allowed`.
pub fn within(mut claims_param: Value, allowed: &[String]) -> Value {
    let keep = |name: &str| scope_of(name).is_none_or(|s| allowed.iter().any(|a| a == s));
    for target in ["userinfo", "id_token"] {
        if let Some(obj) = claims_param.get_mut(target).and_then(Value::as_object_mut) {
            obj.retain(|name, _| keep(name));
        }
    }
    super::verified_claims::retain(&mut claims_param, &keep);
    claims_param
}

pub fn parse_claims_param(raw: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("claims is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("claims must be a JSON object")?;
    for (k, member) in obj {
        if (k == "userinfo" || k == "id_token") && !member.is_object() {
            return Err(format!("claims.{k} must be an object"));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scopes_release_userinfo_claims_only() {
        let scopes = s(&["openid", "profile"]);
        assert_eq!(
            released(&scopes, None, "userinfo"),
            vec!["name", "birthdate", "gender"]
        );
        assert!(released(&scopes, None, "id_token").is_empty());
    }

    #[test]
    fn named_claims_add_scopes_for_consent() {
        let c = parse_claims_param(r#"{"id_token":{"id_number":{"essential":true}}}"#).unwrap();
        let scopes = s(&["openid"]);
        assert_eq!(released(&scopes, Some(&c), "id_token"), vec!["id_number"]);
        assert_eq!(consent_scopes(&scopes, Some(&c)), s(&["openid", "eid"]));
    }

    #[test]
    fn claims_outside_the_policy_are_left_out() {
        let c = parse_claims_param(
            r#"{"id_token":{"id_number":null,"address":null,"acr":{"essential":true}},
                "userinfo":{"phone_number":null,"name":null}}"#,
        )
        .unwrap();
        let kept = within(c, &s(&["openid", "profile", "eid"]));
        let names = |t: &str| {
            let mut v: Vec<String> = kept[t].as_object().unwrap().keys().cloned().collect();
            v.sort();
            v
        };
        assert_eq!(names("id_token"), s(&["acr", "id_number"]));
        assert_eq!(names("userinfo"), s(&["name"]));
    }

    #[test]
    fn claims_param_shape() {
        assert!(parse_claims_param("[]").is_err());
        assert!(parse_claims_param(r#"{"userinfo": 1}"#).is_err());
        assert!(parse_claims_param("{").is_err());
        assert!(parse_claims_param(r#"{"userinfo": {}}"#).is_ok());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn claims_param_never_panics(s in "\\PC{0,80}") {
                if let Ok(v) = parse_claims_param(&s) {
                    let scopes = vec!["openid".to_string()];
                    let _ = released(&scopes, Some(&v), "userinfo");
                    let _ = consent_scopes(&scopes, Some(&v));
                }
            }
        }
    }
}
