//! Pages for people: templates (embedded, so the binary is self-contained), translations
//! (Vietnamese first, English), and the language choice (`ui_locales`, then Accept-Language).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Map, Value};

const TEMPLATES: [(&str, &str); 20] = [
    (
        "level_too_low.html",
        include_str!("../../templates/level_too_low.html"),
    ),
    (
        "account_confirm.html",
        include_str!("../../templates/account_confirm.html"),
    ),
    ("step_up.html", include_str!("../../templates/step_up.html")),
    ("recover.html", include_str!("../../templates/recover.html")),
    (
        "messages.html",
        include_str!("../../templates/messages.html"),
    ),
    (
        "factor_totp.html",
        include_str!("../../templates/factor_totp.html"),
    ),
    (
        "factor_recovery.html",
        include_str!("../../templates/factor_recovery.html"),
    ),
    ("enrol.html", include_str!("../../templates/enrol.html")),
    (
        "consent_receipt.html",
        include_str!("../../templates/consent_receipt.html"),
    ),
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
            "here".into(),
            Value::String(super::middleware::request_page().unwrap_or_else(|| "/".into())),
        );
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

    /// An error page that leads back to the account page.
    pub fn error(&self, status: StatusCode, lang: &str, message_key: &str) -> Response {
        self.error_page(
            status,
            lang,
            message_key,
            None,
            ("/account", "back_to_account"),
        )
    }

    /// The provider cannot answer now (a store is down): "try again later", 503.
    pub fn try_later(&self, lang: &str) -> Response {
        self.error(StatusCode::SERVICE_UNAVAILABLE, lang, "error_try_later")
    }

    /// An error page: the message in the person's language, the protocol `code` apart (for
    /// support), the request's id as the reference its log lines carry, and a way back
    /// (`(url, label key)`).
    pub fn error_page(
        &self,
        status: StatusCode,
        lang: &str,
        message_key: &str,
        code: Option<&str>,
        back: (&str, &str),
    ) -> Response {
        let ctx = serde_json::json!({
            "message": self.t(lang, message_key),
            "code": code,
            "reference": super::middleware::request_id(),
            "back_url": back.0,
            "back_label": self.t(lang, back.1),
        });
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

/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "eidp_lang";

/// The person's own choice (the switcher's cookie) wins, then the client's `ui_locales`
/// (OIDC Core §3.1.2.1), then Accept-Language, then Vietnamese.
pub fn choose_lang(ui_locales: &[String], headers: &HeaderMap) -> &'static str {
    if let Some(chosen) = super::form::cookie(headers, LANG_COOKIE)
        && let Some(l) = LANGS.iter().find(|l| **l == chosen)
    {
        return l;
    }
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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A `YYYY-MM-DD` date as people of `lang` write it: `08/03/1990` in Vietnamese, `8 Mar 1990`
/// in English; anything else as given.
pub fn date_text(lang: &str, ymd: &str) -> String {
    let parts: Vec<&str> = ymd.split('-').collect();
    let (Some(y), Some(m), Some(d)) = (parts.first(), parts.get(1), parts.get(2)) else {
        return ymd.to_string();
    };
    let month = m.parse::<usize>().ok().filter(|m| (1..=12).contains(m));
    match (lang, month, d.parse::<u32>()) {
        ("vi", Some(_), Ok(_)) => format!("{d}/{m}/{y}"),
        (_, Some(mi), Ok(di)) => format!("{di} {} {y}", MONTHS[mi - 1]),
        _ => ymd.to_string(),
    }
}

/// A moment in Vietnam time (UTC+7, no daylight saving), as people of `lang` write it.
pub fn local_date_time(lang: &str, t: i64) -> String {
    let local = t + 7 * 3600;
    let secs = local.rem_euclid(86_400);
    let date = date_text(lang, &crate::identity::register::date_of(local));
    let sep = if lang == "vi" { " " } else { ", " };
    format!("{date}{sep}{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
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
        h.insert(header::COOKIE, "eidp_lang=vi".parse().unwrap());
        assert_eq!(
            choose_lang(&["en".into()], &h),
            "vi",
            "the person's choice wins"
        );
        h.insert(header::COOKIE, "eidp_lang=xx".parse().unwrap());
        assert_eq!(choose_lang(&[], &h), "en", "an unknown choice is ignored");
    }

    #[test]
    fn dates_read_as_people_write_them() {
        // 2026-11-30 07:05 UTC is 14:05 in Vietnam.
        let t = 1_796_022_300;
        assert_eq!(local_date_time("vi", t), "30/11/2026 14:05");
        assert_eq!(local_date_time("en", t), "30 Nov 2026, 14:05");
        assert_eq!(date_text("vi", "1990-03-08"), "08/03/1990");
        assert_eq!(date_text("en", "1990-03-08"), "8 Mar 1990");
        assert_eq!(date_text("vi", "not a date"), "not a date");
    }
}
