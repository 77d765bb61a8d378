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
        name: "Portal".into(),
        kind: "portal".into(),
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
        name: "Portal".into(),
        kind: "portal".into(),
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

#[test]
fn a_bank_is_fapi2_unless_an_override_says_why() {
    let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
    let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
    let n = NewClient {
        name: "Bank".into(),
        kind: "bank".into(),
        redirect_uris: vec!["https://bank.vn/cb".into()],
        jwks: Some(jwks.into()),
        ..Default::default()
    };
    let (rec, secret) = build(&n, &kek, 0).unwrap();
    assert!(profile::is_fapi2(&rec) && secret.is_none());
    assert_eq!(rec.auth_method, "private_key_jwt");
    let secret_bank = NewClient {
        auth_method: Some("client_secret_basic".into()),
        ..n.clone()
    };
    assert_eq!(
        build(&secret_bank, &kek, 0).unwrap_err().field,
        "auth_method"
    );
    let rs256 = NewClient {
        id_token_alg: Some("RS256".into()),
        ..n.clone()
    };
    assert_eq!(build(&rs256, &kek, 0).unwrap_err().field, "id_token_alg");
    let standard = NewClient {
        profile: Some(Profile::Standard),
        auth_method: Some("client_secret_basic".into()),
        ..n.clone()
    };
    assert_eq!(build(&standard, &kek, 0).unwrap_err().field, "policy");
    let with_reason = NewClient {
        policy_override: Some("Hệ thống cũ, chuyển đổi trước 2027".into()),
        ..standard
    };
    let (rec, secret) = build(&with_reason, &kek, 0).unwrap();
    assert!(!profile::is_fapi2(&rec) && secret.is_some());
}
