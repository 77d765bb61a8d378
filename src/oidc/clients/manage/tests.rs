use super::rules::{versioned, widened};
use super::*;
use crate::crypto::Kek;

fn client(kind: &str, scopes: &[&str]) -> ClientRecord {
    let kek = Kek::from_bytes(&[4u8; 32], true).unwrap();
    let n = NewClient {
        name: "C".into(),
        kind: kind.into(),
        redirect_uris: vec!["https://c.vn/cb".into()],
        scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    super::super::build(&n, &kek, 0).unwrap().0
}

#[test]
fn narrowing_is_never_widening() {
    let old = client("hospital", &["openid", "profile", "eid"]);
    let mut new = old.clone();
    new.scopes = vec!["openid".into()];
    new.min_account_level = 2;
    new.settings.access_token_ttl = Some(60);
    assert!(widened(&old, &new).is_empty());
}

#[test]
fn each_step_past_the_kind_is_named() {
    let old = client("hospital", &["openid", "eid"]);
    let mut new = old.clone();
    new.scopes.push("address".into());
    new.settings.refresh_token_ttl = Some(30 * 24 * 3600);
    let w = widened(&old, &new);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("address") && w[1].contains("refresh_token_ttl"));
    // Already past the kind (by an earlier override): keeping it, or going back, is not new.
    let mut again = new.clone();
    again.settings.refresh_token_ttl = Some(20 * 24 * 3600);
    assert!(widened(&new, &again).is_empty());
}

#[test]
fn a_changed_purpose_text_gets_a_new_version() {
    let p = |vi: &str, v: i64| Purpose {
        id: "open".into(),
        text_vi: vi.into(),
        text_en: "Open an account".into(),
        required_claims: vec![],
        version: v,
    };
    assert_eq!(
        versioned(&[p("Mở tài khoản mới", 1)], &[p("Mở tài khoản", 3)])[0].version,
        4
    );
    assert_eq!(
        versioned(&[p("Mở tài khoản", 1)], &[p("Mở tài khoản", 3)])[0].version,
        3
    );
    assert_eq!(versioned(&[p("Mở", 1)], &[])[0].version, 1);
}
