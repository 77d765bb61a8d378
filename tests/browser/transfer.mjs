// A bank transfer in a real browser: Debian's chromium with a fake camera (the Y4M file the
// Rust test writes, EIDP_FAKE_VIDEO). The bank has pushed a 20,000,000 VND transfer (the
// Rust side holds its keys and redeems the code); the person opens the authorization URL,
// signs in with the password, takes the face step with the camera because the amount needs a
// biometric (and the SMS step, should it be asked first), and lands on the
// consent page, which must show the transfer in digits and in words; they approve. Prints one
// JSON line (the callback URL and what the page showed); exit 1 on failure.
//
// Env: EIDP_AUTHORIZE_URL, EIDP_REDIRECT_URI, EIDP_ID_NUMBER, EIDP_PASSWORD, EIDP_OUTBOX,
//      EIDP_PHONE, EIDP_FAKE_VIDEO, CHROMIUM.
import { chromium } from "playwright-core";
import { lastSmsCode } from "./outbox.mjs";
import { catchCallback, env, explained } from "./rp.mjs";

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${env("EIDP_FAKE_VIDEO")}`],
  });
  try {
    const page = await (await browser.newContext({ locale: "vi-VN" })).newPage();
    page.setDefaultTimeout(15000);
    const got = await catchCallback(page, env("EIDP_REDIRECT_URI"));
    await page.goto(env("EIDP_AUTHORIZE_URL"));
    await page.fill("#id_number", env("EIDP_ID_NUMBER"));
    await page.fill("#password", env("EIDP_PASSWORD"));
    await Promise.all([page.waitForURL(/\/login\/step-up/), page.click("form[action='/login'] button[type=submit]")]);

    // Should the page ask for a code before the face (it offers what reaches the level
    // soonest), the SMS code.
    if (!(await page.$("#face-start"))) {
      await page.click("form[action='/login/step-up/sms'] button[type=submit]");
      await page.fill("#sms_code", lastSmsCode(env("EIDP_OUTBOX"), env("EIDP_PHONE")));
      await Promise.all([page.waitForURL(/\/login\/step-up/), page.click("form[action='/login/step-up']:has(#sms_code) button[type=submit]")]);
    }

    // Twenty million needs a biometric: the face step, with the (fake) camera.
    await page.click("#face-start");
    await page.waitForSelector("#face-capture:not([hidden])");
    await page.waitForFunction(() => document.getElementById("face-video").videoWidth > 0);
    await Promise.all([page.waitForURL(/\/consent/), page.click("#face-capture")]);

    // The consent page shows the transfer.
    const amount = (await page.textContent("#transfer_amount")).trim();
    const words = (await page.textContent("#transfer_words")).trim();
    const creditor = (await page.textContent("#transfer_creditor")).trim();
    await page.click("button[value=approve]");
    for (let i = 0; i < 100 && !got(); i++) await page.waitForTimeout(100);
    if (!got()) throw new Error(`never reached the bank; at ${page.url()}`);
    console.log(JSON.stringify({ browser: "chromium", callback: got(), amount, words, creditor }));
  } catch (e) {
    throw await explained(browser, e);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
