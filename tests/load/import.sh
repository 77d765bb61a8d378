#!/usr/bin/env bash
# The register import benchmark (issue #18): a generated register of N records imported into a
# fresh SQLite file and a fresh PostgreSQL database, then the identical file again.
#   bash tests/load/import.sh [--count 1000000] [--defects 0.02] [--no-postgres]
# Prints rows/s and peak resident memory (GNU time) for each run, the cleansing report on (the
# generated file carries each defect class at the given rate). PostgreSQL: the local server
# (postgres://postgres@127.0.0.1:5432), a scratch database created and dropped here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=1000000
DEFECTS=0.02
PG=1
while [ $# -gt 0 ]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --defects) DEFECTS=$2; shift 2 ;;
    --no-postgres) PG=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
cargo build --release --locked --quiet
BIN=$PWD/target/release/eidp
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export EIDP_KEYS_DIR=$WORK/keys
echo "generating $COUNT records…"
"$BIN" admin citizens generate --count "$COUNT" --seed 2026 --defects "$DEFECTS" > "$WORK/register.csv"
ls -l "$WORK/register.csv" | awk '{printf "file: %.0f MB\n", $5 / 1e6}'

run() { # label, database URL
  local label=$1 url=$2
  for pass in first again; do
    /usr/bin/time -f '%M' -o "$WORK/mem" env EIDP_DATABASE_URL="$url" \
      "$BIN" admin citizens import "$WORK/register.csv" --json > "$WORK/out.json" 2>/dev/null
    python3 - "$label" "$pass" "$WORK/out.json" "$WORK/mem" <<'PY'
import json, sys
label, run, out, mem = sys.argv[1:]
r = json.load(open(out))
kib = int(open(mem).read().split()[-1])
print(f"{label:10} {run:6} {r['rows']:>9} rows {r['seconds']:>7.1f} s {r['rows'] / r['seconds']:>9.0f} rows/s"
      f"  imported {r['imported']} updated {r['updated']} unchanged {r['unchanged']}  peak {kib / 1024:.0f} MiB")
c = r.get('cleansing')
if c:
    found = sum(s['count'] for s in c['findings'].values())
    print(f"{'':17} cleansing: {found} findings; " + ", ".join(
        f"{q} {c['scores'][q]['score']} %" for q in ['correct', 'complete', 'clean', 'live']))
PY
  done
}

run sqlite "sqlite://$WORK/eidp.db"
if [ "$PG" = 1 ]; then
  DB=eidp_import_bench_$$
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $DB" >/dev/null
  trap 'psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB" >/dev/null; rm -rf "$WORK"' EXIT
  run postgres "postgres://postgres@127.0.0.1:5432/$DB"
fi
