//! Production mode: two `eidp` processes sharing PostgreSQL and Redis behave as one provider,
//! and a Redis outage gives fast 503s and heals by itself.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::services;
use crate::common::{
    Browser, Options, REDIRECT_URI, TestServer, authorize_url, pkce, query_param, token_request,
};
use crate::flow::{decode_header, urlencode};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped, so a failing test leaves nothing running.
pub(crate) struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) struct Cluster {
    pub(crate) db: String,
    pub(crate) redis: String,
    /// Shared by the cluster's nodes, apart from every other test's keys.
    pub(crate) redis_prefix: String,
    pub(crate) kek: String,
    pub(crate) issuer: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Cluster {
    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_eidp"));
        c.current_dir(self.dir.path())
            .env("EIDP_DATABASE_URL", &self.db)
            .env("EIDP_REDIS_URL", &self.redis)
            .env("EIDP_REDIS_PREFIX", &self.redis_prefix)
            .env("EIDP_KEK", &self.kek)
            .env("EIDP_ISSUER", &self.issuer)
            .env("EIDP_DEMO", "0")
            .env("EIDP_KEY_RELOAD_SECS", "1")
            .env("RUST_LOG", "warn");
        c
    }

    pub(crate) fn node(&self, port: u16) -> Proc {
        let child = self
            .command()
            .arg("serve")
            .env("EIDP_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Proc(child)
    }

    pub(crate) fn admin(&self, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "eidp {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub(crate) async fn wait_ready(base: &str) {
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_postgres_and_redis() {
    let (Some(db), Some(redis)) = (services::fresh_postgres().await, services::redis_url()) else {
        return services::skip("two nodes");
    };
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let kek = eidp::crypto::b64url(&eidp::crypto::random_bytes::<32>().unwrap());
    let c = Cluster {
        db,
        redis,
        redis_prefix: format!("eidp-test:{}:", eidp::crypto::random_id().unwrap()),
        kek,
        issuer: a.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let _na = c.node(pa);
    let _nb = c.node(pb);
    wait_ready(&a).await;
    wait_ready(&b).await;

    let id = "001190000777";
    c.admin(
        &[
            "admin",
            "accounts",
            "create",
            "--id-number",
            id,
            "--phone",
            "0912000777",
            "--full-name",
            "Phạm Minh Đức",
            "--birth-date",
            "1990-01-02",
            "--password-stdin",
            "--json",
        ],
        Some("Mật-khẩu-2026!\n"),
    );
    let client = c.admin(
        &[
            "admin",
            "clients",
            "create",
            "--name",
            "Portal",
            "--kind",
            "portal",
            "--redirect-uri",
            REDIRECT_URI,
            "--post-logout-redirect-uri",
            "http://127.0.0.1:9/bye",
            "--json",
        ],
        None,
    );
    let (cid, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let basic = Some((cid, secret));

    // Sign in on A, redeem the code on B, refresh on A.
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let cb = browser
        .sign_in(
            &authorize_url(&a, cid, &challenge, &[]),
            id,
            "Mật-khẩu-2026!",
        )
        .await
        .expect_redirect();
    let code = query_param(&cb, "code").unwrap();
    let form = |code: &str, v: &str| -> Vec<(String, String)> {
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", v),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let f = form(&code, &verifier);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, tokens) = token_request(&b, basic, &pairs).await;
    assert_eq!(status, 200, "code from A redeemed on B: {tokens}");
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &a,
        basic,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(status, 200, "refresh on A: {body}");

    // The same code sent to both nodes at once succeeds once.
    let (v2, ch2) = pkce();
    let (back, _, _) = browser
        .go(&authorize_url(&a, cid, &ch2, &[("prompt", "none")]))
        .await;
    let code2 = query_param(&back, "code").unwrap_or_else(|| panic!("silent code on A: {back}"));
    let f2 = form(&code2, &v2);
    let send = |base: String, f: Vec<(String, String)>| async move {
        reqwest::Client::new()
            .post(format!("{base}/token"))
            .basic_auth(cid, Some(secret))
            .form(&f)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let (sa, sb) = tokio::join!(send(a.clone(), f2.clone()), send(b.clone(), f2));
    let mut statuses = [sa, sb];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "one redemption wins");

    // Logout on B ends the session on A.
    let idt = tokens["id_token"].as_str().unwrap();
    let (landed, _, _) = browser
        .go(&format!(
            "{b}/logout?id_token_hint={idt}&post_logout_redirect_uri={}",
            urlencode("http://127.0.0.1:9/bye")
        ))
        .await;
    assert!(
        landed.as_str().starts_with("http://127.0.0.1:9/bye"),
        "{landed}"
    );
    let (_, ch3) = pkce();
    let (back, _, _) = browser
        .go(&authorize_url(&a, cid, &ch3, &[("prompt", "none")]))
        .await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );

    // A key rotated now is published by B and signs on A.
    let rotated = c.admin(
        &[
            "admin",
            "keys",
            "rotate",
            "--alg",
            "ES256",
            "--activate-after",
            "0",
            "--json",
        ],
        None,
    );
    let kid = rotated["rotated"][0]["kid"].as_str().unwrap().to_string();
    let mut seen = (false, false);
    for _ in 0..50 {
        let jwks: serde_json::Value = reqwest::get(format!("{b}/jwks.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.0 = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str());
        let (_, cc) = token_request(&a, basic, &[("grant_type", "client_credentials")]).await;
        seen.1 = decode_header(cc["access_token"].as_str().unwrap())["kid"] == kid.as_str();
        if seen == (true, true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        seen,
        (true, true),
        "B publishes the rotated key and A signs with it"
    );
    // Tokens signed before the rotation still verify: the old key stays published.
    let userinfo = reqwest::Client::new()
        .get(format!("{b}/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        200,
        "a token signed before the rotation still verifies on B"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_gives_503_and_heals() {
    if services::redis_url().is_none() {
        return services::skip("redis outage");
    }
    let port = free_port();
    let start = || {
        Proc(
            Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server must be installed for the fault test"),
        )
    };
    let mut redis = Some(start());
    let url = format!("redis://127.0.0.1:{port}");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let s = TestServer::start_with(Options {
        redis_url: Some(url),
        ..Default::default()
    })
    .await;
    let (c, _) = s.confidential().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let authorize = || {
        let (_, ch) = pkce();
        authorize_url(&s.base, &c.client_id, &ch, &[])
    };
    assert_eq!(http.get(authorize()).send().await.unwrap().status(), 303);

    drop(redis.take());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = http
        .get(authorize())
        .send()
        .await
        .expect("fails fast, does not hang");
    assert_eq!(resp.status(), 503);
    assert_eq!(
        http.get(s.url("/readyz")).send().await.unwrap().status(),
        503
    );
    let discovery = http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200, "what needs no store keeps working");

    redis = Some(start());
    let mut healed = false;
    for _ in 0..60 {
        if http
            .get(authorize())
            .send()
            .await
            .map(|r| r.status() == 303)
            .unwrap_or(false)
        {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(healed, "service resumes by itself when Redis returns");
    assert_eq!(
        http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );
    drop(redis);
}
