#![allow(clippy::expect_used)]

//! Microbenchmarks of the hot paths, so regressions show up: `cargo bench --bench micro`.
//! ES256 signing is the floor of every token response; the argon2id hash is the cost we choose
//! to pay per password sign-in.

use criterion::{Criterion, criterion_group, criterion_main};
use eidp::crypto::{self, Kek, jwt, keyset};
use jsonwebtoken::Algorithm;
use std::hint::black_box;

fn keys() -> (crypto::KeySet, Kek) {
    let kek = Kek::from_bytes(&[7u8; 32], true).expect("kek");
    let rec = keyset::generate(Algorithm::ES256, &kek, 0, 0).expect("key");
    (
        crypto::KeySet::from_records(&[rec], &kek).expect("set"),
        kek,
    )
}

fn tokens(c: &mut Criterion) {
    let (set, kek) = keys();
    let claims = serde_json::json!({"iss": "https://id.example.vn", "sub": "u", "aud": "c", "exp": 4_000_000_000i64,
        "iat": 1, "auth_time": 1, "acr": "urn:vn:eid:loa:1", "amr": ["pwd"], "sid": "s", "nonce": "n"});
    c.bench_function("id_token_sign_es256", |b| {
        b.iter(|| jwt::sign(&set, Algorithm::ES256, "JWT", black_box(&claims), 10).expect("sign"))
    });
    let token = jwt::sign(&set, Algorithm::ES256, "at+jwt", &claims, 10).expect("sign");
    let expect = jwt::Expect {
        issuer: "https://id.example.vn",
        typ: Some("at+jwt"),
        check_exp: true,
    };
    c.bench_function("access_token_validate_es256", |b| {
        b.iter(|| {
            jwt::verify::<serde_json::Value>(&set, black_box(&token), &expect, 10).expect("verify")
        })
    });
    let secret = crypto::random_token().expect("random");
    let stored = kek.secret_digest(&secret);
    c.bench_function("client_secret_verify_hmac", |b| {
        b.iter(|| kek.secret_matches(black_box(&secret), &stored))
    });
}

fn pkce_and_ids(c: &mut Criterion) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    c.bench_function("pkce_s256", |b| {
        b.iter(|| {
            crypto::pkce_s256_matches(
                black_box(verifier),
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            )
        })
    });
    c.bench_function("id_number_validate", |b| {
        b.iter(|| {
            let id = eidp::identity::IdNumber::parse(black_box("079301000123")).expect("valid");
            id.check_consistency(2001, eidp::identity::Sex::Female)
                .expect("consistent")
        })
    });
}

fn password(c: &mut Criterion) {
    let mut g = c.benchmark_group("password");
    g.sample_size(10);
    g.bench_function("argon2id_owasp_hash", |b| {
        b.iter(|| eidp::authn::password::hash(black_box("Mật-khẩu-2026!")).expect("hash"))
    });
    g.finish();
}

criterion_group!(benches, tokens, pkce_and_ids, password);
criterion_main!(benches);
