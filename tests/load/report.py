#!/usr/bin/env python3
"""Print the benchmark table from results.jsonl (one JSON object per scenario run)."""
import json, os, sys

SIGNIN_SLACK = 0.15  # sign-in within 15 % of the hash rate
TARGETS = {"discovery": 10, "jwks": 10, "client_credentials": 5, "refresh_token": 5}


def rate(r):
    w = r["wrk"]
    if "cycles" in w:
        return w["cycles"] / (w["duration_us"] / 1e6)
    if w.get("ok_window_us"):
        return w["ok"] / (w["ok_window_us"] / 1e6)
    return (w["requests"] - w["non2xx"] - w["errors"]) / (w["duration_us"] / 1e6)


def cpu_us(r):
    """Server CPU (user + system) per successful request, in microseconds."""
    w, ticks = r["wrk"], r.get("cpu_ticks")
    ok = w.get("ok") or w.get("cycles") or (w["requests"] - w["non2xx"] - w["errors"])
    if ticks is None or not ok:
        return float("nan")
    return ticks / int(os.environ.get("TICK_HZ", "100")) * 1e6 / ok


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    by = {}
    for r in rows:
        if "scenario" in r:
            by.setdefault(r["scenario"], {})[r["target"]] = r
    print(f"{'scenario':<22}{'eidp req/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'peak MiB':>10}{'CPU µs/req':>11}{'peer req/s':>12}{'ratio':>8}{'target':>9}{'peer µs/req':>12}")
    for name, t in by.items():
        e, p = t.get("eidp"), t.get("peer")
        if not e:
            continue
        er = rate(e)
        line = f"{name:<22}{er:>12.0f}{e['wrk']['p50_us']/1000:>9.2f}{e['wrk']['p99_us']/1000:>9.2f}{e['hwm_kb']/1024:>10.1f}{cpu_us(e):>11.0f}"
        if p:
            pr = rate(p)
            ratio = er / pr if pr else float("inf")
            goal = TARGETS.get(name)
            mark = "" if goal is None else (f"≥{goal}× " + ("ok" if ratio >= goal else "MISS"))
            line += f"{pr:>12.0f}{ratio:>7.1f}×{mark:>10}{cpu_us(p):>12.0f}"
        print(line)
    hashes = next((r["hash_rate"] for r in rows if "hash_rate" in r), None)
    signin = by.get("password_signin", {}).get("eidp")
    if hashes and signin:
        share = rate(signin) / hashes
        verdict = "ok" if share >= 1 - SIGNIN_SLACK else "MISS"
        print(f"password_signin: {rate(signin):.1f}/s = {share:.2f} of this machine's Argon2id rate "
              f"({hashes:.1f} hashes/s on the same pool; target ≥{1 - SIGNIN_SLACK:.2f}: {verdict})")
    for r in rows:
        if r.get("note"):
            print(r["note"])


if __name__ == "__main__":
    main(sys.argv[1])
