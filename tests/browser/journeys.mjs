// Journeys a person takes in a real browser (Debian's chromium, headless), from a service's
// authorization request back to that service with a code:
//   JOURNEY=enrol   — no account yet: "Chưa có tài khoản?" on the sign-in page, enrolment with
//                     the SMS code (read from the development outbox), a password, consent.
//   JOURNEY=recover — a forgotten password: "Quên mật khẩu?", the SMS code, a new password,
//                     consent.
//   JOURNEY=consent — sign in with EIDP_ID_NUMBER and EIDP_PASSWORD; on the consent page check
//                     the purpose (EIDP_PURPOSE) is stated, that no optional claim is ticked,
//                     tick EIDP_TICK and leave EIDP_LEAVE unticked, then allow.
// Prints one JSON line with the callback's code and state; exit 1 on failure.
//
// Env: EIDP_AUTHORIZE_URL, EIDP_REDIRECT_URI, EIDP_OUTBOX, EIDP_PHONE (as the outbox addresses
// it), EIDP_PHONE_TYPED (as the person types it), EIDP_ID_NUMBER, EIDP_PASSWORD (the new one),
// for enrol also EIDP_FULL_NAME and EIDP_BIRTH_DATE; CHROMIUM (default /usr/bin/chromium).
import { lastSmsCode as outboxCode } from "./outbox.mjs";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing environment variable ${k}`);
  return v;
};

const lastSmsCode = () => outboxCode(env("EIDP_OUTBOX"), env("EIDP_PHONE"));

async function main() {
  const journey = env("JOURNEY");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ locale: "vi-VN" });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  let callback = null;
  await page.route(`${env("EIDP_REDIRECT_URI")}**`, (route) => {
    callback = route.request().url();
    route.fulfill({ status: 200, contentType: "text/plain", body: "relying party callback" });
  });
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  try {
    await page.goto(env("EIDP_AUTHORIZE_URL"));
    await page.waitForSelector("form[action='/login']");
    if (journey === "enrol") {
      await Promise.all([page.waitForNavigation(), page.click("a[href^='/enrol?ar=']")]);
      await page.fill("#id_number", env("EIDP_ID_NUMBER"));
      await page.fill("#full_name", env("EIDP_FULL_NAME"));
      await page.fill("#birth_date", env("EIDP_BIRTH_DATE"));
      await page.fill("#phone", env("EIDP_PHONE_TYPED"));
      await submit("form[action='/enrol'] button[type=submit]");
      await page.fill("#otp", lastSmsCode());
      await submit("form[action='/enrol/otp'] button[type=submit]");
      await page.fill("#password", env("EIDP_PASSWORD"));
      await page.fill("#password_confirm", env("EIDP_PASSWORD"));
      await submit("form[action='/enrol/password'] button[type=submit]");
    } else if (journey === "recover") {
      await Promise.all([page.waitForNavigation(), page.click("a[href^='/recover?ar=']")]);
      await page.fill("#id_number", env("EIDP_ID_NUMBER"));
      await page.fill("#phone", env("EIDP_PHONE_TYPED"));
      await submit("form[action='/recover'] button[type=submit]");
      // The code field has the focus once the code was sent. Chromium applies `autofocus` at
      // its next rendering update, which may come after the load event on a busy machine.
      const hasFocus = () => document.activeElement && document.activeElement.id === "code";
      const focused = await page.waitForFunction(hasFocus, null, { timeout: 5000 }).catch(() => null);
      if (!focused) {
        const at = await page.evaluate(() => document.activeElement && document.activeElement.id);
        throw new Error(`the code field should have the focus, not ${at}`);
      }
      await page.fill("#code", lastSmsCode());
      await submit("form[action='/recover/code'] button[type=submit] >> nth=0");
      await page.fill("#password", env("EIDP_PASSWORD"));
      await page.fill("#password_confirm", env("EIDP_PASSWORD"));
      await submit("form[action='/recover/password'] button[type=submit]");
    } else if (journey === "consent") {
      await page.fill("#id_number", env("EIDP_ID_NUMBER"));
      await page.fill("#password", env("EIDP_PASSWORD"));
      await submit("form[action='/login'] button[type=submit]");
      await page.waitForSelector("form[action='/consent']");
      const purpose = await page.textContent("#purpose");
      if (!purpose.includes(env("EIDP_PURPOSE"))) throw new Error(`purpose not stated: ${purpose}`);
      const ticked = await page.$$eval("input[name^='share_']", (xs) => xs.filter((x) => x.checked).map((x) => x.name));
      if (ticked.length) throw new Error(`optional claims pre-ticked: ${ticked}`);
      const leave = page.locator(`#share_${env("EIDP_LEAVE")}`);
      if ((await leave.count()) !== 1) throw new Error(`no optional ${env("EIDP_LEAVE")} on the page`);
      // The person ticks by the label, as they would.
      await page.click(`label:has(#share_${env("EIDP_TICK")})`);
      if (!(await page.isChecked(`#share_${env("EIDP_TICK")}`))) throw new Error("tick did not take");
      if (await leave.isChecked()) throw new Error(`${env("EIDP_LEAVE")} got ticked`);
    } else {
      throw new Error(`unknown journey ${journey}`);
    }
    // Signed in now, the person consents and is back at the service.
    await page.waitForSelector("button[value=approve]");
    await page.click("button[value=approve]");
    for (let i = 0; i < 100 && !callback; i++) await page.waitForTimeout(100);
    if (!callback) throw new Error(`never reached the service; at ${page.url()}`);
    const cb = new URL(callback);
    const code = cb.searchParams.get("code");
    if (!code) throw new Error(`no code: ${callback}`);
    console.log(JSON.stringify({ journey, code, state: cb.searchParams.get("state") }));
  } catch (e) {
    const html = (await page.content().catch(() => "")).replace(/\s+/g, " ");
    const alert = (html.match(/<div class="alert"[^>]*>(.*?)<\/div>/) || [])[1] || "";
    throw new Error(`${e.message} (at ${page.url()}; ${alert.slice(0, 500)})`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`eidp browser journey: ${e.message}`);
  process.exit(1);
});
