//! A FAPI 2.0 bank for tests: its own signing key (private_key_jwt, request objects), a DPoP
//! key, and the calls a bank makes — a pushed, signed request, the code exchange and API calls
//! with DPoP proofs (retrying once when the provider asks for a fresh nonce).

use std::sync::Mutex;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use url::Url;

use super::{Browser, Citizen, Landing, REDIRECT_URI, TestServer, browser::input_value};
use eidp::oidc::clients::NewClient;
use eidp::store::ClientRecord;

/// A P-256 key: PKCS#8 for signing and its public JWK.
pub struct EcKey {
    pkcs8: Vec<u8>,
    pub jwk: Value,
}

impl EcKey {
    pub fn new(kid: &str) -> EcKey {
        let rng = ring::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
        let pt = pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": eidp::crypto::b64url(&pt[1..33]), "y": eidp::crypto::b64url(&pt[33..65])});
        EcKey {
            pkcs8: doc.as_ref().to_vec(),
            jwk,
        }
    }

    /// Sign `claims`; `typ`, and the public key in the header (DPoP) or its `kid`.
    pub fn sign(&self, typ: &str, embed_key: bool, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.typ = Some(typ.into());
        if embed_key {
            let mut public = self.jwk.clone();
            for k in ["kid", "alg", "use"] {
                public.as_object_mut().unwrap().remove(k);
            }
            h.jwk = Some(serde_json::from_value(public).unwrap());
        } else {
            h.kid = self.jwk["kid"].as_str().map(String::from);
        }
        jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
    }

    /// The private key as PKCS#8 DER, base64 (for another program to sign with).
    pub fn pkcs8_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.pkcs8)
    }

    /// RFC 7638 thumbprint, as `cnf.jkt` names the key.
    pub fn thumbprint(&self) -> String {
        let canon = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        eidp::crypto::b64url(&eidp::crypto::digest(&canon))
    }
}

pub fn ath(token: &str) -> String {
    eidp::crypto::b64url(&eidp::crypto::digest(token))
}

/// What a bank's call came back with.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub www_authenticate: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub struct Bank {
    pub client: ClientRecord,
    pub key: EcKey,
    pub dpop: EcKey,
    pub base: String,
    provider: std::sync::Arc<eidp::oidc::Provider>,
    nonce: Mutex<Option<String>>,
    http: reqwest::Client,
}

/// Make a Level-1 citizen Level 2 (an in-person check on record).
pub async fn make_level2(s: &TestServer, who: &Citizen) {
    let check = eidp::store::VerificationRecord {
        id_number: who.id_number.clone(),
        officer_id: "cb-017".into(),
        unit: Some("Công an phường Hàng Bài".into()),
        evidence_ref: "HS-2026-000123".into(),
        chip_authentic: true,
        biometric_match: true,
        verified_at: s.provider.now() - 86_400,
    };
    s.provider.db.insert_verification(&check).await.unwrap();
    s.provider
        .db
        .set_level(&who.sub, 2, s.provider.now())
        .await
        .unwrap();
}

impl Bank {
    /// A bank registered the default way (`fapi2`), with `private_key_jwt` keys.
    pub async fn register(s: &TestServer) -> Bank {
        let key = EcKey::new("bank-1");
        let (client, secret) = s
            .client(NewClient {
                name: "Ngân hàng Sao Mai".into(),
                kind: "bank".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                jwks: Some(json!({"keys": [key.jwk]}).to_string()),
                ..Default::default()
            })
            .await;
        assert!(secret.is_none(), "a fapi2 client has no secret");
        Bank {
            client,
            key,
            dpop: EcKey::new("dpop"),
            base: s.base.clone(),
            provider: s.provider.clone(),
            nonce: Mutex::new(None),
            http: reqwest::Client::new(),
        }
    }

    pub fn id(&self) -> &str {
        self.client.client_id.as_str()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A `private_key_jwt` client assertion for the issuer.
    pub fn assertion(&self) -> String {
        let now = self.provider.now();
        let jti = eidp::crypto::random_id().unwrap();
        self.key.sign(
            "JWT",
            false,
            &json!({"iss": self.id(), "sub": self.id(), "aud": self.base, "jti": jti,
                "iat": now, "exp": now + 60}),
        )
    }

    /// A DPoP proof for `htm` `url` (with `ath` for `token`), carrying the last nonce heard.
    pub fn proof(&self, htm: &str, url: &str, token: Option<&str>) -> String {
        let mut c = json!({"jti": eidp::crypto::random_id().unwrap(), "htm": htm, "htu": url,
            "iat": self.provider.now()});
        if let Some(n) = self.nonce.lock().unwrap().clone() {
            c["nonce"] = json!(n);
        }
        if let Some(t) = token {
            c["ath"] = json!(ath(t));
        }
        self.dpop.sign("dpop+jwt", true, &c)
    }

    fn heard(&self, resp: &reqwest::Response) {
        if let Some(n) = resp.headers().get("dpop-nonce") {
            *self.nonce.lock().unwrap() = Some(n.to_str().unwrap().to_string());
        }
    }

    async fn answer(&self, resp: reqwest::Response) -> Answer {
        self.heard(&resp);
        let www_authenticate = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        Answer {
            status: resp.status().as_u16(),
            www_authenticate,
            body: resp.text().await.unwrap(),
        }
    }

    fn asks_for_nonce(a: &Answer) -> bool {
        a.body.contains("use_dpop_nonce")
            || a.www_authenticate
                .as_deref()
                .is_some_and(|w| w.contains("use_dpop_nonce"))
    }

    /// POST `form` (plus a fresh client assertion) with a DPoP proof; once more with the new
    /// nonce if the provider asks for one.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        for _ in 0..2 {
            let assertion = self.assertion();
            let mut f: Vec<(&str, &str)> = form.to_vec();
            f.push(("client_assertion_type", eidp::oidc::client_auth::JWT_BEARER));
            f.push(("client_assertion", &assertion));
            let url = self.url(path);
            let resp = self
                .http
                .post(&url)
                .header("DPoP", self.proof("POST", &url, None))
                .form(&f)
                .send()
                .await
                .unwrap();
            let a = self.answer(resp).await;
            if !Self::asks_for_nonce(&a) {
                return a;
            }
        }
        panic!("the provider kept asking for a new DPoP nonce");
    }

    /// GET a protected resource with `Authorization: DPoP` and a proof (`proof` overrides it).
    pub async fn get(&self, path: &str, token: &str, proof: Option<String>) -> Answer {
        let url = self.url(path);
        let send = |p: String| {
            self.http
                .get(&url)
                .header("Authorization", format!("DPoP {token}"))
                .header("DPoP", p)
                .send()
        };
        if let Some(p) = proof {
            return self.answer(send(p).await.unwrap()).await;
        }
        let a = self
            .answer(send(self.proof("GET", &url, Some(token))).await.unwrap())
            .await;
        if !Self::asks_for_nonce(&a) {
            return a;
        }
        self.answer(send(self.proof("GET", &url, Some(token))).await.unwrap())
            .await
    }

    /// A signed request object with the usual parameters plus `extra`.
    pub fn request_object(&self, challenge: &str, extra: &Value) -> String {
        let now = self.provider.now();
        let mut c = json!({"iss": self.id(), "aud": self.base, "client_id": self.id(),
            "exp": now + 300, "nbf": now, "response_type": "code", "redirect_uri": REDIRECT_URI,
            "scope": "openid profile eid kyc", "state": "st-bank", "nonce": "n-bank",
            "code_challenge": challenge, "code_challenge_method": "S256"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.key.sign("oauth-authz-req+jwt", false, &c)
    }

    /// Push a signed request; the `request_uri`.
    pub async fn push(&self, challenge: &str, extra: &Value) -> String {
        let ro = self.request_object(challenge, extra);
        let a = self
            .post("/par", &[("client_id", self.id()), ("request", &ro)])
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["request_uri"].as_str().unwrap().to_string()
    }

    pub fn authorize_url(&self, request_uri: &str) -> String {
        let mut u = Url::parse(&self.url("/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("client_id", self.id())
            .append_pair("request_uri", request_uri);
        u.to_string()
    }

    /// Exchange the code in `cb`.
    pub async fn redeem(&self, cb: &Url, verifier: &str) -> Answer {
        let code = super::query_param(cb, "code").unwrap_or_else(|| panic!("no code in {cb}"));
        self.post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ],
        )
        .await
    }
}

/// On the step-up page `page`: ask for an SMS code and enter it.
pub async fn sms_step_up(s: &TestServer, b: &Browser, page: &str) -> Landing {
    let at = Url::parse(&s.base).unwrap();
    let ar = input_value(page, "ar").unwrap();
    let csrf = input_value(page, "csrf").unwrap();
    b.post_form(&at, "/login/step-up/sms", &[("ar", &ar), ("csrf", &csrf)])
        .await;
    let code = s.last_sms_code(super::PHONE).unwrap();
    let form = [
        ("ar", ar.as_str()),
        ("csrf", &csrf),
        ("method", "sms"),
        ("code", &code),
    ];
    b.post_form(&at, "/login/step-up", &form).await
}

/// On the step-up page `page`: show the camera a face (the development matcher decides);
/// the page the step leads to, or the step's refusal as a 4xx/5xx page.
pub async fn face_step_up(s: &TestServer, b: &Browser, page: &str) -> Landing {
    let ar = input_value(page, "ar").unwrap();
    let at = page.find("data-csrf=\"").unwrap() + "data-csrf=\"".len();
    let csrf = &page[at..at + page[at..].find('"').unwrap()];
    let r = b
        .http
        .post(s.url(&format!("/login/step-up/face?ar={ar}")))
        .header("content-type", "image/jpeg")
        .header("x-csrf-token", csrf)
        .body(crate::face::jpeg())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    match v["redirect"].as_str() {
        Some(next) => {
            let base = Url::parse(&s.base).unwrap();
            let next = base.join(next).unwrap();
            if next.origin() != base.origin() {
                return Landing::Redirect(next);
            }
            let (url, status, body) = b.go(next.as_str()).await;
            match url.origin() == base.origin() {
                true => Landing::Page(status, body),
                false => Landing::Redirect(url),
            }
        }
        None => Landing::Page(status, v.to_string()),
    }
}

/// Play the person from the authorization URL to the client: sign in, the SMS step-up and
/// the face step if asked, approve consent. Returns where it ended.
pub async fn person(s: &TestServer, b: &Browser, url: &str, who: &Citizen) -> Landing {
    let at = Url::parse(&s.base).unwrap();
    let mut landing = b.sign_in(url, &who.id_number, &who.password).await;
    for _ in 0..8 {
        let page = match &landing {
            Landing::Redirect(_) => return landing,
            Landing::Page(_, page) => page.clone(),
        };
        landing = if page.contains("id=\"face-step\"") {
            face_step_up(s, b, &page).await
        } else if page.contains("action=\"/login/step-up/sms\"") {
            sms_step_up(s, b, &page).await
        } else if page.contains("action=\"/consent\"") {
            b.approve(&at, &page, &[]).await
        } else {
            return landing;
        };
    }
    landing
}
