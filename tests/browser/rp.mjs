// The relying party's half of a browser test: an authorization request with PKCE, catching
// the callback in the page, and redeeming the code for the ID token's claims.
import { createHash, randomBytes } from "node:crypto";

const b64url = (buf) => buf.toString("base64url");

/// A required environment variable.
export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing environment variable ${k}`);
  return v;
};

/// A fresh authorization request: its URL and what the callback is checked against.
export function authorization(base, clientId, redirectUri) {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const state = b64url(randomBytes(8));
  const q = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirectUri,
    scope: "openid profile", state, nonce: b64url(randomBytes(8)), code_challenge: challenge, code_challenge_method: "S256" });
  return { url: `${base}/authorize?${q}`, state, verifier };
}

/// Answer the client's callback inside `page`; `got()` is its URL once it came.
export async function catchCallback(page, redirectUri) {
  let callback = null;
  await page.route(`${redirectUri}**`, (route) => {
    callback = route.request().url();
    route.fulfill({ status: 200, contentType: "text/plain", body: "relying party callback" });
  });
  return () => callback;
}

/// Wait for the callback, check it and redeem its code (client_secret_basic); the ID token's claims.
export async function redeem(page, got, { base, clientId, secret, redirectUri }, { state, verifier }) {
  for (let i = 0; i < 100 && !got(); i++) await page.waitForTimeout(100);
  if (!got()) throw new Error(`never reached the relying party; at ${page.url()}`);
  const cb = new URL(got());
  if (cb.searchParams.get("state") !== state) throw new Error("state mismatch");
  const code = cb.searchParams.get("code");
  if (!code) throw new Error(`no code: ${got()}`);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64");
  const r = await fetch(`${base}/token`, {
    method: "POST",
    headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier }),
  });
  const tokens = await r.json();
  if (!r.ok) throw new Error(`token endpoint: ${JSON.stringify(tokens)}`);
  return JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
}

/// The error to report: `e` with where the browser stood and what its page said.
export async function explained(browser, e) {
  const pages = browser.contexts().flatMap((c) => c.pages());
  const at = pages.length ? pages[0].url() : "?";
  const html = pages.length ? (await pages[0].content().catch(() => "")).replace(/\s+/g, " ").slice(0, 3000) : "";
  return new Error(`${e.message} (at ${at}: ${html})`);
}
