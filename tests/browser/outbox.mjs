// The development SMS outbox (one JSON line per message): the last six-digit code sent to a
// phone, as eidp writes it (+84…).
import { readFileSync } from "node:fs";

export function lastSmsCode(outbox, phone) {
  const lines = readFileSync(outbox, "utf8").trim().split("\n").reverse();
  for (const l of lines) {
    const m = JSON.parse(l);
    const code = m.to === phone && m.text.match(/\b\d{6}\b/);
    if (code) return code[0];
  }
  throw new Error(`no code for ${phone} in the SMS outbox`);
}
