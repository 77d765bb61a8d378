#!/usr/bin/env python3
"""Bulk-load benchmark state straight into eidp's database (SQLite file or PostgreSQL):
live refresh tokens (each its own grant, a family at generation 0, the token tagged with the
key derived from the key-encryption key as oidc/refresh_token.rs does), consent for
the bench client, and optionally many synthetic citizens with accounts. Far faster than the
HTTP flows, which is the point: a million refresh tokens through argon2 sign-ins would take
hours. Prints nothing but errors; writes the refresh tokens one per line to --out."""
import argparse, base64, csv, hashlib, hmac, io, json, os, secrets, sqlite3, subprocess, sys, time

ROOT = os.path.dirname(os.path.abspath(__file__))
PROVINCES = [r["code"] for r in csv.DictReader(open(os.path.join(ROOT, "../../src/identity/province-codes.csv"), encoding="utf-8"))]


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def refresh_key(kek_file):
    """crypto/kek.rs: HMAC-SHA256 keyed with the KEK over the purpose label."""
    text = open(kek_file).read().strip()
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return hmac.new(raw, b"eidp/refresh-token/v1", hashlib.sha256).digest()


def rows(args, now):
    key = refresh_key(args.kek_file) if args.refresh else None
    grants, tokens = [], []
    for _ in range(args.refresh):
        gid = b64(secrets.token_bytes(16))
        grants.append((gid, args.client, args.sub, "openid profile", now, "urn:vn:eid:loa:1", '["pwd"]', b64(secrets.token_bytes(16)), None, now, now + 30 * 86400, None, 0, now))
        body = f"{gid}.0"
        tokens.append(f"{body}.{b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}")
    return grants, tokens


def citizens(n, password_hash, now):
    """Valid ID numbers (province, century/sex digit, birth year, serial), unique."""
    people, accounts, seen, i = [], [], set(), 0
    rnd = secrets.SystemRandom()
    while len(people) < n:
        i += 1
        prov, year, female = rnd.choice(PROVINCES), rnd.randrange(1940, 2026), rnd.random() < 0.5
        g = (year // 100 - 19) * 2 + (1 if female else 0)
        idn = f"{prov}{g}{year % 100:02d}{rnd.randrange(1_000_000):06d}"
        if idn in seen:
            continue
        seen.add(idn)
        people.append((idn, f"Công dân {i}", f"{year}-01-15", "female" if female else "male", "VN", None, None, None, prov, None, None, None, None, now, now))
        accounts.append((b64(secrets.token_bytes(16)), idn, password_hash, 1, "active", None, None, 0, now, now, None))
    return people, accounts


PERSON_COLS = "id_number, full_name, birth_date, sex, nationality, phone, email, residence, birth_place, household_id, household_relation, card_expires_on, deceased_on, created_at, updated_at"
ACCOUNT_COLS = "sub, id_number, password_hash, level, state, lock_reason, lock_note, session_epoch, created_at, updated_at, webauthn_user"
GRANT_COLS = "id, client_id, sub, scope, auth_time, acr, amr, sid, claims, created_at, expires_at, revoked_at, refresh_generation, refresh_issued_at"


def load_sqlite(path, tables):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    for table, cols, data in tables:
        marks = ",".join("?" * len(cols.split(",")))
        db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data)
    db.commit()
    db.close()


def copy_value(v):
    if v is None:
        return "\\N"
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_postgres(url, tables):
    for table, cols, data in tables:
        buf = io.StringIO()
        for r in data:
            buf.write("\t".join(copy_value(v) for v in r) + "\n")
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"COPY {table} ({cols}) FROM STDIN"],
                       input=buf.getvalue(), text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="sqlite://PATH or postgres://…")
    ap.add_argument("--client", required=True)
    ap.add_argument("--sub", required=True)
    ap.add_argument("--refresh", type=int, default=0)
    ap.add_argument("--citizens", type=int, default=0)
    ap.add_argument("--password-hash", default="")
    ap.add_argument("--kek-file", help="the key-encryption key (keys/dev-kek.b64), to tag refresh tokens")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    now = int(time.time())
    grants, tokens = rows(args, now)
    tables = [("grants", GRANT_COLS, grants),
              ("consents", "sub, client_id, scopes, granted_at", [(args.sub, args.client, '["openid","profile"]', now)])]
    if args.citizens:
        people, accounts = citizens(args.citizens, args.password_hash, now)
        tables = [("persons", PERSON_COLS, people), ("accounts", ACCOUNT_COLS, accounts)] + tables
    if args.db.startswith("sqlite:"):
        load_sqlite(args.db.split("://", 1)[-1], tables)
    else:
        load_postgres(args.db, tables)
    with open(args.out, "w") as f:
        f.write("\n".join(tokens) + ("\n" if tokens else ""))


if __name__ == "__main__":
    main()
