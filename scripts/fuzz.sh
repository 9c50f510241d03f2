#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a fixed time, starting from the committed seeds
# (fuzz/seeds/<target>/) and the growing corpus (fuzz/corpus/<target>/, not committed).
# A crash, a timeout (one input over 10 s) or an out-of-memory (over 2 GiB) fails the run: the
# script names the target and the input libFuzzer saved under fuzz/artifacts/<target>/, and
# exits 1 once every target has run. Needs nightly Rust; installs cargo-fuzz when missing.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
#   FUZZ_JOBS=N runs N targets at once (default 1).
# Reproduce a finding: cd fuzz && cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/FILE
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
shift || true
case "$secs" in '' | *[!0-9]*)
  echo "fuzz.sh: SECONDS_PER_TARGET must be a whole number, not '$secs'" >&2
  exit 2
  ;;
esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

# One build of every target (debug assertions and overflow checks on, AddressSanitizer).
(cd fuzz && cargo +nightly fuzz build)

logs="fuzz/logs"
mkdir -p "$logs"
failed=()
summary=()

run_one() {
  local t="$1"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  # The growing corpus first: libFuzzer writes new inputs to the first directory.
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="artifacts/$t/") \
    >"$logs/$t.log" 2>&1
}

report() {
  local t="$1" rc="$2" log="$logs/$1.log"
  local execs corpus
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus="$(find "fuzz/corpus/$t" -type f | wc -l)"
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '%-18s ok       %10s execs  corpus %5s' "$t" "${execs:-?}" "$corpus")")
  else
    local artifact
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
    local kind panic
    # "deadly signal" (a panic), "timeout after N seconds", "out-of-memory (malloc(N))", ...
    kind="$(sed -n 's/.*ERROR: libFuzzer: //p' "$log" | head -1)"
    panic="$(grep -m1 -A1 "panicked at" "$log" | tr '\n' ' ' || true)"
    kind="${kind:-exit $rc}${panic:+; $panic}"
    summary+=("$(printf '%-18s FAILED   %s: fuzz/%s (log %s)' "$t" "$kind" "${artifact:-?}" "$log")")
    failed+=("$t")
  fi
}

jobs="${FUZZ_JOBS:-1}"
if [ "$jobs" -le 1 ]; then
  for t in "${targets[@]}"; do
    echo "fuzz.sh: $t for ${secs}s" >&2
    rc=0
    run_one "$t" || rc=$?
    report "$t" "$rc"
  done
else
  # Several at once, in batches of $jobs.
  for ((i = 0; i < ${#targets[@]}; i += jobs)); do
    pids=()
    batch=("${targets[@]:i:jobs}")
    for t in "${batch[@]}"; do
      echo "fuzz.sh: $t for ${secs}s" >&2
      run_one "$t" &
      pids+=($!)
    done
    for k in "${!batch[@]}"; do
      rc=0
      wait "${pids[$k]}" || rc=$?
      report "${batch[$k]}" "$rc"
    done
  done
fi

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
