//! OpenID Connect for Identity Assurance 1.0: `verified_claims` — claims together with how
//! they were verified. Here that is the Level-2 in-person check: an officer's unit checked the
//! chip-based citizen ID card (in person, its chip cryptographically, the holder's face and
//! fingerprints against it). The relying party learns the unit, the evidence type and the
//! time — never the officer. Requested through the `claims` parameter (§6); released only for
//! a Level-2 account, only the claims the person consented to.

use serde_json::{Map, Value, json};

use crate::identity::register::date_of;
use crate::store::{AccountRecord, PersonRecord, VerificationRecord};

/// Our trust framework: the Vietnamese national e-ID (Decree 69/2024/NĐ-CP).
pub const TRUST_FRAMEWORK: &str = "vn_eid";
pub const EVIDENCE: [&str; 1] = ["document"];
pub const DOCUMENTS: [&str; 1] = ["idcard"];
/// IDA predefined check methods: physical in person, cryptographic (the chip), biometric
/// (physical, against the chip's portrait and fingerprints).
pub const CHECK_METHODS: [&str; 3] = ["vpip", "vcrypt", "bvr"];
/// The claims we can release inside `verified_claims`: what the register holds and the
/// in-person check proved against the card, and the health-insurance card linked to that
/// ID number (a synchronised document, which Level 2 unlocks).
pub const CLAIMS: [&str; 5] = [
    "name",
    "birthdate",
    "gender",
    "id_number",
    "health_insurance",
];

/// What one target's `verified_claims` request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub claims: Vec<&'static str>,
}

/// The request for `target` (`id_token` or `userinfo`): the supported claims it names, if
/// its trust framework constraint (when it has one) admits ours. An array of requests
/// (§6.5) is answered by its first request we can fulfil.
pub fn asked(claims_param: Option<&Value>, target: &str) -> Option<Asked> {
    let vc = claims_param?.get(target)?.get("verified_claims")?;
    let requests: Vec<&Value> = match vc {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    requests.into_iter().find_map(one)
}

fn one(req: &Value) -> Option<Asked> {
    let tf = req.get("verification")?.get("trust_framework");
    let admits = match tf {
        None | Some(Value::Null) => true,
        Some(c) => {
            let mut named: Vec<&str> = c.get("value").and_then(Value::as_str).into_iter().collect();
            if let Some(vs) = c.get("values").and_then(Value::as_array) {
                named.extend(vs.iter().filter_map(Value::as_str));
            }
            named.is_empty() || named.contains(&TRUST_FRAMEWORK)
        }
    };
    let wanted = req.get("claims")?.as_object()?;
    let claims: Vec<&'static str> = CLAIMS
        .into_iter()
        .filter(|c| wanted.contains_key(*c))
        .collect();
    (admits && !claims.is_empty()).then_some(Asked { claims })
}

/// Every claim named inside `verified_claims`, for both targets (consent covers them).
pub fn named(claims_param: Option<&Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for target in ["userinfo", "id_token"] {
        for c in asked(claims_param, target)
            .map(|a| a.claims)
            .unwrap_or_default()
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Keep only the claims `keep` admits inside each `verified_claims` request (the client's
/// policy), as OIDC Core §5.5 lets a provider leave out claims it will not return.
pub fn retain(claims_param: &mut Value, keep: &dyn Fn(&str) -> bool) {
    for target in ["userinfo", "id_token"] {
        let Some(vc) = claims_param
            .get_mut(target)
            .and_then(|t| t.get_mut("verified_claims"))
        else {
            continue;
        };
        let requests: Vec<&mut Value> = match vc {
            Value::Array(a) => a.iter_mut().collect(),
            other => vec![other],
        };
        for r in requests {
            if let Some(c) = r.get_mut("claims").and_then(Value::as_object_mut) {
                c.retain(|name, _| keep(name));
            }
        }
    }
}

/// The `verified_claims` element for a Level-2 account with a passed check, carrying the
/// `released` claims (asked for and consented); `None` when there is nothing to assert.
pub fn element(
    person: &PersonRecord,
    account: &AccountRecord,
    check: Option<&VerificationRecord>,
    released: &[&str],
) -> Option<Value> {
    element_with(person, account, check, released, &Map::new())
}

/// [`element`], with the `documents` (claim name → value) the person has on record.
pub fn element_with(
    person: &PersonRecord,
    account: &AccountRecord,
    check: Option<&VerificationRecord>,
    released: &[&str],
    documents: &Map<String, Value>,
) -> Option<Value> {
    let check = check.filter(|_| account.level >= 2)?;
    let mut claims = super::claims::values(person, account, released);
    for (k, v) in documents
        .iter()
        .filter(|(k, _)| released.contains(&k.as_str()))
    {
        claims.insert(k.clone(), v.clone());
    }
    if claims.is_empty() {
        return None;
    }
    let time = rfc3339(check.verified_at);
    let mut performed_by = Map::new();
    performed_by.insert("time".into(), json!(time));
    if let Some(unit) = &check.unit {
        performed_by.insert("organization".into(), json!(unit));
    }
    let check_details: Vec<Value> = CHECK_METHODS
        .iter()
        .map(|m| {
            let mut d = performed_by.clone();
            d.insert("check_method".into(), json!(m));
            Value::Object(d)
        })
        .collect();
    let mut document = json!({
        "type": "idcard",
        "issuer": {"name": "Bộ Công an", "country_code": "VNM"},
    });
    if let Some(exp) = person.card_expires_on.as_deref().filter(|d| !d.is_empty()) {
        document["date_of_expiry"] = json!(exp);
    }
    Some(json!({
        "verification": {
            "trust_framework": TRUST_FRAMEWORK,
            "assurance_level": format!("level{}", account.level),
            "time": time,
            "verification_process": check.evidence_ref,
            "evidence": [{
                "type": "document",
                "check_details": check_details,
                "document_details": document,
            }],
        },
        "claims": claims,
    }))
}

/// `YYYY-MM-DDThh:mm:ssZ` for a Unix time.
fn rfc3339(t: i64) -> String {
    let s = t.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_of(t),
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn requests_name_supported_claims_under_our_trust_framework() {
        let p = param(
            r#"{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},
                 "claims":{"name":null,"birthdate":null,"nickname":null}}}}"#,
        );
        assert_eq!(
            asked(Some(&p), "userinfo").unwrap().claims,
            vec!["name", "birthdate"]
        );
        assert_eq!(asked(Some(&p), "id_token"), None);
        let other = param(
            r#"{"id_token":{"verified_claims":[
                 {"verification":{"trust_framework":{"value":"eidas"}},"claims":{"name":null}},
                 {"verification":{"trust_framework":{"values":["de_aml","vn_eid"]}},
                  "claims":{"id_number":null}}]}}"#,
        );
        assert_eq!(
            asked(Some(&other), "id_token").unwrap().claims,
            vec!["id_number"]
        );
        let no_verification = param(r#"{"id_token":{"verified_claims":{"claims":{"name":null}}}}"#);
        assert_eq!(asked(Some(&no_verification), "id_token"), None);
    }

    #[test]
    fn policy_filter_reaches_inside() {
        let mut p = param(
            r#"{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},
                 "claims":{"name":null,"id_number":null}}}}"#,
        );
        retain(&mut p, &|c| c != "id_number");
        assert_eq!(named(Some(&p)), vec!["name"]);
    }

    #[test]
    fn the_check_is_described_by_unit_never_by_officer() {
        let person = PersonRecord {
            full_name: "Trần Thị Bình".into(),
            birth_date: "1990-03-08".into(),
            ..Default::default()
        };
        let mut account = AccountRecord::sample(2);
        let check = VerificationRecord {
            id_number: "x".into(),
            officer_id: "cb-017".into(),
            unit: Some("Công an phường Hàng Bài".into()),
            evidence_ref: "HS-2026-1".into(),
            chip_authentic: true,
            biometric_match: true,
            verified_at: 1_767_225_600,
        };
        let e = element(&person, &account, Some(&check), &["name"]).unwrap();
        assert_eq!(e["verification"]["time"], "2026-01-01T00:00:00Z");
        assert_eq!(e["claims"], json!({"name": "Trần Thị Bình"}));
        let text = e.to_string();
        assert!(text.contains("Công an phường Hàng Bài") && !text.contains("cb-017"));
        account.level = 1;
        assert_eq!(element(&person, &account, Some(&check), &["name"]), None);
    }
}
