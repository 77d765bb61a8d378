use serde_json::{Value, json};

use super::*;
use crate::store::ClientKind;

fn bank() -> ClientRecord {
    crate::oidc::policy::tests::client(ClientKind::Bank, &["openid"], 2)
}

fn transfer(amount: Value) -> String {
    json!([{
        "type": "vn_bank_transfer", "amount": amount, "currency": "VND",
        "creditor_name": "Nguyễn Văn B", "creditor_account": "0123456789",
        "creditor_bank": "970436", "debtor_account": "9876543210", "reference": "Tiền nhà"
    }])
    .to_string()
}

#[test]
fn a_transfer_is_validated_and_normalised() {
    let v = parse(&transfer(json!(20_000_000)), &bank()).unwrap();
    let t = transfer_of(Some(&v)).unwrap();
    assert_eq!(t.amount, 20_000_000);
    for bad in [
        transfer(json!(0)),
        transfer(json!("20000000")),
        transfer(json!(1.5)),
        transfer(json!(-5)),
        "[]".into(),
        "{}".into(),
        "not json".into(),
        json!([{"type": "payment_initiation"}]).to_string(),
        transfer(json!(5)).replace("VND", "USD"),
        transfer(json!(5)).replace("0123456789", "12ab"),
        transfer(json!(5)).replace("970436", "vcb"),
        transfer(json!(5)).replace("\"reference\"", "\"extra\":1,\"reference\""),
    ] {
        let e = parse(&bad, &bank()).unwrap_err();
        assert_eq!(e.error.as_str(), "invalid_authorization_details", "{bad}");
    }
    let mut portal = bank();
    portal.kind = ClientKind::Portal;
    assert!(parse(&transfer(json!(5)), &portal).is_err(), "only banks");
}

#[test]
fn the_sbv_thresholds() {
    let t = |amount| Transfer {
        amount,
        ..transfer_of(Some(&parse(&transfer(json!(1)), &bank()).unwrap())).unwrap()
    };
    assert!(t(20_000_000).needs_biometric(0));
    assert!(!t(10_000_000).needs_biometric(0), "over 10M, not at it");
    assert!(t(10_000_001).needs_biometric(0));
    assert!(!t(5_000_000).needs_biometric(0));
    assert!(
        !t(9_000_000).needs_biometric(11_000_000),
        "20M exactly is within the day"
    );
    assert!(t(9_000_000).needs_biometric(11_000_001));
}

#[test]
fn the_schema_names_the_same_fields() {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/schemas/vn_bank_transfer.json")).unwrap();
    let mut props: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    props.sort();
    let mut example = transfer_of(Some(&parse(&transfer(json!(1)), &bank()).unwrap())).unwrap();
    example.approval_id = Some("a1".into());
    let v = serde_json::to_value(example).unwrap();
    let mut ours: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    ours.sort();
    assert_eq!(props, ours);
}

#[test]
fn amounts_in_words() {
    assert_eq!(words::vi(20_000_000), "hai mươi triệu đồng");
    assert_eq!(words::vi(16_000_000), "mười sáu triệu đồng");
    assert_eq!(words::vi(5_000_000), "năm triệu đồng");
    assert_eq!(words::vi(10_500_000), "mười triệu năm trăm nghìn đồng");
    assert_eq!(
        words::vi(1_005_000),
        "một triệu không trăm linh năm nghìn đồng"
    );
    assert_eq!(words::vi(21_000), "hai mươi mốt nghìn đồng");
    assert_eq!(words::vi(115), "một trăm mười lăm đồng");
    assert_eq!(words::en(20_000_000), "twenty million dong");
    assert_eq!(
        words::en(1_234_567),
        "one million two hundred thirty-four thousand five hundred sixty-seven dong"
    );
    assert_eq!(words::digits(20_000_000), "20.000.000");
    assert_eq!(words::digits(500), "500");
}
