use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_800_000_000;
const TOKEN_URL: &str = "https://id.example/token";

fn kek() -> Kek {
    Kek::from_bytes(&[7; 32], true).unwrap()
}

struct Key {
    pkcs8: Vec<u8>,
    jwk: Jwk,
}

fn key() -> Key {
    let rng = ring::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
            key_type: EllipticCurveKeyType::EC,
            curve: EllipticCurve::P256,
            x: crypto::b64url(&point[1..33]),
            y: crypto::b64url(&point[33..65]),
        }),
    };
    Key {
        pkcs8: doc.as_ref().to_vec(),
        jwk,
    }
}

fn sign(k: &Key, typ: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.typ = Some(typ.into());
    h.jwk = Some(k.jwk.clone());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&k.pkcs8)).unwrap()
}

fn claims(nonce: Option<String>) -> Value {
    let mut c = json!({"jti": "j1", "htm": "POST", "htu": TOKEN_URL, "iat": NOW});
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    c
}

fn at_token() -> Expect<'static> {
    Expect {
        htm: "POST",
        htu: TOKEN_URL,
        access_token: None,
    }
}

#[test]
fn a_good_proof_gives_the_keys_thumbprint() {
    let k = key();
    let proof = sign(&k, "dpop+jwt", &claims(Some(nonce(&kek(), NOW))));
    let p = read(&kek(), &proof, &at_token(), NOW, true).unwrap();
    assert_eq!(p.jkt, k.jwk.thumbprint(ThumbprintHash::SHA256).unwrap());
    assert_eq!(p.jti, "j1");
}

#[test]
fn wrong_typ_method_url_or_time_is_refused() {
    let k = key();
    let n = Some(nonce(&kek(), NOW));
    let e = |proof: String| read(&kek(), &proof, &at_token(), NOW, true).unwrap_err();
    assert_eq!(
        e(sign(&k, "JWT", &claims(n.clone()))).error.as_str(),
        "invalid_dpop_proof"
    );
    let mut c = claims(n.clone());
    c["htm"] = json!("GET");
    assert!(e(sign(&k, "dpop+jwt", &c)).description.contains("htm"));
    let mut c = claims(n.clone());
    c["htu"] = json!("https://id.example/userinfo");
    assert!(e(sign(&k, "dpop+jwt", &c)).description.contains("htu"));
    let mut c = claims(n.clone());
    c["iat"] = json!(NOW - 3600);
    assert!(e(sign(&k, "dpop+jwt", &c)).description.contains("iat"));
    // A query string on htu is ignored (RFC 9449 §4.3).
    let mut c = claims(n);
    c["htu"] = json!(format!("{TOKEN_URL}?x=1"));
    assert!(read(&kek(), &sign(&k, "dpop+jwt", &c), &at_token(), NOW, true).is_ok());
}

#[test]
fn a_missing_or_stale_nonce_asks_for_a_new_one() {
    let k = key();
    let e = read(
        &kek(),
        &sign(&k, "dpop+jwt", &claims(None)),
        &at_token(),
        NOW,
        true,
    );
    assert_eq!(e.unwrap_err().error.as_str(), "use_dpop_nonce");
    let old = nonce(&kek(), NOW - 2 * NONCE_WINDOW);
    let e = read(
        &kek(),
        &sign(&k, "dpop+jwt", &claims(Some(old))),
        &at_token(),
        NOW,
        true,
    );
    assert_eq!(e.unwrap_err().error.as_str(), "use_dpop_nonce");
    let forged = format!("{}.AAAAAAAAAAAAAAAAAAAAAA", NOW / NONCE_WINDOW);
    let e = read(
        &kek(),
        &sign(&k, "dpop+jwt", &claims(Some(forged))),
        &at_token(),
        NOW,
        true,
    );
    assert_eq!(e.unwrap_err().error.as_str(), "use_dpop_nonce");
    // The previous window's nonce still works.
    let prev = nonce(&kek(), NOW - NONCE_WINDOW);
    assert!(
        read(
            &kek(),
            &sign(&k, "dpop+jwt", &claims(Some(prev))),
            &at_token(),
            NOW,
            true
        )
        .is_ok()
    );
}

#[test]
fn ath_must_hash_the_presented_token() {
    let k = key();
    let token = "an.access.token";
    let expect = Expect {
        htm: "POST",
        htu: TOKEN_URL,
        access_token: Some(token),
    };
    let mut c = claims(Some(nonce(&kek(), NOW)));
    assert!(read(&kek(), &sign(&k, "dpop+jwt", &c), &expect, NOW, true).is_err());
    c["ath"] = json!(crypto::b64url(&crypto::digest("another.token")));
    assert!(read(&kek(), &sign(&k, "dpop+jwt", &c), &expect, NOW, true).is_err());
    c["ath"] = json!(crypto::b64url(&crypto::digest(token)));
    assert!(read(&kek(), &sign(&k, "dpop+jwt", &c), &expect, NOW, true).is_ok());
}

#[test]
fn a_signature_by_another_key_or_a_private_jwk_is_refused() {
    let (k1, k2) = (key(), key());
    let mut proof = sign(&k1, "dpop+jwt", &claims(Some(nonce(&kek(), NOW))));
    // Swap in k2's public key: the signature no longer verifies.
    let other = sign(&k2, "dpop+jwt", &claims(None));
    let head = other.split('.').next().unwrap().to_string();
    let rest = proof.split_once('.').unwrap().1.to_string();
    proof = format!("{head}.{rest}");
    assert!(read(&kek(), &proof, &at_token(), NOW, true).is_err());
    let mut h: Value =
        serde_json::from_slice(&crypto::b64url_decode(proof.split('.').next().unwrap()).unwrap())
            .unwrap();
    h["jwk"]["d"] = json!("AAAA");
    let forged = format!("{}.{rest}", crypto::b64url(h.to_string().as_bytes()));
    let e = read(&kek(), &forged, &at_token(), NOW, true).unwrap_err();
    assert!(e.description.contains("public"));
    assert!(read(&kek(), "not a jwt", &at_token(), NOW, true).is_err());
}

#[test]
fn an_eddsa_proof_verifies_and_a_wrong_curve_does_not() {
    use jsonwebtoken::jwk::{OctetKeyPairParameters, OctetKeyPairType};
    use ring::signature::Ed25519KeyPair;
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    let jwk = Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: crypto::b64url(pair.public_key().as_ref()),
        }),
    };
    let mut h = Header::new(Algorithm::EdDSA);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(jwk.clone());
    let c = claims(Some(nonce(&kek(), NOW)));
    let proof = jsonwebtoken::encode(&h, &c, &EncodingKey::from_ed_der(doc.as_ref())).unwrap();
    let p = read(&kek(), &proof, &at_token(), NOW, true).unwrap();
    assert_eq!(p.jkt, jwk.thumbprint(ThumbprintHash::SHA256).unwrap());
    // The same signature presented as ES256 with a P-256 key: refused.
    let k = key();
    let mut h2 = Header::new(Algorithm::ES256);
    h2.typ = Some("dpop+jwt".into());
    h2.jwk = Some(k.jwk.clone());
    let head = crypto::b64url(serde_json::to_string(&h2).unwrap().as_bytes());
    let rest = proof.split_once('.').unwrap().1;
    assert!(read(&kek(), &format!("{head}.{rest}"), &at_token(), NOW, true).is_err());
}
