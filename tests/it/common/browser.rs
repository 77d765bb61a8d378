//! A scripted browser: keeps cookies, follows redirects by hand, and fills in the provider's
//! sign-in and consent forms the way a person would.

use url::Url;

pub struct Browser {
    pub http: reqwest::Client,
}

/// Where a navigation ended.
#[derive(Debug)]
pub enum Landing {
    /// A redirect that leaves the provider (to a client).
    Redirect(Url),
    /// A page of the provider that is not a form we fill in.
    Page(u16, String),
}

impl Landing {
    pub fn expect_redirect(self) -> Url {
        match self {
            Landing::Redirect(u) => u,
            Landing::Page(status, body) => {
                panic!("expected a redirect to the client, got page {status}: {body}")
            }
        }
    }

    pub fn expect_page(self) -> (u16, String) {
        match self {
            Landing::Page(status, body) => (status, body),
            Landing::Redirect(u) => panic!("expected a page, got redirect to {u}"),
        }
    }
}

/// The value of `<input … name="NAME" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')?;
    Some(html_unescape(&rest[v..v + end]))
}

/// The target of the first link with class `class` (`<a href="…" class="class"…`).
pub fn link_href(html: &str, class: &str) -> Option<String> {
    let marker = format!("class=\"{class}");
    html.match_indices("<a href=\"").find_map(|(i, _)| {
        let rest = &html[i + 9..];
        let end = rest.find('"')?;
        let tag_end = rest.find('>')?;
        rest[..tag_end]
            .contains(&marker)
            .then(|| html_unescape(&rest[..end]))
    })
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http }
    }

    /// Navigate to `url` and keep going while the provider redirects to itself.
    pub async fn go(&self, url: &str) -> (Url, u16, String) {
        let mut current = Url::parse(url).unwrap();
        for _ in 0..10 {
            let resp = self.http.get(current.clone()).send().await.unwrap();
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                let loc = resp.headers()["location"].to_str().unwrap().to_string();
                let next = current.join(&loc).unwrap();
                if next.origin() != current.origin() {
                    return (next, status, String::new());
                }
                current = next;
                continue;
            }
            let body = resp.text().await.unwrap();
            return (current, status, body);
        }
        panic!("too many redirects from {url}");
    }

    pub async fn post_form(&self, base: &Url, action: &str, form: &[(&str, &str)]) -> Landing {
        let target = base.join(action).unwrap();
        let resp = self
            .http
            .post(target.clone())
            .form(form)
            .send()
            .await
            .unwrap();
        self.land(target, resp).await
    }

    async fn land(&self, from: Url, resp: reqwest::Response) -> Landing {
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let loc = resp.headers()["location"].to_str().unwrap().to_string();
            let next = from.join(&loc).unwrap();
            if next.origin() != from.origin() {
                return Landing::Redirect(next);
            }
            let (url, status, body) = self.go(next.as_str()).await;
            if url.origin() != from.origin() {
                return Landing::Redirect(url);
            }
            return Landing::Page(status, body);
        }
        Landing::Page(status, resp.text().await.unwrap())
    }

    /// Approve the consent page `body`, ticking the optional claims in `share`.
    pub async fn approve(&self, at: &Url, body: &str, share: &[&str]) -> Landing {
        let ar = input_value(body, "ar").unwrap();
        let csrf = input_value(body, "csrf").unwrap();
        let shown = input_value(body, "shown").unwrap();
        let ticks: Vec<String> = share.iter().map(|c| format!("share_{c}")).collect();
        let mut form = vec![
            ("ar", ar.as_str()),
            ("csrf", csrf.as_str()),
            ("shown", shown.as_str()),
            ("decision", "approve"),
        ];
        form.extend(ticks.iter().map(|t| (t.as_str(), "on")));
        self.post_form(at, "/consent", &form).await
    }

    /// Open an authorization URL and play the person: sign in if asked, approve consent if
    /// asked, until the provider sends the browser back to the client.
    pub async fn sign_in(&self, url: &str, id_number: &str, password: &str) -> Landing {
        self.sign_in_sharing(url, id_number, password, &[]).await
    }

    /// [`Browser::sign_in`], ticking the optional claims in `share` on the consent page.
    pub async fn sign_in_sharing(
        &self,
        url: &str,
        id_number: &str,
        password: &str,
        share: &[&str],
    ) -> Landing {
        let (mut at, mut status, mut body) = self.go(url).await;
        for _ in 0..5 {
            if at.origin() != Url::parse(url).unwrap().origin() {
                return Landing::Redirect(at);
            }
            let landing = if body.contains("action=\"/login\"") {
                let ar = input_value(&body, "ar").unwrap();
                let csrf = input_value(&body, "csrf").unwrap();
                self.post_form(
                    &at,
                    "/login",
                    &[
                        ("ar", &ar),
                        ("csrf", &csrf),
                        ("id_number", id_number),
                        ("password", password),
                    ],
                )
                .await
            } else if body.contains("action=\"/consent\"") {
                self.approve(&at, &body, share).await
            } else {
                return Landing::Page(status, body);
            };
            match landing {
                Landing::Redirect(u) => return Landing::Redirect(u),
                Landing::Page(s, b) => {
                    // Stay on the provider: the page we were sent to.
                    if s == 401
                        || (!b.contains("action=\"/login\"") && !b.contains("action=\"/consent\""))
                    {
                        return Landing::Page(s, b);
                    }
                    status = s;
                    body = b;
                    at = Url::parse(url).unwrap();
                }
            }
        }
        Landing::Page(status, body)
    }
}
