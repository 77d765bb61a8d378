//! A bank transfer in Debian's chromium (tests/browser/transfer.mjs): a pushed 20,000,000 VND
//! transfer, the face step with a fake camera, then the consent page showing the transfer in
//! digits and words; the bank (here, with its keys and DPoP) redeems the code.

use serde_json::json;

use crate::browser::{chromium, node};
use crate::common::fapi::{Bank, make_level2};
use crate::common::{PHONE, REDIRECT_URI, pkce, start_on_localhost};
use crate::face_browser::y4m;
use crate::flow::decode_payload;
use crate::transfers::transfer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_takes_the_face_step_then_approves_the_transfer() {
    let Some(chromium) = chromium() else {
        return;
    };
    let s = start_on_localhost().await;
    let bank = Bank::register(&s).await;
    let who = s.citizen(181).await;
    make_level2(&s, &who).await;
    let (verifier, challenge) = pkce();
    let uri = bank
        .push(
            &challenge,
            &json!({"authorization_details": transfer(20_000_000)}),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("face.y4m");
    std::fs::write(&video, y4m(160, 120, 10)).unwrap();
    let line = node(
        "transfer.mjs",
        vec![
            ("EIDP_AUTHORIZE_URL", bank.authorize_url(&uri)),
            ("EIDP_REDIRECT_URI", REDIRECT_URI.into()),
            ("EIDP_ID_NUMBER", who.id_number.clone()),
            ("EIDP_PASSWORD", who.password.clone()),
            ("EIDP_OUTBOX", s.outbox_path().display().to_string()),
            ("EIDP_PHONE", PHONE.into()),
            ("EIDP_FAKE_VIDEO", video.display().to_string()),
            ("CHROMIUM", chromium),
        ],
    )
    .await;
    eprintln!("browser transfer test: {line}");
    assert_eq!(line["amount"], "20.000.000 VND");
    assert_eq!(line["words"], "hai mươi triệu đồng");
    assert!(
        line["creditor"]
            .as_str()
            .unwrap()
            .contains("Công ty TNHH Hoa Sen")
    );
    let cb = url::Url::parse(line["callback"].as_str().unwrap()).unwrap();
    let a = bank.redeem(&cb, &verifier).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let t = a.json();
    let idt = decode_payload(t["id_token"].as_str().unwrap());
    assert!(idt["acr"].as_str().unwrap() >= "urn:vn:eid:loa:3", "{idt}");
    assert!(idt["amr"].as_array().unwrap().contains(&json!("face")));
    assert_eq!(t["authorization_details"][0]["amount"], 20_000_000);
}
