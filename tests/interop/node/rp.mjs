// Interop relying party: drives a full OpenID Connect authorization-code flow
// against a running eidp with Node's certified `openid-client` (v6), unchanged.
//
// What it proves, each check done by the library itself unless noted:
//  - discovery (/.well-known/openid-configuration) is accepted, issuer matches;
//  - an authorization request with PKCE S256, state and nonce is accepted, and a
//    scripted "browser" (cookie jar, manual redirects, generic HTML form posting)
//    gets through login + consent to the registered redirect_uri;
//  - the callback passes state and RFC 9207 `iss` checks, the code exchange works
//    with client_secret_basic + PKCE, and the ID token verifies (ES256 via JWKS,
//    iss, aud, nonce, exp, iat);
//  - userinfo returns the ID token's `sub`;
//  - refresh_token grant returns a new access token and a rotated refresh token;
//  - RFC 7009 revocation of the new refresh token works (script check: it can no
//    longer be used).
// Input: EIDP_ISSUER EIDP_CLIENT_ID EIDP_CLIENT_SECRET EIDP_REDIRECT_URI
//        EIDP_ID_NUMBER EIDP_PASSWORD. Output: one JSON line on stdout, exit 0.
import * as client from 'openid-client';

const MAX_HOPS = 10;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
}

// Readable one-line description of an error, including nested causes.
function describe(err) {
  const parts = [];
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e !== 'object') { parts.push(String(e)); break; }
    if (!(e instanceof Error)) { // oauth4webapi attaches plain objects (expected values, parameters)
      parts.push(JSON.stringify(e, (k, v) => (v instanceof URLSearchParams ? v.toString() : v)).slice(0, 300));
      break;
    }
    let s = e.message || String(e);
    if (e.code) s += ` [${e.code}]`;
    if (e.error) s += ` error=${e.error}`;
    if (e.error_description) s += ` (${e.error_description})`;
    if (e.status) s += ` status=${e.status}`;
    if (e.code === 'ECONNREFUSED') s = `connection refused (${e.message})`;
    parts.push(s);
  }
  return parts.join(' <- ');
}

async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${name} failed: ${describe(err)}`);
  }
}

// --- minimal browser: cookie jar, manual redirects, generic form posting ----
const htmlUnescape = (s) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|quot|apos|lt|gt);/gi, (m, e) => {
  const k = e.toLowerCase();
  if (k[0] === '#') return String.fromCodePoint(k[1] === 'x' ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10));
  return { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' }[k];
});

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-\w:.]*)\s*=\s*"([^"]*)"/g)) out[m[1].toLowerCase()] = htmlUnescape(m[2]);
  return out;
}

function formFromHtml(html, pageUrl, idNumber, password) {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fa = attrs(m[1]);
    if ((fa.method || '').toLowerCase() !== 'post') continue;
    const body = new URLSearchParams();
    for (const t of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const a = attrs(t[2]);
      const type = (a.type || (t[1].toLowerCase() === 'button' ? 'submit' : 'text')).toLowerCase();
      if (type === 'hidden' && a.name) body.append(a.name, a.value ?? '');
      else if (a.name === 'id_number') body.append('id_number', idNumber);
      else if (a.name === 'password') body.append('password', password);
      else if (type === 'submit' && a.name === 'decision' && a.value === 'approve') body.append('decision', 'approve');
    }
    return { action: new URL(fa.action ?? '', pageUrl), body };
  }
  return null;
}

async function browse(startUrl, redirectUri, idNumber, password) {
  const jar = new Map();
  let req = { url: new URL(startUrl), method: 'GET', body: undefined };
  let last = 'no request made';
  for (let hop = 1; hop <= MAX_HOPS; hop++) {
    const headers = { accept: 'text/html' };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (req.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(req.url, { method: req.method, headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(10000) });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...rest] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const expired = rest.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (expired) jar.delete(name); else jar.set(name, pair.slice(i + 1).trim());
    }
    const text = await res.text();
    last = `${req.method} ${req.url} -> ${res.status}: ${text.slice(0, 300).replace(/\s+/g, ' ')}`;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, req.url);
      if (next.href.startsWith(redirectUri)) return next;
      req = { url: next, method: 'GET', body: undefined };
      continue;
    }
    if (res.status === 200 && /html/i.test(res.headers.get('content-type') || '')) {
      const form = formFromHtml(text, req.url, idNumber, password);
      if (form) {
        req = { url: form.action, method: 'POST', body: form.body.toString() };
        continue;
      }
    }
    throw new Error(`browser stuck (no redirect and no post form): ${last}`);
  }
  throw new Error(`gave up after ${MAX_HOPS} hops without reaching redirect_uri; last: ${last}`);
}

// --- the relying party -------------------------------------------------------
async function main() {
  const issuer = env('EIDP_ISSUER');
  const clientId = env('EIDP_CLIENT_ID');
  const clientSecret = env('EIDP_CLIENT_SECRET');
  const redirectUri = env('EIDP_REDIRECT_URI');
  const idNumber = env('EIDP_ID_NUMBER');
  const password = env('EIDP_PASSWORD');

  const config = await step('discovery', () => client.discovery(
    new URL(issuer), clientId,
    { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests], timeout: 10 },
  ));
  const meta = config.serverMetadata();

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const callback = await step('browser login/consent', () => browse(authUrl, redirectUri, idNumber, password));
  if (meta.authorization_response_iss_parameter_supported !== true) {
    process.stderr.write('warning: discovery does not announce authorization_response_iss_parameter_supported=true; iss only checked if present\n');
  }

  const tokens = await step('callback/code exchange', () => client.authorizationCodeGrant(
    config, callback, { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
  ));
  const claims = tokens.claims();
  if (!claims?.sub) throw new Error('code exchange failed: no ID token claims');

  const userinfo = await step('userinfo', () => client.fetchUserInfo(config, tokens.access_token, claims.sub));
  if (userinfo.sub !== claims.sub) throw new Error(`userinfo failed: sub ${userinfo.sub} != ${claims.sub}`);

  if (!tokens.refresh_token) throw new Error('code exchange failed: no refresh_token issued');
  const refreshed = await step('refresh', () => client.refreshTokenGrant(config, tokens.refresh_token));
  if (!refreshed.access_token) throw new Error('refresh failed: no access_token');
  if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) {
    throw new Error('refresh failed: refresh token was not rotated');
  }

  if (!meta.revocation_endpoint) throw new Error('revocation failed: no revocation_endpoint in discovery');
  await step('revocation', () => client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' }));
  const reuse = await client.refreshTokenGrant(config, refreshed.refresh_token).then(() => null, (e) => e);
  if (!reuse) throw new Error('revocation failed: revoked refresh token still accepted');
  if (reuse.error !== 'invalid_grant') throw new Error(`revocation check failed: expected invalid_grant, got ${describe(reuse)}`);

  process.stdout.write(JSON.stringify({ library: 'openid-client', sub: claims.sub, id_token_claims: claims }) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`eidp interop (openid-client): ${err.message}\n`);
  process.exit(1);
});
