//! Seeds the KYC load run (tests/load/run.sh, scenario `kyc_dpop`): against the provider's own
//! database and keys, a Level-2 citizen, a `fapi2` bank, a DPoP-bound grant at `loa:3` with the
//! `kyc` scope, its access token — and `--proofs` single-use DPoP proofs for
//! `GET {issuer}/api/kyc/v1/identity`, each with its own `jti`, the token's `ath` and a current
//! server nonce. Prints the access token on the first line, then one proof per line.
//!
//!     cargo run --release --example kyc-seed -- --database-url URL --keys-dir DIR \
//!         --issuer URL --proofs 150000 > proofs.txt
//!
//! A seed, not a test: it writes what a real flow would have written (the flow itself is
//! tested in tests/it/fapi.rs), so the run measures the endpoint alone.

// A seed run by a script: stopping loudly at the first failure is its error handling.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::json;

use eidp::clock::{Clock, SystemClock};
use eidp::config::Config;
use eidp::oidc::clients::{self, NewClient};
use eidp::store::{GrantRecord, VerificationRecord};

fn arg(name: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| panic!("missing {name}"))
}

#[tokio::main]
async fn main() {
    let issuer = arg("--issuer");
    let count: usize = arg("--proofs").parse().unwrap();
    let cfg = Config {
        issuer: issuer.clone(),
        database_url: arg("--database-url"),
        keys_dir: arg("--keys-dir").into(),
        redis_url: std::env::var("EIDP_REDIS_URL").ok(),
        demo: false,
        ..Config::default()
    };
    let clock = Arc::new(SystemClock);
    let app = eidp::build_app(cfg, clock.clone()).await.unwrap();
    let p = app.provider.clone();
    let now = clock.now();
    let db = p.db.as_ref();

    let id_number = "001090765432";
    let input = eidp::identity::NewAccount {
        id_number: id_number.into(),
        phone: "0912000222".into(),
        full_name: Some("Khách Hàng Ngân".into()),
        birth_date: Some("1990-05-20".into()),
        sex: Some("male".into()),
        email: None,
    };
    let hash = |_: &str| Ok::<_, String>("$argon2id$v=19$m=19456,t=2,p=1$unused$unused".into());
    let (account, _) = eidp::identity::create_account(db, &input, "Bench-Kyc-2026!", hash, now)
        .await
        .unwrap();
    db.insert_verification(&VerificationRecord {
        id_number: id_number.into(),
        officer_id: "bench".into(),
        unit: Some("Công an phường Bến Nghé".into()),
        evidence_ref: "BENCH-1".into(),
        chip_authentic: true,
        biometric_match: true,
        verified_at: now - 86_400,
    })
    .await
    .unwrap();
    db.set_level(account.sub.as_str(), 2, now).await.unwrap();

    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let pt = pair.public_key().as_ref();
    let (x, y) = (
        eidp::crypto::b64url(&pt[1..33]),
        eidp::crypto::b64url(&pt[33..65]),
    );
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
    let canon = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let jkt = eidp::crypto::b64url(&eidp::crypto::digest(&canon));

    let bank = NewClient {
        name: "Bench Bank".into(),
        kind: "bank".into(),
        redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
        jwks: Some(json!({"keys": [jwk]}).to_string()),
        ..Default::default()
    };
    let (client, _) = clients::build(&bank, &p.kek, now).unwrap();
    db.insert_client(&client).await.unwrap();
    let grant = GrantRecord {
        id: eidp::crypto::random_id().unwrap(),
        client_id: client.client_id.clone(),
        sub: Some(account.sub.clone()),
        rp_sub: Some(eidp::oidc::subject::for_client(
            &p.kek,
            &client,
            &account.sub,
        )),
        scope: "openid kyc".into(),
        auth_time: Some(now),
        acr: Some("urn:vn:eid:loa:3".into()),
        amr: vec!["pwd".into(), "face".into(), "mfa".into()],
        sid: None,
        claims: None,
        created_at: now,
        expires_at: now + 3600,
        revoked_at: None,
        refresh_generation: None,
        refresh_issued_at: None,
        consented: None,
        dpop_jkt: Some(jkt),
        authorization_details: None,
    };
    db.insert_grant(&grant).await.unwrap();
    let at = eidp::oidc::tokens::access_token(&p, &grant, 3600, now).unwrap();

    let url = format!("{issuer}{}", eidp::oidc::paths::KYC_IDENTITY);
    let nonce = eidp::oidc::dpop::nonce(&p.kek, now);
    let ath = eidp::crypto::b64url(&eidp::crypto::digest(&at));
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut h = Header::new(Algorithm::ES256);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(serde_json::from_value(jwk).unwrap());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "{at}").unwrap();
    for i in 0..count {
        let c = json!({"jti": format!("bench-{i}"), "htm": "GET", "htu": url, "iat": now,
            "ath": ath, "nonce": nonce});
        writeln!(out, "{}", jsonwebtoken::encode(&h, &c, &key).unwrap()).unwrap();
    }
}
