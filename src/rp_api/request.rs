//! The eligibility request: its wire types (what hospital systems send, documented in
//! docs/schemas/insurance-eligibility-request.json) and its validation, which lists every
//! field that is wrong rather than stopping at the first.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::identity::id_number::{HealthInsuranceCode, IdNumber};
use crate::identity::insurance::is_facility_code;
use crate::identity::names;

/// Why the hospital looks the patient up: a fixed list, so the citizen's history and the
/// admins' listing can say it plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Registering for an outpatient visit.
    Outpatient,
    /// Admission as an inpatient.
    Admission,
    Emergency,
    /// A patient referred from another facility.
    Referral,
    /// Settling the bill at discharge.
    Billing,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::Outpatient,
        Purpose::Admission,
        Purpose::Emergency,
        Purpose::Referral,
        Purpose::Billing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Outpatient => "outpatient",
            Purpose::Admission => "admission",
            Purpose::Emergency => "emergency",
            Purpose::Referral => "referral",
            Purpose::Billing => "billing",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The patient, by personal ID number or by the legacy 15-character card code (one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_code: Option<String>,
}

/// The staff member at the desk, who answers for the look-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    pub id_number: String,
}

/// `POST /api/insurance/v1/eligibility`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityRequest {
    pub patient: PatientRef,
    pub operator: Operator,
    /// The facility the patient is at, `PP-NNN`.
    pub facility: String,
    pub purpose: Purpose,
}

/// One field that is wrong, by its JSON path (`patient.id_number`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

struct Problems(Vec<FieldProblem>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Members of `obj` that are not among `known`, each a problem.
    fn unknown(&mut self, prefix: &str, obj: &Map<String, Value>, known: &[&str]) {
        for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            self.add(&format!("{prefix}{k}"), "unknown field");
        }
    }

    /// The string at `obj[name]`, trimmed; a problem when absent, empty or not a string.
    fn string(&mut self, prefix: &str, obj: &Map<String, Value>, name: &str) -> Option<String> {
        let field = format!("{prefix}{name}");
        match obj.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            None | Some(Value::Null) => {
                self.add(&field, "required");
                None
            }
            Some(_) => {
                self.add(&field, "must be a non-empty string");
                None
            }
        }
    }

    /// The object at `obj[name]`; a problem when absent or not an object.
    fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        name: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(name) {
            Some(Value::Object(o)) => Some(o),
            None | Some(Value::Null) => {
                self.add(name, "required");
                None
            }
            Some(_) => {
                self.add(name, "must be an object");
                None
            }
        }
    }
}

/// Parse and check a request body; every problem is listed.
pub fn parse(body: &[u8]) -> Result<EligibilityRequest, Vec<FieldProblem>> {
    let mut p = Problems(Vec::new());
    let root = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            p.add("(body)", "must be a JSON object");
            return Err(p.0);
        }
        Err(e) => {
            p.add("(body)", format!("not JSON: {e}"));
            return Err(p.0);
        }
    };
    p.unknown("", &root, &["patient", "operator", "facility", "purpose"]);
    let patient = p.object(&root, "patient").and_then(|o| patient(&mut p, o));
    let operator = p
        .object(&root, "operator")
        .and_then(|o| operator(&mut p, o));
    let facility = p.string("", &root, "facility");
    if facility.as_deref().is_some_and(|f| !is_facility_code(f)) {
        p.add("facility", "must be a facility code PP-NNN, e.g. 01-001");
    }
    let purpose = p.string("", &root, "purpose");
    let parsed = purpose.as_deref().map(Purpose::parse);
    if parsed == Some(None) {
        let all: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
        p.add("purpose", format!("must be one of {}", all.join(", ")));
    }
    match (patient, operator, facility, parsed.flatten()) {
        (Some(patient), Some(operator), Some(facility), Some(purpose)) if p.0.is_empty() => {
            Ok(EligibilityRequest {
                patient,
                operator,
                facility,
                purpose,
            })
        }
        _ => Err(p.0),
    }
}

fn patient(p: &mut Problems, o: &Map<String, Value>) -> Option<PatientRef> {
    p.unknown("patient.", o, &["id_number", "card_code"]);
    let given = |k: &str| o.get(k).is_some_and(|v| !v.is_null());
    match (given("id_number"), given("card_code")) {
        (true, true) => {
            p.add("patient", "give id_number or card_code, not both");
            None
        }
        (false, false) => {
            p.add("patient", "give id_number or card_code");
            None
        }
        (true, false) => {
            let id = p.string("patient.", o, "id_number")?;
            match IdNumber::parse(&id) {
                Ok(id) => Some(PatientRef {
                    id_number: Some(id.as_str().to_string()),
                    card_code: None,
                }),
                Err(e) => {
                    p.add("patient.id_number", e.to_string());
                    None
                }
            }
        }
        (false, true) => {
            let code = p.string("patient.", o, "card_code")?;
            match HealthInsuranceCode::parse(&code) {
                Ok(c) => Some(PatientRef {
                    id_number: None,
                    card_code: Some(c.as_str().to_string()),
                }),
                Err(e) => {
                    let message = e.to_string().replace("health_insurance_code", "card_code");
                    p.add("patient.card_code", message);
                    None
                }
            }
        }
    }
}

fn operator(p: &mut Problems, o: &Map<String, Value>) -> Option<Operator> {
    p.unknown("operator.", o, &["name", "id_number"]);
    let name = p
        .string("operator.", o, "name")
        .and_then(|n| match names::check(&n) {
            Ok(n) => Some(n),
            Err(rule) => {
                p.add("operator.name", format!("name {rule}"));
                None
            }
        });
    let id = p
        .string("operator.", o, "id_number")
        .and_then(|id| match IdNumber::parse(&id) {
            Ok(id) => Some(id.as_str().to_string()),
            Err(e) => {
                p.add("operator.id_number", e.to_string());
                None
            }
        });
    Some(Operator {
        name: name?,
        id_number: id?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<String> {
        parse(body.as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    const OK: &str = r#"{"patient":{"id_number":"079190100501"},
        "operator":{"name":"Nguyễn Thị Lan","id_number":"001185000777"},
        "facility":"01-001","purpose":"outpatient"}"#;

    #[test]
    fn a_good_request_parses() {
        let r = parse(OK.as_bytes()).unwrap();
        assert_eq!(r.purpose, Purpose::Outpatient);
        assert_eq!(r.patient.id_number.as_deref(), Some("079190100501"));
    }

    #[test]
    fn every_bad_field_is_listed() {
        assert_eq!(fields("[]"), ["(body)"]);
        assert_eq!(fields("{"), ["(body)"]);
        assert_eq!(
            fields(
                r#"{"patient":{"id_number":"12"},"operator":{"name":"","id_number":"x"},"facility":"01001","purpose":"curiosity","extra":1}"#
            ),
            [
                "extra",
                "patient.id_number",
                "operator.name",
                "operator.id_number",
                "facility",
                "purpose"
            ]
        );
        assert_eq!(
            fields(r#"{"patient":{"id_number":"079190100501","card_code":"DN4790123456789"}}"#),
            ["patient", "operator", "facility", "purpose"]
        );
        assert_eq!(
            fields(&OK.replace(r#""id_number":"079190100501""#, r#""card_code":"dn4""#)),
            ["patient.card_code"]
        );
    }
}
