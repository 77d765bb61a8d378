//! Process-wide counters and latency histograms, rendered in the Prometheus text format at
//! `/metrics`. Hand-rolled to keep the dependency tree lean: a few maps behind one mutex are
//! cheap next to the work of any request they count.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex};

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Route {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

#[derive(Default)]
struct Inner {
    routes: BTreeMap<String, Route>,
    signins: BTreeMap<(&'static str, &'static str), u64>,
    tokens: BTreeMap<String, u64>,
    store_errors: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        match self.inner.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.with(|m| {
            // Look up by &str first: the route's key is allocated once, not per request.
            if !m.routes.contains_key(route) {
                m.routes.insert(route.to_string(), Route::default());
            }
            let Some(r) = m.routes.get_mut(route) else {
                return;
            };
            *r.by_status.entry(status).or_default() += 1;
            let h = &mut r.latency;
            for (i, le) in BUCKETS.iter().enumerate() {
                if seconds <= *le {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        });
    }

    /// `method`: pwd, otp, totp, webauthn…; `outcome`: success, invalid, locked, error.
    pub fn signin(&self, method: &'static str, outcome: &'static str) {
        self.with(|m| *m.signins.entry((method, outcome)).or_default() += 1);
    }

    pub fn token_issued(&self, grant: &str) {
        self.with(|m| *m.tokens.entry(grant.to_string()).or_default() += 1);
    }

    /// `kind`: unavailable, conflict, corrupt, other.
    pub fn store_error(&self, kind: &'static str) {
        self.with(|m| *m.store_errors.entry(kind).or_default() += 1);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.with(|m| {
            let _ = writeln!(out, "# HELP eidp_http_requests_total HTTP requests by route and status.");
            let _ = writeln!(out, "# TYPE eidp_http_requests_total counter");
            for (route, r) in &m.routes {
                for (status, n) in &r.by_status {
                    let _ = writeln!(out, "eidp_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
                }
            }
            let _ = writeln!(out, "# HELP eidp_http_request_duration_seconds Request latency by route.");
            let _ = writeln!(out, "# TYPE eidp_http_request_duration_seconds histogram");
            for (route, h) in m.routes.iter().map(|(k, r)| (k, &r.latency)) {
                for (le, c) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(out, "eidp_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {c}");
                }
                let _ = writeln!(out, "eidp_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "eidp_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(out, "eidp_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
            }
            let _ = writeln!(out, "# HELP eidp_signins_total Sign-in attempts by method and outcome.");
            let _ = writeln!(out, "# TYPE eidp_signins_total counter");
            for ((method, outcome), n) in &m.signins {
                let _ = writeln!(out, "eidp_signins_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP eidp_tokens_issued_total Token responses by grant type.");
            let _ = writeln!(out, "# TYPE eidp_tokens_issued_total counter");
            for (grant, n) in &m.tokens {
                let _ = writeln!(out, "eidp_tokens_issued_total{{grant=\"{grant}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP eidp_store_errors_total Storage errors by kind.");
            let _ = writeln!(out, "# TYPE eidp_store_errors_total counter");
            for (kind, n) in &m.store_errors {
                let _ = writeln!(out, "eidp_store_errors_total{{kind=\"{kind}\"}} {n}");
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("/token", 200, 0.003);
        m.request("/token", 200, 0.2);
        m.token_issued("client_credentials");
        m.signin("pwd", "success");
        m.store_error("unavailable");
        let text = m.render();
        assert!(text.contains("eidp_http_requests_total{route=\"/token\",status=\"200\"} 2"));
        assert!(text.contains(
            "eidp_http_request_duration_seconds_bucket{route=\"/token\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains(
                "eidp_http_request_duration_seconds_bucket{route=\"/token\",le=\"+Inf\"} 2"
            )
        );
        assert!(text.contains("eidp_tokens_issued_total{grant=\"client_credentials\"} 1"));
        assert!(text.contains("eidp_signins_total{method=\"pwd\",outcome=\"success\"} 1"));
        assert!(text.contains("eidp_store_errors_total{kind=\"unavailable\"} 1"));
    }
}
