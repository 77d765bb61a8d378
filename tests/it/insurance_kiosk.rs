//! The kiosk sign-in (issue #17): a hospital client asks for the `health_insurance` scope in
//! the ordinary code flow; the card facts reach UserInfo only after the patient consents to
//! them, and inside `verified_claims` for a Level-2 account. And the admins' view of a
//! hospital's look-ups: operators without an officer record, unusually busy hours.

use eidp::oidc::clients::NewClient;
use eidp::store::{Purpose, VerificationRecord};
use serde_json::{Value, json};

use crate::common::{self, Browser, REDIRECT_URI, TestServer, authorize_url, pkce, redeem};
use crate::insurance::{OPERATOR, ask, card, hospital, look_up, put_card, token};

/// A hospital kiosk whose check-in purpose needs the name only: the card is optional.
async fn kiosk(s: &TestServer) -> (eidp::store::ClientRecord, String) {
    let (c, secret) = s
        .client(NewClient {
            name: "Kiosk Bạch Mai".into(),
            kind: "hospital".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            purposes: vec![Purpose {
                id: "checkin".into(),
                text_vi: "Đăng ký khám bệnh tại quầy tự phục vụ".into(),
                text_en: "Checking in for a visit at the self-service kiosk".into(),
                required_claims: vec!["name".into()],
                version: 1,
            }],
            ..Default::default()
        })
        .await;
    (c, secret.unwrap())
}

async fn userinfo_after(
    s: &TestServer,
    c: &eidp::store::ClientRecord,
    secret: &str,
    who: &common::Citizen,
    extra: &[(&str, &str)],
    share: &[&str],
) -> Value {
    let (verifier, challenge) = pkce();
    let url = authorize_url(&s.base, &c.client_id, &challenge, extra).replace(
        "scope=openid+profile",
        "scope=openid+profile+health_insurance",
    );
    let cb = Browser::new()
        .sign_in_sharing(&url, &who.id_number, &who.password, share)
        .await
        .expect_redirect();
    let tokens = redeem(s, &c.client_id, secret, &cb, &verifier).await;
    common::userinfo(s, tokens["access_token"].as_str().unwrap()).await
}

#[tokio::test]
async fn the_kiosk_flow_returns_health_insurance_after_consent_and_not_without_it() {
    let s = TestServer::start().await;
    let who = s.citizen(711).await;
    put_card(&s, card(&who.id_number, "DN4790000000711")).await;
    let (c, secret) = kiosk(&s).await;

    let info = userinfo_after(&s, &c, &secret, &who, &[], &[]).await;
    assert_eq!(info["name"], "Trần Thị Bình", "{info}");
    assert!(
        info.get("health_insurance").is_none(),
        "not ticked, not shared: {info}"
    );

    let again = [("prompt", "consent")];
    let info = userinfo_after(&s, &c, &secret, &who, &again, &["health_insurance"]).await;
    let hi = &info["health_insurance"];
    assert_eq!(hi["card"]["code"], "DN4790000000711", "{info}");
    assert_eq!(hi["eligible"], true);
    assert_eq!(hi["registered_facility"]["name"], "Bệnh viện Bạch Mai");
    assert_eq!(hi["benefit_level"], 4);
    assert!(
        info.get("verified_claims").is_none(),
        "a Level-1 account: {info}"
    );

    let history = s
        .provider
        .db
        .audit_for_subject(&who.sub, 0, 100)
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.action == "disclosure" && e.detail.contains("health_insurance")),
        "the release is in the person's history"
    );
}

#[tokio::test]
async fn a_level_2_account_gets_the_card_inside_verified_claims() {
    let s = TestServer::start().await;
    let who = s.citizen(712).await;
    put_card(&s, card(&who.id_number, "DN4790000000712")).await;
    let db = &s.provider.db;
    let check = VerificationRecord {
        id_number: who.id_number.clone(),
        officer_id: "cb-017".into(),
        unit: Some("Công an phường Hàng Bài".into()),
        evidence_ref: "HS-2026-000712".into(),
        chip_authentic: true,
        biometric_match: true,
        verified_at: s.provider.now() - 86_400,
    };
    db.insert_verification(&check).await.unwrap();
    db.set_level(&who.sub, 2, s.provider.now()).await.unwrap();
    let (c, secret) = hospital(&s).await;
    let claims = json!({"userinfo": {"verified_claims": {
        "verification": {"trust_framework": {"value": "vn_eid"}},
        "claims": {"name": null, "health_insurance": null}}}})
    .to_string();
    let info = userinfo_after(&s, &c, &secret, &who, &[("claims", &claims)], &[]).await;
    let vc = &info["verified_claims"];
    assert_eq!(vc["verification"]["assurance_level"], "level2", "{info}");
    assert_eq!(
        vc["claims"]["health_insurance"]["card"]["code"],
        "DN4790000000712"
    );
    assert_eq!(info["health_insurance"]["card"]["code"], "DN4790000000712");
}

#[tokio::test]
async fn admins_see_a_hospitals_lookups_flagged() {
    let s = TestServer::start().await;
    // The hospital's desk clerk is on record as an officer, by name and ID number.
    let clerk = [
        "admin",
        "officers",
        "create",
        "--officer-id",
        "BV-1",
        "--name",
        OPERATOR.0,
        "--role",
        "officer",
        "--id-number",
        OPERATOR.1,
        "--json",
    ];
    let (ok, _, err) = s.cli(&clerk, None);
    assert!(ok, "{err}");
    let (h, secret) = hospital(&s).await;
    put_card(&s, card("079190100713", "DN4790000000713")).await;
    let body = ask(json!({"id_number": "079190100713"}));
    let mut stranger = body.clone();
    stranger["operator"] = json!({"name": "Lê Văn Tám", "id_number": "001090000888"});
    // Three quiet hours, then a burst.
    for _ in 0..3 {
        let at = token(&s, &h, &secret, "insurance:eligibility").await;
        for _ in 0..2 {
            assert_eq!(look_up(&s, &at, &body.to_string()).await.0, 200);
        }
        s.clock.advance(3600);
    }
    let at = token(&s, &h, &secret, "insurance:eligibility").await;
    assert_eq!(look_up(&s, &at, &stranger.to_string()).await.0, 200);
    for _ in 0..29 {
        assert_eq!(look_up(&s, &at, &body.to_string()).await.0, 200);
    }
    let list = |token: String| {
        let url = s.url(&format!(
            "/admin/v1/insurance/lookups?client_id={}",
            h.client_id
        ));
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let admin = common::officer(&s, "AD-17", "admin", "001085000017").await;
    let (status, l) = list(admin).await;
    assert_eq!(status, 200, "{l}");
    let rows = l["lookups"].as_array().unwrap();
    assert_eq!(rows.len(), 36);
    assert_eq!(l["baseline_per_hour"], 2);
    assert_eq!(l["unusual_hours"].as_array().unwrap().len(), 1, "{l}");
    let flags = |r: &Value| -> Vec<String> {
        r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().into())
            .collect()
    };
    let odd = rows
        .iter()
        .find(|r| r["operator_name"] == "Lê Văn Tám")
        .unwrap();
    assert_eq!(flags(odd), ["no_officer_record", "unusual_volume"]);
    let quiet = rows.last().unwrap();
    assert_eq!(quiet["operator_id_number"], OPERATOR.1);
    assert!(flags(quiet).is_empty(), "{quiet}");
    assert_eq!(quiet["purpose"], "outpatient");

    let clerk = common::officer(&s, "CA-17", "officer", "001085000018").await;
    assert_eq!(list(clerk).await.0, 403, "listing needs the admin role");
    let (ok, out, err) = s.cli(
        &[
            "admin",
            "insurance",
            "lookups",
            "--client",
            &h.client_id,
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let cli: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(cli["lookups"].as_array().unwrap().len(), 36);
}
