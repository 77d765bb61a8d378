//! Pages for people: templates (embedded, so the binary is self-contained), translations
//! (Vietnamese first, English), and the language choice (`ui_locales`, then Accept-Language).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Map, Value};

const TEMPLATES: [(&str, &str); 16] = [
    (
        "account_confirm.html",
        include_str!("../../templates/account_confirm.html"),
    ),
    (
        "second_factor.html",
        include_str!("../../templates/second_factor.html"),
    ),
    (
        "mfa_totp.html",
        include_str!("../../templates/mfa_totp.html"),
    ),
    (
        "mfa_recovery.html",
        include_str!("../../templates/mfa_recovery.html"),
    ),
    ("enrol.html", include_str!("../../templates/enrol.html")),
    (
        "enrol_otp.html",
        include_str!("../../templates/enrol_otp.html"),
    ),
    (
        "enrol_password.html",
        include_str!("../../templates/enrol_password.html"),
    ),
    (
        "enrol_done.html",
        include_str!("../../templates/enrol_done.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "account_locked.html",
        include_str!("../../templates/account_locked.html"),
    ),
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
    (
        "logged_out.html",
        include_str!("../../templates/logged_out.html"),
    ),
];

pub const LANGS: [&str; 2] = ["vi", "en"];

pub struct Ui {
    env: Environment<'static>,
    strings: HashMap<&'static str, Map<String, Value>>,
}

impl Ui {
    pub fn new() -> Result<Ui, String> {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        let mut strings = HashMap::new();
        for (lang, src) in [
            ("vi", include_str!("../../templates/i18n/vi.json")),
            ("en", include_str!("../../templates/i18n/en.json")),
        ] {
            let map: Map<String, Value> =
                serde_json::from_str(src).map_err(|e| format!("i18n/{lang}.json: {e}"))?;
            strings.insert(lang, map);
        }
        Ok(Ui { env, strings })
    }

    pub fn t(&self, lang: &str, key: &str) -> String {
        self.strings
            .get(lang)
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_string()
    }

    /// Render a page; `ctx` gets `t` (translations) and `lang` added.
    pub fn page(&self, status: StatusCode, name: &str, lang: &str, ctx: Value) -> Response {
        let mut ctx = match ctx {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        ctx.insert("lang".into(), Value::String(lang.into()));
        ctx.insert(
            "t".into(),
            Value::Object(self.strings.get(lang).cloned().unwrap_or_default()),
        );
        let html = self
            .env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(Value::Object(ctx))));
        match html {
            Ok(html) => (status, page_headers(), html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, template = name, "render failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }

    pub fn error(&self, status: StatusCode, lang: &str, message_key: &str) -> Response {
        let ctx = serde_json::json!({ "title": "", "message": self.t(lang, message_key) });
        self.page(status, "error.html", lang, ctx)
    }
}

/// Pages are never cached, never framed, and run no script.
fn page_headers() -> [(header::HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    ]
}

/// `ui_locales` wins (OIDC Core §3.1.2.1), then Accept-Language, then Vietnamese.
pub fn choose_lang(ui_locales: &[String], headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let wanted = ui_locales.iter().map(String::as_str).chain(
        accept
            .split(',')
            .map(|p| p.split(';').next().unwrap_or_default().trim()),
    );
    for tag in wanted {
        let primary = tag
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(l) = LANGS.iter().find(|l| **l == primary) {
            return l;
        }
    }
    "vi"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_load_and_translations_match() {
        let ui = Ui::new().unwrap();
        let vi: Vec<_> = ui.strings["vi"].keys().collect();
        let en: Vec<_> = ui.strings["en"].keys().collect();
        assert_eq!(vi, en, "vi.json and en.json must have the same keys");
    }

    #[test]
    fn language_choice() {
        let mut h = HeaderMap::new();
        assert_eq!(choose_lang(&[], &h), "vi");
        h.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(choose_lang(&[], &h), "en");
        assert_eq!(choose_lang(&["vi-VN".into()], &h), "vi");
        assert_eq!(choose_lang(&["fr".into()], &h), "en");
    }
}
