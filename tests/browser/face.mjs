// Real-browser face step: Debian's chromium with a fake camera (the Y4M file the Rust test
// writes, EIDP_FAKE_VIDEO). The person signs in with the password to a client that requires
// loa:3; on the step-up page a refused camera first shows its message; then the camera is
// turned on, one frame is taken and sent, the person consents, and the ID token must say
// loa:3 with `face` in `amr`. Prints one JSON line; exit 1 on failure.
//
// Env: EIDP_ISSUER (http://localhost:PORT), EIDP_CLIENT_ID, EIDP_CLIENT_SECRET,
//      EIDP_REDIRECT_URI, EIDP_ID_NUMBER, EIDP_PASSWORD, EIDP_FAKE_VIDEO, CHROMIUM.
import { chromium } from "playwright-core";
import { authorization, catchCallback, env, explained, redeem } from "./rp.mjs";

const base = env("EIDP_ISSUER");
const redirectUri = env("EIDP_REDIRECT_URI");

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${env("EIDP_FAKE_VIDEO")}`],
  });
  try {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const request = authorization(base, env("EIDP_CLIENT_ID"), redirectUri);
    const got = await catchCallback(page, redirectUri);

    // 1. Password sign-in; the client requires loa:3, so the step-up asks for the face.
    await page.goto(request.url);
    await page.fill("#id_number", env("EIDP_ID_NUMBER"));
    await page.fill("#password", env("EIDP_PASSWORD"));
    await Promise.all([page.waitForURL(/\/login\/step-up/), page.click("form[action='/login'] button[type=submit]")]);
    await page.waitForSelector("#face-start");

    // 2. A camera the person refuses: the page says so in words.
    await page.evaluate(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("refused", "NotAllowedError"));
    });
    await page.click("#face-start");
    await page.waitForSelector("#face-error:not([hidden])");
    const deniedMessage = (await page.textContent("#face-error")).trim();

    // 3. The (fake) camera allowed: a frame is taken and matched.
    await page.reload();
    await page.click("#face-start");
    await page.waitForSelector("#face-capture:not([hidden])");
    await page.waitForFunction(() => document.getElementById("face-video").videoWidth > 0);
    const width = await page.evaluate(() => document.getElementById("face-video").videoWidth);
    await Promise.all([page.waitForURL(/\/consent/), page.click("#face-capture")]);
    await page.click("button[value=approve]");

    // 4. The relying party redeems the code.
    const rp = { base, clientId: env("EIDP_CLIENT_ID"), secret: env("EIDP_CLIENT_SECRET"), redirectUri };
    const claims = await redeem(page, got, rp, request);
    if (claims.acr !== "urn:vn:eid:loa:3") throw new Error(`expected loa:3, got ${claims.acr}`);
    console.log(JSON.stringify({ browser: "chromium", sub: claims.sub, acr: claims.acr, amr: claims.amr,
      video_width: width, denied_message: deniedMessage }));
  } catch (e) {
    throw await explained(browser, e);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
