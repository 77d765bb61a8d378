//! A face matcher behind HTTP: the external biometric verification service.
//!
//! ```text
//! POST <face.url>                      (x-api-key: <key>, and/or a TLS client certificate)
//! {"id_number": "001090000001", "image": "<base64>", "content_type": "image/jpeg"}
//! → 200 {"matched": true, "score": 0.93, "matcher": "vendor-model-3.2"}   (matcher optional)
//! → 401/403 our credentials refused · 400/422 image unusable · other / timeout: unavailable
//! ```
//! The service authenticates eidp by the shared key or the client certificate; eidp
//! authenticates the service by its TLS certificate (a private CA may be configured).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::{FaceMatch, FaceMatcher, MatchError};
use crate::config::Face;

/// The most of an answer read: a result is a few dozen bytes.
const MAX_ANSWER: usize = 16 * 1024;

pub struct HttpMatcher {
    url: String,
    key: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    matcher_id: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for HttpMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpMatcher({})", self.url)
    }
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

impl HttpMatcher {
    /// A client for the configured service (checked by `config::Face`).
    pub fn new(cfg: &Face) -> Result<HttpMatcher, String> {
        let url = cfg.url.clone().ok_or("face.url is not set")?;
        // One TLS crypto provider for the process (ring), whoever asks first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(cfg.timeout_millis))
            .use_rustls_tls();
        if let Some(path) = &cfg.client_identity {
            let id = reqwest::Identity::from_pem(&read_pem(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            b = b.identity(id);
        }
        if let Some(path) = &cfg.ca {
            let ca = reqwest::Certificate::from_pem(&read_pem(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            b = b.add_root_certificate(ca);
        }
        let key = match &cfg.key {
            Some(k) => Some((
                reqwest::header::HeaderName::from_bytes(cfg.key_header.as_bytes())
                    .map_err(|e| format!("face.key_header: {e}"))?,
                reqwest::header::HeaderValue::from_str(&k.0)
                    .map(|mut v| {
                        v.set_sensitive(true);
                        v
                    })
                    .map_err(|e| format!("EIDP_FACE_MATCHER_KEY: {e}"))?,
            )),
            None => None,
        };
        Ok(HttpMatcher {
            url,
            key,
            matcher_id: cfg.matcher_id.clone(),
            http: b.build().map_err(|e| e.to_string())?,
        })
    }
}

#[derive(Deserialize)]
struct Answer {
    matched: bool,
    score: f64,
    matcher: Option<String>,
}

/// A matcher id fit to keep: short and printable, else ours.
fn matcher_id(named: Option<String>, ours: &str) -> String {
    named
        .filter(|m| !m.is_empty() && m.len() <= 64 && m.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| ours.to_string())
}

async fn body(mut resp: reqwest::Response) -> Result<Vec<u8>, MatchError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| MatchError::Unavailable(e.to_string()))?
    {
        out.extend_from_slice(&chunk);
        if out.len() > MAX_ANSWER {
            return Err(MatchError::Unavailable("answer too long".into()));
        }
    }
    Ok(out)
}

#[async_trait]
impl FaceMatcher for HttpMatcher {
    async fn verify(
        &self,
        id_number: &str,
        image: &[u8],
        content_type: &str,
    ) -> Result<FaceMatch, MatchError> {
        let payload = json!({
            "id_number": id_number,
            "image": base64::engine::general_purpose::STANDARD.encode(image),
            "content_type": content_type,
        });
        let mut req = self.http.post(&self.url).json(&payload);
        if let Some((name, value)) = &self.key {
            req = req.header(name.clone(), value.clone());
        }
        // The error text never carries the request (reqwest's errors name the URL only).
        let resp = req
            .send()
            .await
            .map_err(|e| MatchError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        match status {
            200 => {}
            401 | 403 => return Err(MatchError::Unauthorised(format!("HTTP {status}"))),
            400 | 422 => return Err(MatchError::BadImage(format!("HTTP {status}"))),
            _ => return Err(MatchError::Unavailable(format!("HTTP {status}"))),
        }
        let a: Answer = serde_json::from_slice(&body(resp).await?)
            .map_err(|e| MatchError::Unavailable(format!("answer: {e}")))?;
        if !(0.0..=1.0).contains(&a.score) {
            return Err(MatchError::Unavailable("score outside 0..1".into()));
        }
        Ok(FaceMatch {
            matched: a.matched,
            score: a.score,
            matcher: matcher_id(a.matcher, &self.matcher_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sane_matcher_id_is_kept() {
        assert_eq!(matcher_id(Some("v-3.2".into()), "ours"), "v-3.2");
        assert_eq!(matcher_id(Some("a b".into()), "ours"), "ours");
        assert_eq!(matcher_id(Some("x".repeat(65)), "ours"), "ours");
        assert_eq!(matcher_id(None, "ours"), "ours");
    }
}
