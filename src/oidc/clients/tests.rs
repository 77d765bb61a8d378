use super::*;

#[test]
fn redirect_uri_rules() {
    assert!(check_redirect_uri("r", "https://bank.vn/cb").is_ok());
    assert!(check_redirect_uri("r", "http://127.0.0.1:9000/cb").is_ok());
    assert!(check_redirect_uri("r", "http://bank.vn/cb").is_err());
    assert!(check_redirect_uri("r", "https://bank.vn/cb#x").is_err());
    assert!(check_redirect_uri("r", "vn.gov.app:/cb").is_ok());
    assert!(check_redirect_uri("r", "javascript:alert(1)").is_err());
}

#[test]
fn confidential_client_gets_a_secret_stored_hashed() {
    let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
    let n = NewClient {
        name: "Bank".into(),
        kind: "bank".into(),
        redirect_uris: vec!["https://bank.vn/cb".into()],
        min_account_level: Some(2),
        ..Default::default()
    };
    let (rec, secret) = build(&n, &kek, 0).unwrap();
    let secret = secret.unwrap();
    assert!(secret.len() >= 43);
    assert!(kek.secret_matches(&secret, rec.secret_hash.as_ref().unwrap()));
    assert!(allows_grant(&rec, "client_credentials"));
}

#[test]
fn public_client_rules() {
    let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
    let mut n = NewClient {
        name: "App".into(),
        kind: "portal".into(),
        redirect_uris: vec!["http://127.0.0.1/cb".into()],
        public: true,
        min_account_level: Some(1),
        ..Default::default()
    };
    let (rec, secret) = build(&n, &kek, 0).unwrap();
    assert!(secret.is_none() && is_public(&rec) && !allows_grant(&rec, "client_credentials"));
    n.grant_types = Some(vec!["client_credentials".into()]);
    assert!(build(&n, &kek, 0).is_err());
}

#[test]
fn a_backchannel_logout_uri_is_checked_at_registration() {
    let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
    let n = NewClient {
        name: "Bank".into(),
        kind: "bank".into(),
        redirect_uris: vec!["https://bank.vn/cb".into()],
        min_account_level: Some(2),
        backchannel_logout_uri: Some("http://bank.vn/bcl".into()),
        ..Default::default()
    };
    let e = build(&n, &kek, 0).unwrap_err();
    assert_eq!(e.field, "backchannel_logout_uri");
    let required_alone = NewClient {
        backchannel_logout_uri: None,
        backchannel_logout_session_required: true,
        ..n.clone()
    };
    assert!(build(&required_alone, &kek, 0).is_err());
    let good = NewClient {
        backchannel_logout_uri: Some("https://bank.vn/bcl".into()),
        backchannel_logout_session_required: true,
        ..n
    };
    let (rec, _) = build(&good, &kek, 0).unwrap();
    assert_eq!(
        rec.settings.backchannel_logout_uri.as_deref(),
        Some("https://bank.vn/bcl")
    );
    assert!(rec.settings.backchannel_logout_session_required);
}
