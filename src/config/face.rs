//! The face matcher: the `[face]` table and `EIDP_FACE_*`.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, Mode, Secret};

/// Which face matcher answers the biometric step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaceMatcherKind {
    /// No face step: nothing reaches loa:3 or loa:4.
    Off,
    /// The development matcher (`authn::biometric::dev`): compares nothing; refused in
    /// production.
    Development,
    /// An external biometric verification service over HTTP(S).
    Http,
}

/// The biometric verification service and how eidp authenticates to it: a shared key in a
/// header, a client certificate (mutual TLS), or both.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Face {
    /// Unset: `development` in development mode, `off` in production.
    pub matcher: Option<FaceMatcherKind>,
    /// The service's endpoint (`http`): POST of `{"id_number","image","content_type"}`.
    pub url: Option<String>,
    /// The shared key, sent in `key_header` (environment only: `EIDP_FACE_MATCHER_KEY`).
    #[serde(skip)]
    pub key: Option<Secret>,
    pub key_header: String,
    /// A PEM file with eidp's client certificate (chain) and private key, for mutual TLS.
    pub client_identity: Option<PathBuf>,
    /// A PEM file with the CA that signed the service's certificate, when not a public one.
    pub ca: Option<PathBuf>,
    /// How long one match may take (connect, send, answer).
    pub timeout_millis: u64,
    /// The matcher id recorded with each result when the service names none.
    pub matcher_id: String,
    /// Development matcher only: ID numbers whose faces it refuses (all others match).
    pub dev_refuse: Vec<String>,
}

impl Default for Face {
    fn default() -> Self {
        Face {
            matcher: None,
            url: None,
            key: None,
            key_header: "x-api-key".into(),
            client_identity: None,
            ca: None,
            timeout_millis: 5000,
            matcher_id: "face-service".into(),
            dev_refuse: Vec::new(),
        }
    }
}

impl Face {
    /// The matcher in effect in `mode`.
    pub fn kind(&self, mode: Mode) -> FaceMatcherKind {
        self.matcher.unwrap_or(match mode {
            Mode::Development => FaceMatcherKind::Development,
            Mode::Production => FaceMatcherKind::Off,
        })
    }

    pub(super) fn read_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = set("EIDP_FACE_MATCHER") {
            self.matcher = Some(match v.trim() {
                "off" => FaceMatcherKind::Off,
                "development" => FaceMatcherKind::Development,
                "http" => FaceMatcherKind::Http,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "EIDP_FACE_MATCHER",
                        reason: format!("must be off, development or http, not {other:?}"),
                    });
                }
            });
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_URL") {
            self.url = Some(v);
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_KEY") {
            self.key = Some(Secret(v));
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_KEY_HEADER") {
            self.key_header = v;
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_CLIENT_IDENTITY") {
            self.client_identity = Some(PathBuf::from(v));
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_CA") {
            self.ca = Some(PathBuf::from(v));
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_TIMEOUT_MILLIS") {
            self.timeout_millis = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "EIDP_FACE_MATCHER_TIMEOUT_MILLIS",
                reason: "must be a whole number of milliseconds".into(),
            })?;
        }
        if let Some(v) = set("EIDP_FACE_MATCHER_ID") {
            self.matcher_id = v;
        }
        if let Some(v) = env("EIDP_FACE_DEV_REFUSE") {
            self.dev_refuse = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        Ok(())
    }

    /// The development matcher is not a biometric check: production refuses it. An external
    /// service needs a URL, and in production https (unless on loopback) and a way to prove
    /// who is asking.
    pub(super) fn check(&self, mode: Mode) -> Result<(), ConfigError> {
        let bad = |reason: &str| ConfigError::Invalid {
            name: "face",
            reason: reason.into(),
        };
        match self.kind(mode) {
            FaceMatcherKind::Off => Ok(()),
            FaceMatcherKind::Development if mode == Mode::Production => Err(bad(
                "production refuses the development face matcher (it compares nothing): \
                 set EIDP_FACE_MATCHER=http with EIDP_FACE_MATCHER_URL, or off",
            )),
            FaceMatcherKind::Development => Ok(()),
            FaceMatcherKind::Http => {
                let url = self
                    .url
                    .as_deref()
                    .ok_or_else(|| bad("the http face matcher needs EIDP_FACE_MATCHER_URL"))?;
                let u = url::Url::parse(url).map_err(|e| bad(&format!("url: {e}")))?;
                if self.timeout_millis == 0 {
                    return Err(bad("timeout_millis must be positive"));
                }
                let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                if mode == Mode::Production && u.scheme() != "https" && !loopback {
                    return Err(bad("production needs an https:// face matcher URL"));
                }
                let authenticated = self.key.is_some() || self.client_identity.is_some();
                if mode == Mode::Production && !authenticated {
                    return Err(bad(
                        "production needs EIDP_FACE_MATCHER_KEY or a client certificate \
                         (EIDP_FACE_MATCHER_CLIENT_IDENTITY) for the face matcher",
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(None, |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_face_matcher_follows_the_mode_and_is_checked() {
        let dev = load(&[]).unwrap();
        assert_eq!(dev.face.kind(dev.mode), FaceMatcherKind::Development);
        let prod = load(&[("EIDP_MODE", "production")]).unwrap();
        assert_eq!(
            prod.face.kind(prod.mode),
            FaceMatcherKind::Off,
            "never by default"
        );
        assert!(
            load(&[
                ("EIDP_MODE", "production"),
                ("EIDP_FACE_MATCHER", "development")
            ])
            .is_err()
        );
        assert!(load(&[("EIDP_FACE_MATCHER", "http")]).is_err(), "no URL");
        assert!(
            load(&[
                ("EIDP_MODE", "production"),
                ("EIDP_FACE_MATCHER", "http"),
                ("EIDP_FACE_MATCHER_URL", "https://face.internal/match"),
            ])
            .is_err(),
            "production needs credentials"
        );
        let ok = load(&[
            ("EIDP_MODE", "production"),
            ("EIDP_FACE_MATCHER", "http"),
            ("EIDP_FACE_MATCHER_URL", "https://face.internal/match"),
            ("EIDP_FACE_MATCHER_KEY", "k"),
            ("EIDP_FACE_MATCHER_TIMEOUT_MILLIS", "1500"),
        ])
        .unwrap();
        assert_eq!(ok.face.kind(ok.mode), FaceMatcherKind::Http);
        assert_eq!(ok.face.timeout_millis, 1500);
        assert!(
            !format!("{:?}", ok.face).contains("\"k\""),
            "the key is hidden"
        );
        let refuse = load(&[("EIDP_FACE_DEV_REFUSE", "001090000001, 001090000002")]).unwrap();
        assert_eq!(refuse.face.dev_refuse.len(), 2);
        assert!(load(&[("EIDP_FACE_MATCHER", "maybe")]).is_err());
    }
}
