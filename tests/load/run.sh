#!/usr/bin/env bash
# eidp's load benchmarks, side by side with node oidc-provider, on this machine, with wrk.
#   bash tests/load/run.sh [--mode embedded|production] [--duration 10] [--connections 16]
#                          [--refresh-tokens 450000] [--citizens 0] [--no-peer]
#                          [--only discovery,refresh_token,...]   (a subset of the scenarios)
#                          [--signin-rounds 3] [--insured 20000]
# Prints a table (throughput, p50/p99 latency, peak resident memory, ratio to the peer).
# See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
MODE=embedded DURATION=10 CONNECTIONS=16 THREADS=2 REFRESH=450000 CITIZENS=0 PEER=1 ONLY= SIGNIN_ROUNDS=3 INSURED=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --refresh-tokens) REFRESH=$2; shift 2 ;;
    --citizens) CITIZENS=$2; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --signin-rounds) SIGNIN_ROUNDS=$2; shift 2 ;;
    --insured) INSURED=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
cargo build --release --locked --quiet
BIN=${EIDP_BIN:-$ROOT/target/release/eidp}  # EIDP_BIN: another build to compare
WORK=$(mktemp -d)
PIDS=()
DB=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
  [ -z "$DB" ] || psql -q postgres://postgres@127.0.0.1:5432/test -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export LUA_DIR=$ROOT/tests/load/lua THREADS
RESULTS=$WORK/results.jsonl
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
REDIRECT=http://127.0.0.1:9/cb
VERIFIER=bench-verifier-bench-verifier-bench-verifier-0001
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =)

# ---- eidp ----------------------------------------------------------------------------------
EPORT=$(free_port)
BASE=http://127.0.0.1:$EPORT
# Every load connection comes from 127.0.0.1: lift the per-address bound on pending
# authorization requests, which one busy address would otherwise meet in seconds.
export EIDP_ISSUER=$BASE EIDP_LISTEN=127.0.0.1:$EPORT EIDP_DEMO=0 EIDP_KEYS_DIR=$WORK/keys \
  EIDP_OUTBOX_PATH=$WORK/outbox.jsonl EIDP_EMAIL_OUTBOX_PATH=$WORK/email.jsonl RUST_LOG=warn \
  EIDP_AUTHORIZE_PER_IP=100000000 EIDP_INSURANCE_LOOKUPS_PER_MINUTE=100000000
if [ "$MODE" = production ]; then
  DB=eidp_bench_$$
  psql -q postgres://postgres@127.0.0.1:5432/test -c "CREATE DATABASE $DB"
  # PostgreSQL on this host, over loopback: TLS would only encrypt to ourselves (it cost ~7 %
  # of refresh throughput). Across a network, keep it (the default, sslmode=prefer).
  export EIDP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable" EIDP_REDIS_URL=redis://127.0.0.1:6379/7
  redis-cli -n 7 flushdb >/dev/null
else
  export EIDP_DATABASE_URL=sqlite://$WORK/eidp.db
  unset EIDP_REDIS_URL
fi
printf '[lifetimes]\nauthorization_code = 900\n' > "$WORK/eidp.toml"
ID=001090123456 PASSWORD='Bench-2026!a'
echo "$PASSWORD" | "$BIN" --config "$WORK/eidp.toml" admin accounts create --id-number $ID --phone 0912000111 \
  --full-name "Bench User" --birth-date 1990-01-01 --sex male --password-stdin --json > "$WORK/account.json"
"$BIN" --config "$WORK/eidp.toml" admin clients create --name Bench --kind portal --redirect-uri $REDIRECT --json > "$WORK/client.json"
SUB=$(json "$WORK/account.json" sub); CID=$(json "$WORK/client.json" client_id); SECRET=$(json "$WORK/client.json" client_secret)
# A hospital, and a synthetic register with its insurance cards (eligibility look-ups).
"$BIN" --config "$WORK/eidp.toml" admin clients create --name "Bench Hospital" --kind hospital --redirect-uri $REDIRECT --json > "$WORK/hospital.json"
HCID=$(json "$WORK/hospital.json" client_id); HSECRET=$(json "$WORK/hospital.json" client_secret)
"$BIN" admin citizens generate --count "$INSURED" --seed 17 > "$WORK/register.csv"
"$BIN" admin insurance generate --count "$INSURED" --seed 17 > "$WORK/cards.csv"
"$BIN" --config "$WORK/eidp.toml" admin citizens import "$WORK/register.csv" >&2
"$BIN" --config "$WORK/eidp.toml" admin insurance import "$WORK/cards.csv" >&2
tail -n +2 "$WORK/cards.csv" | cut -d, -f1 > "$WORK/patients.txt"
BASIC=$(printf '%s:%s' "$CID" "$SECRET" | base64 -w0)
if [ "$MODE" = production ]; then
  HASH=$(psql -tA "$EIDP_DATABASE_URL" -c "SELECT password_hash FROM accounts WHERE sub = '$SUB'")
else
  HASH=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT password_hash FROM accounts WHERE sub=?', (sys.argv[2],)).fetchone()[0])" "$WORK/eidp.db" "$SUB")
fi
echo "seeding $REFRESH refresh tokens and $CITIZENS citizens ($MODE)…" >&2
python3 tests/load/seed.py --db "$EIDP_DATABASE_URL" --client="$CID" --sub="$SUB" --refresh "$REFRESH" \
  --citizens "$CITIZENS" --password-hash="$HASH" --kek-file "$WORK/keys/dev-kek.b64" --out "$WORK/refresh.txt"
# A bulk load leaves PostgreSQL's statistics and visibility map behind: settle them now, not
# with autovacuum in the middle of a measured run.
if [ "$MODE" = production ]; then psql -q "$EIDP_DATABASE_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT"; fi
# Two starts: the first generates the development signing keys (RSA among them, whose
# generation time varies), the second is the start-up of a provisioned provider.
start_eidp() {
  local t0; t0=$(date +%s%N)
  "$BIN" --config "$WORK/eidp.toml" serve >> "$WORK/eidp.log" 2>&1 &
  EPID=$!; PIDS+=("$EPID")
  until curl -sf "$BASE/readyz" >/dev/null; do
    kill -0 "$EPID" 2>/dev/null || { cat "$WORK/eidp.log" >&2; exit 1; }
    sleep 0.01
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
FIRST_MS=$(start_eidp)
EPID=$(pgrep -n -f "$BIN --config $WORK/eidp.toml serve")
kill "$EPID"; while kill -0 "$EPID" 2>/dev/null; do sleep 0.01; done
STARTUP_MS=$(start_eidp)
EPID=$(pgrep -n -f "$BIN --config $WORK/eidp.toml serve"); PIDS+=("$EPID")
sleep 1
IDLE_KB=$(awk '/VmRSS/ {print $2}' "/proc/$EPID/status")
# Three disjoint sets: one token for an access token, two thirds for the peak run, the rest
# for the half-peak run (every refresh token is single use).
tail -n 1 "$WORK/refresh.txt" > "$WORK/one.txt"
N=$(( $(wc -l < "$WORK/refresh.txt") - 1 ))
head -n $(( N * 2 / 3 )) "$WORK/refresh.txt" > "$WORK/refresh-list.txt"
head -n "$N" "$WORK/refresh.txt" | tail -n +$(( N * 2 / 3 + 1 )) > "$WORK/refresh-half.txt"
AT=$(curl -sf -u "$CID:$SECRET" -d grant_type=refresh_token -d "refresh_token=$(cat "$WORK/one.txt")" "$BASE/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# CPU time (user + system, in clock ticks) the process has used so far: with wrk on the same
# cores, throughput alone hides how much of the machine each server spends per request.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_HZ=$(getconf CLK_TCK); export TICK_HZ

run() { # target pid scenario url lua [threads connections duration] [VAR=value ...]
  local target=$1 pid=$2 name=$3 url=$4 lua=$5 t=$6 c=$7 d=$8; shift 8
  [ -z "$ONLY" ] || [[ ",$ONLY," == *",${name%@half},"* ]] || return 0
  local out cpu0 cpu1
  cpu0=$(cpu_ticks "$pid")
  out=$(env "$@" python3 "$ROOT/tests/load/timed.py" "$WORK/wrk-cpu" wrk -t"$t" -c"$c" -d"$d"s -s "$LUA_DIR/$lua" "$url" | tail -n 1)
  cpu1=$(cpu_ticks "$pid")
  local hwm; hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "{\"target\":\"$target\",\"scenario\":\"$name\",\"hwm_kb\":$hwm,\"cpu_ticks\":$((cpu1 - cpu0)),\"wrk_cpu_s\":$(cat "$WORK/wrk-cpu"),\"wrk\":$out}" >> "$RESULTS"
  echo "  $target $name done" >&2
}

# The scenarios both servers implement, the same way for each.
shared() { # target pid discovery jwks token introspect userinfo basic access-token refresh-file
  local target=$1 pid=$2 disco=$3 jwks=$4 token=$5 intro=$6 ui=$7 basic=$8 at=$9 refresh=${10}
  run "$target" "$pid" discovery "$disco" get.lua $T $C $D
  run "$target" "$pid" jwks "$jwks" get.lua $T $C $D
  run "$target" "$pid" client_credentials "$token" post.lua $T $C $D BODY=grant_type=client_credentials BASIC="$basic"
  run "$target" "$pid" refresh_token "$token" tokens.lua $T $C $D TOKENS_FILE="$refresh" BODY_PREFIX="grant_type=refresh_token&refresh_token=" BASIC="$basic"
  run "$target" "$pid" introspection "$intro" post.lua $T $C $D BODY="token=$at" BASIC="$basic"
  run "$target" "$pid" userinfo "$ui" get.lua $T $C $D BEARER="$at"
}

T=$THREADS C=$CONNECTIONS D=$DURATION
echo "eidp ($MODE): load runs of ${D}s, ${C} connections" >&2
shared eidp "$EPID" "$BASE/.well-known/openid-configuration" "$BASE/jwks.json" "$BASE/token" \
  "$BASE/introspect" "$BASE/userinfo" "$BASIC" "$AT" "$WORK/refresh-list.txt"
# The bank KYC assertion with DPoP (docs/banks.md), beside client_credentials: a seeded
# DPoP-bound loa:3 grant and single-use proofs made just before the run (their iat is now).
if [ -z "$ONLY" ] || [[ ",$ONLY," == *",kyc_dpop,"* ]]; then
  cargo build --release --locked --quiet --example kyc-seed
  "$ROOT/target/release/examples/kyc-seed" --database-url "$EIDP_DATABASE_URL" --keys-dir "$WORK/keys" \
    --issuer "$BASE" --proofs $(( 20000 * D )) > "$WORK/kyc.txt"
  tail -n +2 "$WORK/kyc.txt" > "$WORK/kyc-proofs.txt"
  run eidp "$EPID" kyc_dpop "$BASE/api/kyc/v1/identity" dpop.lua $T $C $D TOKENS_FILE="$WORK/kyc-proofs.txt" \
    ACCESS_TOKEN="$(head -n 1 "$WORK/kyc.txt")"
fi
# Eligibility look-ups (eidp only: each one audited in the hash-chained log before the answer),
# with a fresh hospital token (they live 10 minutes).
hospital_token() { curl -sf -u "$HCID:$HSECRET" -d grant_type=client_credentials -d scope=insurance:eligibility "$BASE/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
run eidp "$EPID" eligibility "$BASE/api/insurance/v1/eligibility" eligibility.lua $T $C $D BEARER="$(hospital_token)" PATIENTS_FILE="$WORK/patients.txt"
mkdir -p "$WORK/codes"
AUTHZ="/authorize?response_type=code&client_id=$CID&redirect_uri=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' $REDIRECT)&scope=openid%20profile&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256"
PW_ENC=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' "$PASSWORD")
# The yardstick for sign-in: this machine's Argon2id rate at the configured parameters, on
# the same hashing pool, with the server idle. On this VM it moves by up to ±15 % from one
# minute to the next (hash-rate back to back: 64–85/s; neighbours share the memory bus, and
# Argon2id is memory-bound), so sign-in runs in rounds, each between two hash-rate
# measurements, and is compared with their mean (report.py).
if [ -z "$ONLY" ] || [[ ",$ONLY," == *",password_signin,"* ]]; then
  hash_rate() { "$BIN" --config "$WORK/eidp.toml" hash-rate --seconds 5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["hashes_per_second"])'; }
  echo "{\"hash_rate\":$(hash_rate)}" >> "$RESULTS"
  for _ in $(seq "$SIGNIN_ROUNDS"); do
    run eidp "$EPID" password_signin "$BASE" signin.lua 4 4 $D AUTHORIZE_PATH="$AUTHZ" ID_NUMBER=$ID PASSWORD_ENC="$PW_ENC" CODES_DIR="$WORK/codes"
    echo "{\"hash_rate\":$(hash_rate)}" >> "$RESULTS"
  done
fi
cat "$WORK"/codes/*.txt > "$WORK/codes.txt" 2>/dev/null || true
run eidp "$EPID" code_exchange "$BASE/token" tokens.lua $T $C 2 TOKENS_FILE="$WORK/codes.txt" BASIC="$BASIC" \
  BODY_PREFIX="grant_type=authorization_code&redirect_uri=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' $REDIRECT)&code_verifier=$VERIFIER&code="
# p99 at half of the peak rate, for the token endpoints.
for s in client_credentials refresh_token; do
  peak=$(python3 -c "import json,sys
sys.path.insert(0,'tests/load'); import report
for l in open('$RESULTS'):
    r=json.loads(l)
    if r.get('target')=='eidp' and r['scenario']=='$s': print(int(report.rate(r)))")
  [ -n "$peak" ] || continue
  # wrk paces in whole milliseconds per connection: 64 connections give a fine enough step.
  H=64
  delay=$(python3 -c "print(max(1, round($H * 2000 / max($peak, 1))))")
  if [ "$s" = client_credentials ]; then
    run eidp "$EPID" "${s}@half" "$BASE/token" post.lua $T $H $D BODY=grant_type=client_credentials BASIC="$BASIC" DELAY_MS=$delay
  else
    run eidp "$EPID" "${s}@half" "$BASE/token" tokens.lua $T $H $D TOKENS_FILE="$WORK/refresh-half.txt" BODY_PREFIX="grant_type=refresh_token&refresh_token=" BASIC="$BASIC" DELAY_MS=$delay
  fi
done
echo "{\"note\":\"eidp start-up to ready: ${STARTUP_MS} ms (first start, generating dev keys: ${FIRST_MS} ms); idle RSS: $((IDLE_KB / 1024)) MiB; mode: $MODE; citizens: $CITIZENS; refresh tokens: $REFRESH\"}" >> "$RESULTS"
kill "$EPID"; while kill -0 "$EPID" 2>/dev/null; do sleep 0.01; done

# ---- the peer: node oidc-provider ------------------------------------------------------------
if [ "$PEER" = 1 ]; then
  (cd tests/load/peer && npm ci --no-audit --no-fund --silent)
  PPORT=$(free_port); PBASE=http://127.0.0.1:$PPORT
  PSECRET=peer-secret-$$
  PEER_PORT=$PPORT CLIENT_ID=bench CLIENT_SECRET=$PSECRET REDIRECT_URI=$REDIRECT REFRESH_COUNT=$REFRESH OUT_DIR=$WORK/peer \
    node tests/load/peer/server.mjs > "$WORK/peer.out" 2> "$WORK/peer.err" &
  PPID_=$!; PIDS+=("$PPID_")
  until grep -q "peer ready" "$WORK/peer.out" 2>/dev/null; do
    kill -0 "$PPID_" 2>/dev/null || { cat "$WORK/peer.err" >&2; exit 1; }
    sleep 0.2
  done
  curl -sf "$PBASE/.well-known/openid-configuration" > "$WORK/peer-disco.json"
  ep() { json "$WORK/peer-disco.json" "$1"; }
  PBASIC=$(printf '%s:%s' bench "$PSECRET" | base64 -w0)
  PAT=$(cat "$WORK/peer/peer-access-token.txt")
  echo "peer (node oidc-provider): same runs" >&2
  shared peer "$PPID_" "$PBASE/.well-known/openid-configuration" "$(ep jwks_uri)" "$(ep token_endpoint)" \
    "$(ep introspection_endpoint)" "$(ep userinfo_endpoint)" "$PBASIC" "$PAT" "$WORK/peer/peer-refresh-tokens.txt"
  echo '{"note":"peer: node oidc-provider (tests/load/peer); its userinfo and introspection take an opaque token (a map lookup), eidp checks an ES256 JWT there."}' >> "$RESULTS"
fi
echo
python3 tests/load/report.py "$RESULTS"
if [ -n "${RESULTS_OUT:-}" ]; then cp "$RESULTS" "$RESULTS_OUT"; fi
