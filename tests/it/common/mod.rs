//! Test harness: the provider in-process on a free port (SQLite in a temp dir + memory store by
//! default; PostgreSQL/Redis when `EIDP_TEST_DATABASE_URL` / `EIDP_TEST_REDIS_URL` are set),
//! a clock the tests can move, and a scripted browser that fills in the provider's forms.

#![allow(dead_code)]

pub mod browser;
pub mod fapi;
mod officers;
pub mod services;

pub use officers::officer;

use std::sync::Arc;

use eidp::clock::OffsetClock;
use eidp::config::Config;
use eidp::identity::NewAccount;
use eidp::oidc::Provider;
use eidp::oidc::clients::{self, NewClient};
use eidp::store::ClientRecord;

pub use browser::{Browser, Landing};

pub struct TestServer {
    pub base: String,
    pub database_url: String,
    pub provider: Arc<Provider>,
    pub clock: OffsetClock,
    _dir: Arc<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub struct Citizen {
    pub id_number: String,
    pub password: String,
    pub sub: String,
}

pub const PASSWORD: &str = "Mật-khẩu-2026!";

/// A change to the test configuration that carries values of its own.
pub type Configure = Box<dyn FnOnce(&mut Config) + Send>;

#[derive(Default)]
pub struct Options {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    /// Changes to the test configuration (limits, proxies, the issuer's scheme).
    pub configure: Option<fn(&mut Config)>,
    /// The same, for changes that need values of the test (a stub service's address).
    pub configure_with: Option<Configure>,
    /// An ephemeral store of the test's own (e.g. one that fails on purpose).
    pub ephemeral: Option<Arc<dyn eidp::store::Ephemeral>>,
    /// Another server's directory (its SQLite database and keys): a restart of that node.
    pub dir: Option<Arc<tempfile::TempDir>>,
}

/// WebAuthn needs a domain name as RP ID (an IP address cannot be one): `localhost`.
pub async fn start_on_localhost() -> TestServer {
    TestServer::start_at("localhost", Options::default()).await
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(o: Options) -> TestServer {
        Self::start_at("127.0.0.1", o).await
    }

    pub async fn start_at(host: &str, o: Options) -> TestServer {
        let dir = o
            .dir
            .unwrap_or_else(|| Arc::new(tempfile::tempdir().unwrap()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let database_url = o
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("eidp.db").display()));
        // Each server its own keys in a shared Redis: one test's counters are not another's.
        let redis_prefix = format!("eidp-test:{}:", eidp::crypto::random_id().unwrap());
        let mut cfg = Config {
            redis_prefix,
            issuer: format!("http://{host}:{port}"),
            listen: format!("127.0.0.1:{port}"),
            keys_dir: dir.path().join("keys"),
            database_url: database_url.clone(),
            redis_url: o.redis_url,
            outbox_path: dir.path().join("outbox.jsonl"),
            email_outbox_path: dir.path().join("email-outbox.jsonl"),
            demo: false,
            ..Config::default()
        };
        if let Some(f) = o.configure {
            f(&mut cfg);
        }
        if let Some(f) = o.configure_with {
            f(&mut cfg);
        }
        let clock = OffsetClock::default();
        let app = match o.ephemeral {
            Some(eph) => eidp::build_app_on(cfg, Arc::new(clock.clone()), eph).await,
            None => eidp::build_app(cfg, Arc::new(clock.clone())).await,
        }
        .unwrap();
        let provider = app.provider.clone();
        let server = tokio::spawn(async move {
            let _ = eidp::app::serve(app, listener).await;
        });
        TestServer {
            base: format!("http://{host}:{port}"),
            database_url,
            provider,
            clock,
            _dir: dir,
            server,
        }
    }

    /// This server's directory, for a server started after it on the same files.
    pub fn dir(&self) -> Arc<tempfile::TempDir> {
        self._dir.clone()
    }

    /// The text of the last message the e-mail outbox holds for `address`.
    pub fn last_email_line(&self, address: &str) -> Option<String> {
        let text = std::fs::read_to_string(self._dir.path().join("email-outbox.jsonl")).ok()?;
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["to"] == address)
            .and_then(|v| v["text"].as_str().map(String::from))
    }

    /// The development SMS outbox (one JSON line per message).
    pub fn outbox_path(&self) -> std::path::PathBuf {
        self._dir.path().join("outbox.jsonl")
    }

    /// The last one-time code the development outbox holds for `phone` (+84… form).
    pub fn last_sms_code(&self, phone: &str) -> Option<String> {
        self.last_code("outbox.jsonl", phone)
    }

    /// The same for the e-mail outbox.
    pub fn last_email_code(&self, address: &str) -> Option<String> {
        self.last_code("email-outbox.jsonl", address)
    }

    fn last_code(&self, file: &str, phone: &str) -> Option<String> {
        let text = std::fs::read_to_string(self._dir.path().join(file)).ok()?;
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["to"] == phone)
            .and_then(|v| v["text"].as_str().map(String::from))
            .and_then(|t| {
                t.split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .map(String::from)
            })
    }

    /// The `eidp` command on this server's database and keys, to spawn (and perhaps kill).
    pub fn cli_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_eidp"));
        cmd.args(args)
            .env_remove("EIDP_REDIS_URL")
            .env("EIDP_DATABASE_URL", &self.database_url)
            .env("EIDP_KEYS_DIR", self._dir.path().join("keys"));
        cmd
    }

    /// Run `eidp` (the real binary) on this server's database and keys.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let keys = self._dir.path().join("keys");
        run_eidp(
            &[
                ("EIDP_DATABASE_URL", &self.database_url),
                ("EIDP_KEYS_DIR", keys.to_str().unwrap()),
            ],
            None,
            args,
            stdin,
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A Level-1 citizen with a register record; `n` varies the ID number.
    pub async fn citizen(&self, n: u32) -> Citizen {
        let id_number = format!("079190{:06}", 100_000 + n);
        let input = NewAccount {
            id_number: id_number.clone(),
            phone: "0987654321".into(),
            full_name: Some("Trần Thị Bình".into()),
            birth_date: Some("1990-03-08".into()),
            sex: Some("female".into()),
            email: Some("binh@example.vn".into()),
        };
        let (acc, _) = eidp::identity::create_account(
            self.provider.db.as_ref(),
            &input,
            PASSWORD,
            eidp::authn::password::hash,
            self.provider.now(),
        )
        .await
        .unwrap();
        Citizen {
            id_number,
            password: PASSWORD.into(),
            sub: acc.sub.to_string(),
        }
    }

    /// The `sub` client `c` knows the account `sub` by (pairwise unless configured public).
    pub fn sub_at(&self, c: &ClientRecord, sub: &str) -> String {
        let sub = eidp::ids::Subject::parse(sub).unwrap();
        eidp::oidc::subject::for_client(&self.provider.kek, c, &sub).to_string()
    }

    pub async fn client(&self, n: NewClient) -> (ClientRecord, Option<String>) {
        let (rec, secret) = clients::build(&n, &self.provider.kek, self.provider.now()).unwrap();
        self.provider.db.insert_client(&rec).await.unwrap();
        (rec, secret)
    }

    /// A confidential client_secret_basic client with one redirect URI.
    pub async fn confidential(&self) -> (ClientRecord, String) {
        let (rec, secret) = self
            .client(NewClient {
                name: "Cổng dịch vụ công".into(),
                kind: "portal".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
                min_account_level: Some(1),
                ..Default::default()
            })
            .await;
        (rec, secret.unwrap())
    }
}

/// Run the `eidp` binary with `env` (and no Redis), feeding `stdin`; (success, stdout, stderr).
pub fn run_eidp(
    env: &[(&str, &str)],
    cwd: Option<&std::path::Path>,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eidp"));
    cmd.args(args)
        .env_remove("EIDP_REDIS_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
pub const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/bye";

/// Sign in to /account with the password (the page asks first); returns status and page.
pub async fn account_page(s: &TestServer, b: &Browser, who: &Citizen) -> (u16, String) {
    let (at, _, page) = b.go(&s.url("/account")).await;
    assert!(
        page.contains("name=\"next\""),
        "the account page asks to sign in first"
    );
    let csrf = browser::input_value(&page, "csrf").unwrap();
    let form = [
        ("ar", ""),
        ("next", "account"),
        ("csrf", csrf.as_str()),
        ("id_number", who.id_number.as_str()),
        ("password", who.password.as_str()),
    ];
    b.post_form(&at, "/login", &form).await.expect_page()
}

/// A PKCE pair (RFC 7636): verifier and S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = eidp::crypto::random_token().unwrap();
    let challenge = eidp::crypto::b64url(
        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    (verifier, challenge)
}

/// An authorization URL with the usual parameters plus `extra`.
pub fn authorize_url(
    base: &str,
    client_id: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile")
        .append_pair("state", "st-1")
        .append_pair("nonce", "n-1")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{base}/authorize?{}", q.finish())
}

pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// POST a form to the token endpoint with Basic credentials; returns status and JSON.
pub async fn token_request(
    base: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let http = reqwest::Client::new();
    let mut req = http.post(format!("{base}/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// Exchange the code in a client callback URL (client_secret_basic); asserts success and
/// returns the token response.
pub async fn redeem(
    s: &TestServer,
    client_id: &str,
    secret: &str,
    cb: &url::Url,
    verifier: &str,
) -> serde_json::Value {
    let code = query_param(cb, "code").unwrap_or_else(|| panic!("no code in {cb}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    let (status, body) = token_request(&s.base, Some((client_id, secret)), &form).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Run the whole browser part and the code exchange; returns the token response JSON.
pub async fn code_flow(
    s: &TestServer,
    who: &Citizen,
    client: &ClientRecord,
    secret: &str,
) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let b = Browser::new();
    let url = authorize_url(&s.base, &client.client_id, &challenge, &[]);
    let cb = b
        .sign_in(&url, &who.id_number, &who.password)
        .await
        .expect_redirect();
    redeem(s, &client.client_id, secret, &cb, &verifier).await
}

/// GET /userinfo with a bearer access token; the JSON answer.
pub async fn userinfo(s: &TestServer, access_token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(s.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The provider's discovery document.
pub async fn discovery(s: &TestServer) -> serde_json::Value {
    reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The phone the test citizens have on record, as the outbox addresses it.
pub const PHONE: &str = "+84987654321";

/// "Confirm it is you" on the account page of a signed-in browser, with the password and
/// `second`: `("sms", None)` asks for a code and reads it from the outbox, otherwise the
/// method and its code. Returns the status and page of the last step.
pub async fn confirm(
    s: &TestServer,
    b: &Browser,
    who: &Citizen,
    second: (&str, Option<&str>),
) -> (u16, String) {
    let at = url::Url::parse(&s.base).unwrap();
    let (_, status, page) = b.go(&s.url("/account/confirm")).await;
    assert_eq!(status, 200, "{page}");
    let csrf = browser::input_value(&page, "csrf").unwrap();
    let (status, page) = b
        .post_form(
            &at,
            "/account/confirm",
            &[
                ("csrf", &csrf),
                ("method", "pwd"),
                ("password", &who.password),
            ],
        )
        .await
        .expect_page();
    assert_eq!(status, 200, "the password step: {page}");
    let (method, code) = second;
    let code = match code {
        Some(c) => c.to_string(),
        None => {
            let (status, page) = b
                .post_form(&at, "/account/confirm/sms", &[("csrf", &csrf)])
                .await
                .expect_page();
            assert_eq!(status, 200, "the code is sent: {page}");
            s.last_sms_code(PHONE).expect("a code in the SMS outbox")
        }
    };
    b.post_form(
        &at,
        "/account/confirm",
        &[("csrf", &csrf), ("method", method), ("code", &code)],
    )
    .await
    .expect_page()
}
