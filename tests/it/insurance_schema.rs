//! The eligibility contract as published (docs/schemas/insurance-eligibility-*.json): our
//! own answers — eligible, expired, unknown, a field error, a refusal — and a request a
//! hospital would send, validated against the JSON Schemas by Python's `jsonschema`.

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::insurance::{ask, card, hospital, look_up, put_card, token};
use crate::verified_claims::schema_errors_in;

fn valid(schema: &str, v: &Value) {
    if let Some(errors) = schema_errors_in("docs/schemas", schema, v) {
        assert_eq!(errors, "", "{schema}: {v}");
    }
}

#[tokio::test]
async fn real_answers_match_the_published_schemas() {
    let s = TestServer::start().await;
    put_card(&s, card("079190100751", "DN4790000000751")).await;
    let mut old = card("079190100752", "GD4790000000752");
    (old.valid_from, old.valid_to, old.five_years_since) =
        ("2024-01-01".into(), "2024-12-31".into(), None);
    put_card(&s, old).await;
    let (h, secret) = hospital(&s).await;
    let at = token(&s, &h, &secret, "insurance:eligibility").await;
    let requests = [
        ask(json!({"id_number": "079190100751"})),
        ask(json!({"card_code": "GD4790000000752"})),
        ask(json!({"id_number": "079190100753"})),
    ];
    for r in &requests {
        valid("insurance-eligibility-request.json", r);
        let (status, _, a) = look_up(&s, &at, &r.to_string()).await;
        assert_eq!(status, 200, "{a}");
        valid("insurance-eligibility-response.json", &a);
    }
    let (status, _, e) = look_up(&s, &at, r#"{"patient":{"id_number":"1"}}"#).await;
    assert_eq!(status, 400);
    valid("insurance-eligibility-error.json", &e);
    let (status, _, e) = look_up(&s, "expired-or-forged", &requests[0].to_string()).await;
    assert_eq!(status, 401);
    valid("insurance-eligibility-error.json", &e);
    // The schema itself refuses what the API refuses.
    if let Some(errors) = schema_errors_in(
        "docs/schemas",
        "insurance-eligibility-request.json",
        &json!({"patient": {"id_number": "079190100751", "card_code": "GD4790000000752"}}),
    ) {
        assert!(
            !errors.is_empty(),
            "both patient keys, no operator: refused"
        );
    }
}
