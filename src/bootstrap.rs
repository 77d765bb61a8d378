//! First-start conveniences for development: a demo citizen and a demo public client, and
//! instructions printed to the console. Never run in production mode.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::authn::password;
use crate::crypto::{self, kek::write_private};
use crate::identity::{self, NewAccount};
use crate::oidc::{Provider, clients};

pub const DEMO_ID_NUMBER: &str = "001090000001";
pub const DEMO_CLIENT_NAME: &str = "Demo portal (public client)";
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:9000/callback";

#[derive(Serialize, Deserialize)]
struct DemoFile {
    id_number: String,
    password: String,
}

pub struct Demo {
    pub id_number: String,
    pub password: String,
    pub client_id: String,
}

fn demo_password() -> Result<String, String> {
    let r = crypto::random_token().map_err(|e| e.to_string())?;
    // Upper, lower, digit and symbol regardless of the random part: the policy always holds.
    Ok(format!("Demo-{}9a", r.get(..10).unwrap_or("xxxxxxxxxx")))
}

/// Create (first start) or read back (later starts) the demo citizen and client.
pub async fn ensure_demo(p: &Provider, keys_dir: &Path) -> Result<Demo, String> {
    let file = keys_dir.join("demo-citizen.json");
    let saved: Option<DemoFile> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let account =
        p.db.account_by_id_number(DEMO_ID_NUMBER)
            .await
            .map_err(|e| e.to_string())?;
    let creds = match (account, saved) {
        (Some(_), Some(saved)) => saved,
        (Some(_), None) => DemoFile {
            id_number: DEMO_ID_NUMBER.into(),
            password: "(set elsewhere)".into(),
        },
        (None, _) => {
            let pw = demo_password()?;
            let input = NewAccount {
                id_number: DEMO_ID_NUMBER.into(),
                phone: "0912345678".into(),
                full_name: Some("Nguyễn Văn An".into()),
                birth_date: Some("1990-05-15".into()),
                sex: Some("male".into()),
                email: Some("an.nguyen@example.vn".into()),
            };
            identity::create_account(p.db.as_ref(), &input, &pw, password::hash, p.now())
                .await
                .map_err(|e| e.to_string())?;
            let saved = DemoFile {
                id_number: DEMO_ID_NUMBER.into(),
                password: pw,
            };
            let _ = std::fs::remove_file(&file);
            write_private(
                &file,
                &serde_json::to_string(&saved).map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            saved
        }
    };
    let client = match p
        .db
        .client_by_name(DEMO_CLIENT_NAME)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(c) => c,
        None => {
            let n = clients::NewClient {
                name: DEMO_CLIENT_NAME.into(),
                kind: "portal".into(),
                redirect_uris: vec![
                    DEMO_REDIRECT_URI.into(),
                    "http://localhost:9000/callback".into(),
                ],
                post_logout_redirect_uris: vec!["http://127.0.0.1:9000/".into()],
                public: true,
                min_account_level: Some(1),
                ..Default::default()
            };
            let (rec, _) = clients::build(&n, &p.kek, p.now()).map_err(|e| e.to_string())?;
            p.db.insert_client(&rec).await.map_err(|e| e.to_string())?;
            rec
        }
    };
    Ok(Demo {
        id_number: creds.id_number,
        password: creds.password,
        client_id: client.client_id.to_string(),
    })
}

/// What a newcomer needs to try a sign-in, printed at start.
pub fn instructions(p: &Provider, d: &Demo) -> String {
    let verifier = crypto::random_token().unwrap_or_default();
    let challenge =
        crypto::b64url(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &d.client_id)
        .append_pair("redirect_uri", DEMO_REDIRECT_URI)
        .append_pair("scope", "openid profile eid")
        .append_pair("state", "demo")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let url = format!("{}?{query}", p.cfg.url(crate::oidc::paths::AUTHORIZE));
    format!(
        "\n  eidp is ready at {issuer}\n  discovery: {issuer}/.well-known/openid-configuration\n\n  \
         Demo citizen   ID number {id}   password {pw}\n  \
         Demo client    {cid} (public, PKCE; redirect {redir})\n\n  \
         Try it: open this URL in a browser, sign in, approve, then copy `code` from the address bar:\n  \
         {url}\n\n  Then exchange the code:\n  \
         curl -s {issuer}/token -d grant_type=authorization_code -d client_id={cid} \\\n    \
         -d redirect_uri={redir} -d code_verifier={verifier} -d code=PASTE_CODE\n",
        issuer = p.issuer(),
        id = d.id_number,
        pw = d.password,
        cid = d.client_id,
        redir = DEMO_REDIRECT_URI,
    )
}
