//! PostgreSQL and Redis for the storage tests. When `EIDP_TEST_DATABASE_URL` /
//! `EIDP_TEST_REDIS_URL` are set the service must be reachable (CI sets them: a missing
//! service fails loudly); unset, those tests say they were skipped.

use sqlx::Executor;

pub fn database_admin_url() -> Option<String> {
    std::env::var("EIDP_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub fn redis_url() -> Option<String> {
    std::env::var("EIDP_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A fresh PostgreSQL database for one test, so tests never see each other's rows.
pub async fn fresh_postgres() -> Option<String> {
    let admin = database_admin_url()?;
    let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
        panic!("EIDP_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
    });
    let now = eidp::clock::Clock::now(&eidp::clock::SystemClock);
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, std::sync::atomic::Ordering::Relaxed) {
        drop_stale(&pool, now).await;
    }
    // Named with the time, so a later run can tell what an earlier one left behind.
    let name = format!(
        "eidp_t_{now}_{}",
        eidp::crypto::random_id()
            .unwrap()
            .to_lowercase()
            .replace(['-', '_'], "")
    );
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    pool.close().await;
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// Tests cannot drop their database on the way out (no async drop, no suite teardown), so
/// each run (its first test that needs one) drops what runs at least an hour old left: no
/// run lasts that long, so none is in use. Databases named before the time was in the name
/// are dropped too. Failures are only noise here.
async fn drop_stale(pool: &sqlx::PgPool, now: eidp::clock::UnixTime) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'eidp\\_t\\_%'")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    for name in names {
        let made = name
            .strip_prefix("eidp_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|t| t.parse::<eidp::clock::UnixTime>().ok());
        let stale = made.is_none_or(|t| now.saturating_sub(t) >= 3600);
        let safe = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if stale && safe {
            let _ = pool
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .await;
        }
    }
}

pub fn skip(what: &str) {
    eprintln!("SKIPPED ({what}): set EIDP_TEST_DATABASE_URL / EIDP_TEST_REDIS_URL to run it");
}

/// A throw-away Redis Cluster on free ports, torn down when dropped.
pub struct RedisCluster {
    ports: Vec<u16>,
    children: Vec<std::process::Child>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    pub fn start(nodes: usize) -> RedisCluster {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..nodes)
            .map(|_| {
                std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port()
            })
            .collect();
        let children = ports
            .iter()
            .map(|p| {
                Command::new("redis-server")
                    .args([
                        "--port",
                        &p.to_string(),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &format!("nodes-{p}.conf"),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ])
                    .current_dir(dir.path())
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("redis-server must be installed")
            })
            .collect();
        let cluster = RedisCluster {
            ports,
            children,
            _dir: dir,
        };
        for p in &cluster.ports {
            wait_port(*p);
        }
        let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
        args.extend(cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")));
        args.extend([
            "--cluster-replicas".into(),
            "0".into(),
            "--cluster-yes".into(),
        ]);
        let out = Command::new("redis-cli")
            .args(&args)
            .output()
            .expect("redis-cli must be installed");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for _ in 0..100 {
            let info = Command::new("redis-cli")
                .args(["-p", &cluster.ports[0].to_string(), "cluster", "info"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                return cluster;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the test Redis Cluster did not become ready");
    }

    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("port {port} did not open");
}
