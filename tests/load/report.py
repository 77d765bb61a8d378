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
    # A run that used up its single-use values (refresh tokens, codes) went on answering
    # refusals, whose CPU time would be charged to the successful requests.
    if ticks is None or not ok or w["non2xx"] or w["errors"]:
        return float("nan")
    return ticks / int(os.environ.get("TICK_HZ", "100")) * 1e6 / ok


def wrk_us(r):
    """The load generator's own CPU per request it made (successful or not)."""
    w, s = r["wrk"], r.get("wrk_cpu_s")
    return float("nan") if s is None or not w["requests"] else s * 1e6 / w["requests"]


def cpu_cell(r, width):
    v = cpu_us(r)
    return f"{'—' if v != v else f'{v:.0f}':>{width}}"


def merge(a, b):
    """Two runs of one scenario (sign-in runs in rounds) as one: counts and time add up."""
    w = dict(a["wrk"])
    for k in ("requests", "duration_us", "errors", "non2xx", "cycles", "ok"):
        if k in w or k in b["wrk"]:
            w[k] = w.get(k, 0) + b["wrk"].get(k, 0)
    w["p50_us"] = max(w["p50_us"], b["wrk"]["p50_us"])
    w["p99_us"] = max(w["p99_us"], b["wrk"]["p99_us"])
    return dict(a, wrk=w, hwm_kb=max(a["hwm_kb"], b["hwm_kb"]),
                wrk_cpu_s=a.get("wrk_cpu_s", 0) + b.get("wrk_cpu_s", 0),
                cpu_ticks=a.get("cpu_ticks", 0) + b.get("cpu_ticks", 0))


def signin_line(rows, signin):
    """Sign-in against the hash rate. The rounds alternate with hash-rate measurements
    (h0 s1 h1 s2 h2 …): each round is compared with the mean of the two around it, and the
    whole with the mean of them all."""
    hashes = [r["hash_rate"] for r in rows if "hash_rate" in r]
    rounds = [r for r in rows if r.get("scenario") == "password_signin" and r.get("target") == "eidp"]
    if not hashes or not signin:
        return
    mean = sum(hashes) / len(hashes)
    share = rate(signin) / mean
    verdict = "ok" if share >= 1 - SIGNIN_SLACK else "MISS"
    each = [rate(r) / ((hashes[i] + hashes[min(i + 1, len(hashes) - 1)]) / 2)
            for i, r in enumerate(rounds) if i < len(hashes)]
    print(f"password_signin: {rate(signin):.1f}/s = {share:.3f} of this machine's Argon2id rate "
          f"({mean:.1f} hashes/s on the same pool, mean of {len(hashes)} measurements between the "
          f"rounds: {' '.join(f'{h:.1f}' for h in hashes)}; target ≥{1 - SIGNIN_SLACK:.2f}: {verdict})")
    if len(each) > 1:
        print(f"password_signin by round: {' '.join(f'{x:.2f}' for x in each)}")


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    by = {}
    for r in rows:
        if "scenario" in r:
            seen = by.setdefault(r["scenario"], {})
            t = r["target"]
            seen[t] = merge(seen[t], r) if t in seen else r
    print(f"{'scenario':<22}{'eidp req/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'peak MiB':>10}{'CPU µs/req':>11}{'wrk µs/req':>11}{'peer req/s':>12}{'ratio':>8}{'target':>9}{'peer µs/req':>12}")
    for name, t in by.items():
        e, p = t.get("eidp"), t.get("peer")
        if not e:
            continue
        er = rate(e)
        line = f"{name:<22}{er:>12.0f}{e['wrk']['p50_us']/1000:>9.2f}{e['wrk']['p99_us']/1000:>9.2f}{e['hwm_kb']/1024:>10.1f}{cpu_cell(e, 11)}{wrk_us(e):>11.1f}"
        if p:
            pr = rate(p)
            ratio = er / pr if pr else float("inf")
            goal = TARGETS.get(name)
            mark = "" if goal is None else (f"≥{goal}× " + ("ok" if ratio >= goal else "MISS"))
            line += f"{pr:>12.0f}{ratio:>7.1f}×{mark:>10}{cpu_cell(p, 12)}"
        print(line)
    signin_line(rows, by.get("password_signin", {}).get("eidp"))
    el, cc = by.get("eligibility", {}).get("eidp"), by.get("client_credentials", {}).get("eidp")
    if el and cc:
        share = rate(el) / rate(cc)
        verdict = "ok" if share >= 0.5 else "MISS"
        print(f"eligibility: {rate(el):.0f}/s = {share:.2f} of client_credentials ({rate(cc):.0f}/s), "
              f"each look-up audited; target ≥0.50: {verdict}")
    blank = [n for n, t in by.items() for r in t.values() if cpu_us(r) != cpu_us(r)]
    if blank:
        print(f"CPU µs/req —: {', '.join(dict.fromkeys(blank))} used up its single-use values or met "
              "errors, so its CPU time would include refusals (code_exchange always does: it has "
              "only the codes the sign-in made; for refresh_token, raise --refresh-tokens)")
    for r in rows:
        if r.get("note"):
            print(r["note"])


if __name__ == "__main__":
    main(sys.argv[1])
