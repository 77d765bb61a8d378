//! Typed configuration: defaults < TOML file < `EIDP_*` environment. Validated once at start;
//! everything else reads the resulting [`Config`] and never the environment.

use std::path::PathBuf;

use serde::Deserialize;

mod backchannel;
mod face;
pub use backchannel::Backchannel;
pub use face::{Face, FaceMatcherKind};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// Lifetimes in seconds. Short codes and access tokens keep a stolen one of little use.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Lifetimes {
    pub authorization_code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
    pub authorization_request: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            authorization_code: 60,
            access_token: 600,
            id_token: 600,
            refresh_token: 30 * 24 * 3600,
            session: 8 * 3600,
            authorization_request: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    pub listen: String,
    pub issuer: String,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or test runs) share one Redis
    /// without sharing sessions, codes or counters.
    pub redis_prefix: String,
    pub mode: Mode,
    /// Where the key-encryption key lives (and, in development, the demo credentials).
    pub keys_dir: PathBuf,
    /// Production normally refuses an `http://` issuer that is not loopback; this overrides it.
    pub allow_insecure_issuer: bool,
    /// Create the demo citizen and demo client at start (development only).
    pub demo: bool,
    /// How often each node re-reads the signing keys (a rotation reaches every node within it).
    pub key_reload_secs: u64,
    /// How long a rotated-in key is published before it signs (relying parties' JWKS caches).
    pub key_activation_delay_secs: i64,
    /// Where SMS codes go: an HTTP webhook in front of the SMS gateway, or (unset) the
    /// development outbox file.
    pub sms_webhook_url: Option<String>,
    pub outbox_path: PathBuf,
    /// The same for e-mail: a webhook in front of the mail service, or the development outbox.
    pub email_webhook_url: Option<String>,
    pub email_outbox_path: PathBuf,
    /// The reverse proxies in front of eidp (CIDRs). A request from one of them has its client
    /// address taken from `X-Forwarded-For`: the right-most address that is not itself a
    /// trusted proxy (what clients write to the left of it, they control).
    pub trusted_proxies: Vec<Cidr>,
    /// How many authorization requests one client address may start per request lifetime
    /// (pending requests are held in memory or Redis until they expire).
    pub authorize_per_ip: i64,
    /// How many insurance eligibility look-ups one hospital client may make per minute.
    pub insurance_lookups_per_minute: i64,
    /// `/metrics` needs `Authorization: Bearer` with this token; without it (and without
    /// `metrics_listen`) the endpoint is not served.
    #[serde(skip)]
    pub metrics_token: Option<Secret>,
    /// Serve `/metrics` (only) on this separate address, e.g. `127.0.0.1:9090`.
    pub metrics_listen: Option<String>,
    /// The key-encryption key (32 bytes, base64url). Required in production; in development
    /// it is generated into `keys_dir` when absent.
    #[serde(skip)]
    pub kek: Option<Secret>,
    pub lifetimes: Lifetimes,
    pub backchannel: Backchannel,
    /// The face matcher (the biometric factor).
    pub face: Face,
}

/// An address block (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: std::net::IpAddr = addr.trim().parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
        let ip = match ip {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(ip),
            v4 => v4,
        };
        let bits = |a: std::net::IpAddr| -> u128 {
            match a {
                V4(v4) => u128::from(u32::from(v4)) << 96,
                V6(v6) => u128::from(v6),
            }
        };
        if self.net.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        // Both are left-aligned in 128 bits, so the prefix counts from the top either way.
        let keep = u32::from(self.prefix);
        if keep == 0 {
            return true;
        }
        let mask = u128::MAX << (128 - keep);
        (bits(self.net) & mask) == (bits(ip) & mask)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cidr::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a CIDR")))
    }
}

/// A configured secret: never printed.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            // Empty: `http://localhost:` + the listen port (see `validate`).
            issuer: String::new(),
            database_url: "sqlite://data/eidp.db".into(),
            redis_url: None,
            redis_prefix: "eidp:".into(),
            mode: Mode::Development,
            keys_dir: PathBuf::from("keys"),
            allow_insecure_issuer: false,
            demo: true,
            key_reload_secs: 30,
            sms_webhook_url: None,
            outbox_path: PathBuf::from("data/outbox.jsonl"),
            email_webhook_url: None,
            email_outbox_path: PathBuf::from("data/email-outbox.jsonl"),
            trusted_proxies: Vec::new(),
            authorize_per_ip: 600,
            insurance_lookups_per_minute: 600,
            metrics_token: None,
            metrics_listen: None,
            key_activation_delay_secs: 3600,
            kek: None,
            lifetimes: Lifetimes::default(),
            backchannel: Backchannel::default(),
            face: Face::default(),
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if any), then `EIDP_*` variables from `env`.
    pub fn load(
        file: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.into(),
                    source,
                })?
            }
            None => Config::default(),
        };
        if let Some(v) = env("EIDP_LISTEN") {
            cfg.listen = v;
        }
        if let Some(v) = env("EIDP_ISSUER") {
            cfg.issuer = v;
        }
        if let Some(v) = env("EIDP_DATABASE_URL") {
            cfg.database_url = v;
        }
        if let Some(v) = env("EIDP_REDIS_URL") {
            cfg.redis_url = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = env("EIDP_REDIS_PREFIX") {
            cfg.redis_prefix = v;
        }
        if let Some(v) = env("EIDP_KEYS_DIR") {
            cfg.keys_dir = PathBuf::from(v);
        }
        if let Some(v) = env("EIDP_MODE") {
            cfg.mode = match v.as_str() {
                "production" => Mode::Production,
                "development" => Mode::Development,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "EIDP_MODE",
                        reason: format!("must be production or development, not {other:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("EIDP_KEK") {
            cfg.kek = (!v.is_empty()).then_some(Secret(v));
        }
        if let Some(v) = env("EIDP_KEY_RELOAD_SECS") {
            cfg.key_reload_secs =
                v.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Invalid {
                        name: "EIDP_KEY_RELOAD_SECS",
                        reason: "must be a positive number of seconds".into(),
                    })?;
        }
        if let Some(v) = env("EIDP_SMS_WEBHOOK_URL") {
            cfg.sms_webhook_url = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = env("EIDP_EMAIL_WEBHOOK_URL") {
            cfg.email_webhook_url = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = env("EIDP_EMAIL_OUTBOX_PATH") {
            cfg.email_outbox_path = PathBuf::from(v);
        }
        if let Some(v) = env("EIDP_OUTBOX_PATH") {
            cfg.outbox_path = PathBuf::from(v);
        }
        if env("EIDP_TRUST_FORWARDED_FOR").is_some() {
            return Err(ConfigError::Invalid {
                name: "EIDP_TRUST_FORWARDED_FOR",
                reason: "replaced by EIDP_TRUSTED_PROXIES: the proxies' addresses as CIDRs, \
                         e.g. 10.0.0.0/8 (any proxy could otherwise set the client address)"
                    .into(),
            });
        }
        if let Some(v) = env("EIDP_TRUSTED_PROXIES") {
            cfg.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    Cidr::parse(c).ok_or_else(|| ConfigError::Invalid {
                        name: "EIDP_TRUSTED_PROXIES",
                        reason: format!("{c:?} is not an address or CIDR"),
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = env("EIDP_AUTHORIZE_PER_IP") {
            cfg.authorize_per_ip =
                v.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Invalid {
                        name: "EIDP_AUTHORIZE_PER_IP",
                        reason: "must be a positive number".into(),
                    })?;
        }
        if let Some(v) = env("EIDP_INSURANCE_LOOKUPS_PER_MINUTE") {
            cfg.insurance_lookups_per_minute =
                v.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Invalid {
                        name: "EIDP_INSURANCE_LOOKUPS_PER_MINUTE",
                        reason: "must be a positive number".into(),
                    })?;
        }
        cfg.backchannel.read_env(&env)?;
        cfg.face.read_env(&env)?;
        if let Some(v) = env("EIDP_METRICS_TOKEN") {
            cfg.metrics_token = (!v.is_empty()).then_some(Secret(v));
        }
        if let Some(v) = env("EIDP_METRICS_LISTEN") {
            cfg.metrics_listen = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = env("EIDP_DEMO") {
            cfg.demo = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("EIDP_ALLOW_INSECURE_ISSUER") {
            cfg.allow_insecure_issuer = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if cfg.mode == Mode::Production {
            cfg.demo = false;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&mut self) -> Result<(), ConfigError> {
        self.backchannel.check()?;
        self.face.check(self.mode)?;
        if self.issuer.is_empty() {
            // A host name, not an address: a WebAuthn relying party cannot be an IP address,
            // so passkeys work out of the box.
            let port = self.listen.rsplit(':').next().unwrap_or("8080");
            self.issuer = format!("http://localhost:{port}");
        }
        let url = url::Url::parse(&self.issuer).map_err(|e| ConfigError::Invalid {
            name: "issuer",
            reason: e.to_string(),
        })?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::Invalid {
                name: "issuer",
                reason: "must not have a query or fragment (OpenID Connect Discovery §3)".into(),
            });
        }
        self.issuer = self.issuer.trim_end_matches('/').to_string();
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if self.mode == Mode::Production
            && url.scheme() != "https"
            && !loopback
            && !self.allow_insecure_issuer
        {
            return Err(ConfigError::Invalid {
                name: "issuer",
                reason:
                    "production needs an https:// issuer (set allow_insecure_issuer to override)"
                        .into(),
            });
        }
        Ok(())
    }

    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// An absolute URL under the issuer for a path like `/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let cfg = Config::load(None, |k| match k {
            "EIDP_ISSUER" => Some("https://id.example.vn/".into()),
            "EIDP_REDIS_URL" => Some("redis://127.0.0.1:6379".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.issuer, "https://id.example.vn");
        assert_eq!(cfg.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(cfg.database_url, "sqlite://data/eidp.db");
        let cfg = Config::load(None, |k| {
            (k == "EIDP_LISTEN").then(|| "0.0.0.0:9090".into())
        })
        .unwrap();
        assert_eq!(
            cfg.issuer, "http://localhost:9090",
            "the default issuer follows the port"
        );
    }

    #[test]
    fn production_refuses_plain_http_issuer() {
        let err = Config::load(None, |k| match k {
            "EIDP_MODE" => Some("production".into()),
            "EIDP_ISSUER" => Some("http://id.example.vn".into()),
            _ => None,
        });
        assert!(matches!(
            err,
            Err(ConfigError::Invalid { name: "issuer", .. })
        ));
    }

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.7")));
        assert!(!Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
        let err = Config::load(None, |k| {
            (k == "EIDP_TRUST_FORWARDED_FOR").then(|| "1".into())
        });
        assert!(
            err.is_err(),
            "the old switch is refused, not silently ignored"
        );
    }

    #[test]
    fn issuer_with_query_is_refused() {
        let err = Config::load(None, |k| {
            (k == "EIDP_ISSUER").then(|| "https://a.vn/?x=1".into())
        });
        assert!(err.is_err());
    }
}
