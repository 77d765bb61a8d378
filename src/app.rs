//! Assembling the provider: stores chosen by configuration, keys, pages, router; and serving
//! it with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::clock::Clock;
use crate::config::{Config, Mode};
use crate::crypto::{Kek, KeyService};
use crate::http::{self, AppState};
use crate::oidc::{Provider, discovery};
use crate::store::memory::MemoryStore;
use crate::store::redis::RedisStore;
use crate::store::sql::SqlStore;
use crate::store::{Durable, Ephemeral};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database: {0}")]
    Database(crate::store::StoreError),
    #[error("redis: {0}")]
    Redis(crate::store::StoreError),
    #[error("keys: {0}")]
    Keys(String),
    #[error("startup: {0}")]
    Startup(String),
}

pub struct App {
    pub router: Router,
    pub provider: Arc<Provider>,
}

/// The key-encryption key for admin commands (same rules as `serve`).
pub fn load_kek_for_admin(cfg: &Config) -> Result<Kek, AppError> {
    load_kek(cfg)
}

fn load_kek(cfg: &Config) -> Result<Kek, AppError> {
    if let Some(secret) = &cfg.kek {
        return Kek::from_b64(&secret.0, false).map_err(|e| AppError::Keys(e.to_string()));
    }
    if cfg.mode == Mode::Production {
        return Err(AppError::Keys(
            "production refuses development keys: set EIDP_KEK (32 random bytes, base64url)".into(),
        ));
    }
    let (kek, created) =
        Kek::load_or_create_dev(&cfg.keys_dir).map_err(|e| AppError::Keys(e.to_string()))?;
    if created {
        tracing::info!(dir = %cfg.keys_dir.display(), "generated a development key-encryption key");
    }
    Ok(kek)
}

pub async fn connect_durable(cfg: &Config) -> Result<Arc<SqlStore>, AppError> {
    Ok(Arc::new(
        SqlStore::connect(&cfg.database_url)
            .await
            .map_err(AppError::Database)?,
    ))
}

/// The configured ephemeral store: Redis (shared by the nodes) or this process's memory.
pub async fn connect_ephemeral(cfg: &Config) -> Result<Arc<dyn Ephemeral>, AppError> {
    Ok(match &cfg.redis_url {
        Some(url) => Arc::new(
            RedisStore::connect(url, &cfg.redis_prefix)
                .await
                .map_err(AppError::Redis)?,
        ),
        None => Arc::new(MemoryStore::new()),
    })
}

/// Build the application on the configured stores. Tests call this with their own clock.
pub async fn build_app(cfg: Config, clock: Arc<dyn Clock>) -> Result<App, AppError> {
    let eph = connect_ephemeral(&cfg).await?;
    build_app_on(cfg, clock, eph).await
}

/// [`build_app`] on a given ephemeral store (tests wrap one to see what a failing store does).
pub async fn build_app_on(
    cfg: Config,
    clock: Arc<dyn Clock>,
    eph: Arc<dyn Ephemeral>,
) -> Result<App, AppError> {
    let db: Arc<dyn Durable> = connect_durable(&cfg).await?;
    let kek = Arc::new(load_kek(&cfg)?);
    let keys = Arc::new(KeyService::new(kek.clone()));
    let made = keys
        .ensure_keys(db.as_ref(), clock.now())
        .await
        .map_err(|e| AppError::Keys(e.to_string()))?;
    if made > 0 {
        tracing::info!(count = made, "generated signing keys");
    }
    let doc = discovery::metadata(&cfg).map_err(AppError::Startup)?;
    let ui = http::ui::Ui::new().map_err(AppError::Startup)?;
    let http_client = http_client().map_err(AppError::Startup)?;
    let sender = |webhook: &Option<String>,
                  outbox: &std::path::Path,
                  what: &str|
     -> Arc<dyn crate::notify::MessageSender> {
        match webhook {
            Some(url) => Arc::new(crate::notify::Webhook::new(
                url.clone(),
                http_client.clone(),
            )),
            None => {
                if cfg.mode == Mode::Production {
                    tracing::warn!(
                        what,
                        "no webhook configured: one-time codes go to the development outbox file"
                    );
                }
                Arc::new(crate::notify::Outbox::new(outbox.to_path_buf()))
            }
        }
    };
    let sms = sender(&cfg.sms_webhook_url, &cfg.outbox_path, "sms");
    let email = sender(&cfg.email_webhook_url, &cfg.email_outbox_path, "email");
    let face = crate::authn::biometric::from_config(&cfg.face, cfg.mode)
        .map_err(|e| AppError::Startup(format!("face matcher: {e}")))?;
    let webauthn = match crate::authn::webauthn::relying_party(&cfg.issuer) {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off: the issuer cannot be a WebAuthn relying party");
            None
        }
    };
    let provider = Arc::new(Provider {
        cfg: Arc::new(cfg),
        db,
        eph,
        keys,
        kek,
        clock,
        fetcher: Arc::new(HttpFetcher(http_client)),
        client_cache: Default::default(),
        access_cache: Default::default(),
    });
    let state = AppState {
        p: provider.clone(),
        ui: Arc::new(ui),
        discovery: serde_json::to_vec_pretty(&doc)
            .map_err(|e| AppError::Startup(e.to_string()))?
            .into(),
        services: Arc::new(http::Services {
            webauthn,
            sms,
            email,
            face,
            lookups: Default::default(),
        }),
    };
    Ok(App {
        router: http::router(state),
        provider,
    })
}

/// The HTTP client for outgoing calls (clients' documents, message webhooks): a short
/// timeout and no redirects.
pub fn http_client() -> Result<reqwest::Client, String> {
    // One TLS crypto provider for the process (ring), whoever asks first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())
}

/// Reads clients' published documents, for the admin commands that register clients.
pub fn fetcher() -> Result<Arc<dyn crate::oidc::client_auth::Fetcher>, String> {
    Ok(Arc::new(HttpFetcher(http_client()?)))
}

/// Clients' published documents (JWK sets, sector identifier lists) over HTTP: a short
/// timeout, no redirects, and no more than such a document needs (a client cannot make the
/// provider read an endless one).
struct HttpFetcher(reqwest::Client);

const FETCH_MAX_BYTES: usize = 256 * 1024;

#[async_trait::async_trait]
impl crate::oidc::client_auth::Fetcher for HttpFetcher {
    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, String> {
        let mut resp = self.0.get(uri).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{uri} answered {}", resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > FETCH_MAX_BYTES {
                return Err(format!("{uri}: larger than {FETCH_MAX_BYTES} bytes"));
            }
        }
        Ok(body)
    }
}

/// Back-channel logout tokens (OIDC Back-Channel Logout 1.0 §2.5) over the same client: no
/// redirect is followed (a 3xx is a failed attempt), the body of the answer is not read.
#[async_trait::async_trait]
impl crate::oidc::backchannel::delivery::Transport for HttpFetcher {
    async fn post_form(
        &self,
        uri: &str,
        form: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<u16, String> {
        let resp = self
            .0
            .post(uri)
            .form(form)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }
}

/// The background tasks of one `serve`: they end with it, however it ends (a shutdown, an
/// error, or the serving task itself aborted, as tests do to stop a node).
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Serve until Ctrl-C or SIGTERM; in-flight requests finish first.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let mut background = Background(Vec::new());
    let p = app.provider.clone();
    let every = Duration::from_secs(p.cfg.key_reload_secs.max(1));
    // Keys rotated on any node reach this one within the interval, without a restart.
    background.0.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = p.keys.reload(p.db.as_ref()).await {
                tracing::warn!(error = %e, "key reload failed");
            }
        }
    }));
    let prune = app.provider.clone();
    // Usage history is kept five years, then dropped.
    background.0.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            let before = prune.now() - crate::audit::RETENTION_SECS;
            if let Err(e) = prune.db.prune_audit(before).await {
                tracing::warn!(error = %e, "audit retention pass failed");
            }
            // Delivered back-channel logouts are kept a week for support questions.
            let delivered_before = prune.now() - 7 * 24 * 3600;
            if let Err(e) = prune.db.prune_delivered_logouts(delivered_before).await {
                tracing::warn!(error = %e, "back-channel logout retention pass failed");
            }
        }
    }));
    // Every node delivers back-channel logouts; the queue's claims keep them from colliding.
    let transport: Arc<dyn crate::oidc::backchannel::delivery::Transport> =
        Arc::new(HttpFetcher(http_client().map_err(std::io::Error::other)?));
    background
        .0
        .push(tokio::spawn(crate::oidc::backchannel::delivery::run(
            app.provider.clone(),
            transport,
        )));
    if let Some(addr) = &app.provider.cfg.metrics_listen {
        let l = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(%addr, "metrics on their own address");
        background.0.push(tokio::spawn(async move {
            let _ = axum::serve(l, http::metrics_router()).await;
        }));
    }
    let service = app
        .router
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    drop(background);
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
