//! Delivering one-time codes by SMS: a development outbox (logged and appended to a file that
//! tests and developers read) or an HTTP webhook in front of a real SMS gateway.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::json;

#[async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, to: &str, text: &str) -> Result<(), String>;
}

/// `+84912345678` → `+84 9•• ••• 678`: enough for the person to recognise, no more.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() < 6 {
        return "•••".into();
    }
    let tail: String = digits[digits.len() - 3..].iter().collect();
    let head: String = digits[..4.min(digits.len())].iter().collect();
    format!(
        "{} {}•• ••• {tail}",
        &head[..3.min(head.len())],
        head.chars().nth(3).unwrap_or('•')
    )
}

pub struct Outbox {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Outbox {
        Outbox {
            path,
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl MessageSender for Outbox {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        let line = json!({ "to": to, "text": text }).to_string();
        let _g = self
            .lock
            .lock()
            .map_err(|_| "outbox lock poisoned".to_string())?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
        tracing::info!(to = %mask_phone(to), outbox = %self.path.display(), "development SMS outbox: message written");
        Ok(())
    }
}

pub struct Webhook {
    url: String,
    http: reqwest::Client,
}

impl Webhook {
    pub fn new(url: String, http: reqwest::Client) -> Webhook {
        Webhook { url, http }
    }
}

#[async_trait]
impl MessageSender for Webhook {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        let resp = self
            .http
            .post(&self.url)
            .json(&json!({ "to": to, "text": text }))
            .send()
            .await
            .map_err(|e| format!("SMS webhook: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("SMS webhook answered {}", resp.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("+84912345678"), "+84 9•• ••• 678");
        assert_eq!(mask_phone("123"), "•••");
    }

    #[tokio::test]
    async fn outbox_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::new(dir.path().join("sub/outbox.jsonl"));
        o.send("+84912345678", "code 123456").await.unwrap();
        o.send("+84912345678", "code 654321").await.unwrap();
        let text = std::fs::read_to_string(dir.path().join("sub/outbox.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().last().unwrap().contains("654321"));
    }
}
