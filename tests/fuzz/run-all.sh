#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 150), release build, and print the inputs run
# and the rate; stops at the first target that finds a crash. Usage: bash tests/fuzz/run-all.sh [SECONDS]
set -uo pipefail
secs="${1:-150}"
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
cargo fuzz build --fuzz-dir . -O --sanitizer none || exit 1
for t in form headers jwt client_assertion claims_param id_number register_csv fapi_requests; do
  mkdir -p "corpus/$t"
  out=$(cargo fuzz run --fuzz-dir . -O --sanitizer none "$t" "corpus/$t" "seeds/$t" \
    -- -max_total_time="$secs" -print_final_stats=1 2>&1)
  rc=$?
  runs=$(grep -oP 'stat::number_of_executed_units: \K\d+' <<<"$out")
  rate=$(grep -oP 'stat::average_exec_per_sec:\s+\K\d+' <<<"$out")
  echo "$t: ${runs:-?} inputs in ${secs} s (${rate:-?}/s), exit $rc"
  if [ "$rc" -ne 0 ]; then
    tail -30 <<<"$out"
    exit "$rc"
  fi
done
