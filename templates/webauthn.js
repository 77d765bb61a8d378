// eidp passkeys: the browser half of the WebAuthn ceremonies. Options come from the server
// as JSON with base64url fields; credentials go back the same way. No framework, no inline code
// (the pages' CSP allows only this file).
(function () {
  "use strict";
  // Removing a credential is asked once more, in the page's words.
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-confirm]").forEach((f) => {
      f.addEventListener("submit", (ev) => { if (!window.confirm(f.dataset.confirm)) ev.preventDefault(); });
    });
  });
  if (!window.PublicKeyCredential) return;

  const dec = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  };
  const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const $ = (id) => document.getElementById(id);
  const csrf = () => document.querySelector('meta[name="csrf-webauthn"]').content;
  const ar = () => (document.querySelector('input[name="ar"]') || {}).value || "";

  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({}));
    // Account changes need a recent confirmation: go and give it, then come back.
    if (j.error === "reauthentication_required" && j.redirect) {
      window.location.assign(j.redirect);
      return new Promise(() => {});
    }
    if (!r.ok) throw new Error(j.message || j.error_description || String(r.status));
    return j;
  }

  function creation(o) {
    const p = o.publicKey;
    p.challenge = dec(p.challenge);
    p.user.id = dec(p.user.id);
    (p.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
    return { publicKey: p };
  }

  function request(o) {
    const p = o.publicKey;
    p.challenge = dec(p.challenge);
    (p.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
    return { publicKey: p };
  }

  const registration = (c) => ({
    id: c.id, rawId: enc(c.rawId), type: c.type, extensions: c.getClientExtensionResults(),
    response: {
      attestationObject: enc(c.response.attestationObject),
      clientDataJSON: enc(c.response.clientDataJSON),
      transports: c.response.getTransports ? c.response.getTransports() : undefined,
    },
  });

  const assertion = (c) => ({
    id: c.id, rawId: enc(c.rawId), type: c.type, extensions: c.getClientExtensionResults(),
    response: {
      authenticatorData: enc(c.response.authenticatorData),
      clientDataJSON: enc(c.response.clientDataJSON),
      signature: enc(c.response.signature),
      userHandle: c.response.userHandle ? enc(c.response.userHandle) : null,
    },
  });

  // The page's words for what the browser reports (the server's come translated already).
  const words = () => {
    const m = document.querySelector('meta[name="passkey-messages"]');
    try { return m ? JSON.parse(m.content) : {}; } catch (_) { return {}; }
  };

  function fail(e) {
    const w = words();
    const known = { NotAllowedError: w.cancelled, AbortError: w.cancelled, InvalidStateError: w.exists,
      NotSupportedError: w.unsupported, SecurityError: w.unsupported };
    const el = $("passkey-error");
    if (el) { el.hidden = false; el.textContent = known[e && e.name] || e.message || String(e); }
  }

  let pending = null;

  async function signIn(conditional) {
    if (pending) pending.abort();
    pending = new AbortController();
    const start = await post("/webauthn/login/start", {});
    const opts = request(start.options);
    opts.signal = pending.signal;
    if (conditional) opts.mediation = "conditional";
    const cred = await navigator.credentials.get(opts);
    const done = await post("/webauthn/login/finish", { ceremony: start.ceremony, credential: assertion(cred), ar: ar() });
    window.location.assign(done.redirect);
  }

  async function add() {
    const start = await post("/webauthn/register/start", {});
    const cred = await navigator.credentials.create(creation(start.options));
    const done = await post("/webauthn/register/finish", {
      ceremony: start.ceremony, name: ($("passkey-name") || {}).value || "", credential: registration(cred),
    });
    window.location.assign(done.redirect || "/account");
  }

  async function second() {
    const start = await post("/webauthn/second/start", {});
    const cred = await navigator.credentials.get(request(start.options));
    const done = await post("/webauthn/second/finish", { ceremony: start.ceremony, credential: assertion(cred), ar: ar() });
    window.location.assign(done.redirect);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const signin = $("passkey-signin");
    if (signin) {
      signin.addEventListener("click", () => signIn(false).catch(fail));
      // Conditional UI: passkeys offered in the ID-number field's autofill.
      if (PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
          if (ok) signIn(true).catch(() => {});
        });
      }
    }
    const addBtn = $("passkey-add");
    if (addBtn) addBtn.addEventListener("click", () => add().catch(fail));
    const secondBtn = $("passkey-second");
    if (secondBtn) secondBtn.addEventListener("click", () => second().catch(fail));
  });
})();
