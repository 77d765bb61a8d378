// Real-browser passkey test: Debian's chromium (headless) with a CDP virtual authenticator.
// A person signs in to /account with their password; adding a passkey first asks them to
// confirm it is them (the password again and an SMS code to the phone on record, read from
// the development outbox); then they register a passkey, and sign in to a relying party with
// that passkey alone (no ID number typed) and consent; the code is exchanged and the ID token
// must say loa:2 (a passkey is two factors, without a biometric the provider saw). Prints one
// JSON line; exit 1 on failure.
//
// Env: EIDP_ISSUER (http://localhost:PORT), EIDP_CLIENT_ID, EIDP_CLIENT_SECRET,
//      EIDP_REDIRECT_URI, EIDP_ID_NUMBER, EIDP_PASSWORD, EIDP_OUTBOX (the SMS outbox file),
//      EIDP_PHONE (as the outbox addresses it), CHROMIUM (default /usr/bin/chromium).
import { lastSmsCode as outboxCode } from "./outbox.mjs";
import { chromium } from "playwright-core";
import { authorization, catchCallback, env, explained, redeem } from "./rp.mjs";

const base = env("EIDP_ISSUER");
const redirectUri = env("EIDP_REDIRECT_URI");

// The last six-digit code the development SMS outbox holds for the phone.
const lastSmsCode = () => outboxCode(env("EIDP_OUTBOX"), env("EIDP_PHONE"));

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    // 1. Password sign-in to the account page, then register a passkey there.
    await page.goto(`${base}/account`);
    await page.fill("#id_number", env("EIDP_ID_NUMBER"));
    await page.fill("#password", env("EIDP_PASSWORD"));
    await Promise.all([page.waitForURL(`${base}/account`), page.click("form[action='/login'] button[type=submit]")]);
    // Adding a passkey with a password-only session: the page sends the person to confirm.
    await Promise.all([page.waitForURL(`${base}/account/confirm`), page.click("#passkey-add")]);
    const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
    // The password step is skipped when the sign-in a moment ago already proved it.
    if (await page.$("#password")) {
      await page.fill("#password", env("EIDP_PASSWORD"));
      await submit("form:has(#password) button[type=submit]");
    }
    await submit("form[action='/account/confirm/sms'] button[type=submit]");
    await page.fill("#sms_code", lastSmsCode());
    await submit("form:has(#sms_code) button[type=submit]");
    await page.waitForSelector("#passkey-add");
    await page.fill("#passkey-name", "Chromium virtual key");
    await page.click("#passkey-add");
    await page.waitForSelector("text=Chromium virtual key >> nth=0", { state: "attached" });
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    if (!credentials.length || !credentials[0].isResidentCredential) throw new Error("no discoverable credential was created");

    // 2. A fresh browser session (same authenticator): sign in to a relying party with the passkey alone.
    await context.clearCookies();
    const request = authorization(base, env("EIDP_CLIENT_ID"), redirectUri);
    const got = await catchCallback(page, redirectUri);
    await page.goto(request.url);
    // Conditional UI may already complete the sign-in from the ID-number field's autofill
    // (the virtual authenticator answers at once); otherwise press the passkey button.
    let mode = "conditional";
    const consent = page.waitForSelector("button[value=approve]");
    const pressed = await Promise.race([
      consent.then(() => false),
      page.waitForTimeout(1500).then(() => true),
    ]);
    if (pressed) {
      mode = "button";
      await page.evaluate(() => document.getElementById("passkey-signin").click()).catch(() => {});
    }
    await consent;
    await page.click("button[value=approve]");

    // 3. The relying party redeems the code.
    const rp = { base, clientId: env("EIDP_CLIENT_ID"), secret: env("EIDP_CLIENT_SECRET"), redirectUri };
    const claims = await redeem(page, got, rp, request);
    if (claims.acr !== "urn:vn:eid:loa:2") throw new Error(`expected loa:2, got ${claims.acr}`);
    console.log(JSON.stringify({ browser: "chromium", mode, sub: claims.sub, acr: claims.acr, amr: claims.amr }));
  } catch (e) {
    throw await explained(browser, e);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`eidp browser test: ${e.message}`);
  process.exit(1);
});
