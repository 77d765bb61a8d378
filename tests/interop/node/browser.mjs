// The scripted person for the interop relying parties: a cookie jar, manual redirects and the
// provider's forms filled in as a person would — sign in, a second factor by SMS (the code
// read from the development outbox), the face step (a still image posted as the camera page
// would), consent — until the browser is sent back to the redirect URI.
import { readFileSync } from 'node:fs';

const MAX_HOPS = 20;

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
}

// Readable one-line description of an error, including nested causes.
export function describe(err) {
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

export async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${name} failed: ${describe(err)}`);
  }
}

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

// The page's POST forms: action and hidden fields, in page order.
function forms(html, pageUrl) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fa = attrs(m[1]);
    if ((fa.method || '').toLowerCase() !== 'post') continue;
    const hidden = new URLSearchParams();
    const names = [];
    for (const t of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const a = attrs(t[2]);
      if (a.name) names.push(a.name);
      if ((a.type || '').toLowerCase() === 'hidden' && a.name) hidden.append(a.name, a.value ?? '');
    }
    out.push({ action: new URL(fa.action ?? '', pageUrl), path: fa.action ?? '', hidden, names });
  }
  return out;
}

// The last six-digit code the development SMS outbox holds.
function lastSmsCode(outbox) {
  const lines = readFileSync(outbox, 'utf8').trim().split('\n').reverse();
  for (const l of lines) {
    const m = JSON.parse(l).text?.match(/\b(\d{6})\b/);
    if (m) return m[1];
  }
  throw new Error(`no code in ${outbox}`);
}

// What the person does on this page: the request to send next, or null.
function act(html, pageUrl, who, state) {
  const fs = forms(html, pageUrl);
  const post = (f, extra) => {
    const body = new URLSearchParams(f.hidden);
    for (const [k, v] of Object.entries(extra)) body.set(k, v);
    return { url: f.action, method: 'POST', body: body.toString() };
  };
  const login = fs.find((f) => f.names.includes('id_number') && f.names.includes('password'));
  if (login) return post(login, { id_number: who.idNumber, password: who.password });
  // The camera page: what its script sends — one JPEG frame, the page's CSRF token in a header.
  const face = html.match(/<div id="face-step" data-ar="([^"]*)" data-csrf="([^"]*)"/);
  if (face && who.faceImage && !state.faced) {
    state.faced = true;
    return {
      url: new URL(`/login/step-up/face?ar=${encodeURIComponent(htmlUnescape(face[1]))}`, pageUrl),
      method: 'POST',
      body: Buffer.from(who.faceImage, 'base64'),
      headers: { 'content-type': 'image/jpeg', 'x-csrf-token': htmlUnescape(face[2]) },
      json: true,
    };
  }
  const send = fs.find((f) => f.path === '/login/step-up/sms');
  if (send && who.smsOutbox) {
    if (!state.smsSent) {
      state.smsSent = true;
      return post(send, {});
    }
    const enter = fs.find((f) => f.path === '/login/step-up' && f.hidden.get('method') === 'sms');
    state.smsSent = false;
    return post(enter, { code: lastSmsCode(who.smsOutbox) });
  }
  const consent = fs.find((f) => f.path === '/consent');
  if (consent) return post(consent, { decision: 'approve' });
  return null;
}

// Follow `startUrl` as the person `who` ({idNumber, password, smsOutbox?, faceImage?}) until
// the provider redirects to `redirectUri`; that URL.
export async function browse(startUrl, redirectUri, who) {
  const jar = new Map();
  const state = {};
  let req = { url: new URL(startUrl), method: 'GET', body: undefined };
  let last = 'no request made';
  for (let hop = 1; hop <= MAX_HOPS; hop++) {
    const headers = { accept: 'text/html', ...(req.headers ?? {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (req.body && !headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded';
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
    if (req.json) { // the camera page's answer: where to go next
      const next = JSON.parse(text || '{}').redirect;
      if (!next) throw new Error(`face step refused: ${last}`);
      req = { url: new URL(next, req.url), method: 'GET', body: undefined };
      continue;
    }
    if (res.status === 200 && /html/i.test(res.headers.get('content-type') || '')) {
      const next = act(text, req.url, who, state);
      if (next) {
        req = next;
        continue;
      }
    }
    throw new Error(`browser stuck (no redirect and nothing to do): ${last}`);
  }
  throw new Error(`gave up after ${MAX_HOPS} hops without reaching redirect_uri; last: ${last}`);
}
