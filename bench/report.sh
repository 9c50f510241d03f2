#!/usr/bin/env bash
# Benchmark: `pki report` over a large register. For each size (default 100,000 and 1,000,000
# rows; pki-register/examples/fill.rs writes them into the CA directory's SQLite register, their
# notAfter spread over 1,000 days: 90% devices of the intermediate in service, 5% gateways'
# server certificates, 5% a revoked lot), times `pki report --html` and `pki report
# --prometheus` (the wall time of the whole process, median of 5 runs) and their peak memory,
# side by side with reading the whole register once (`pki --json list | wc -l`, the same median
# and peak), so that what is linear and what is flat shows in one table.
# The register is counted by the database (GROUP BY): the report's memory is that of the groups,
# not of the rows. Files go to BENCH_DIR (default /dev/shm, a tmpfs).
# Usage: bench/report.sh [ROWS...]   (100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
cargo build --release --quiet --bin pki
cargo build --release --quiet -p pki-register --example fill
fill=$PWD/target/release/examples/fill
pki=$PWD/target/release/pki
work=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# The median wall time of 5 runs of "$@" (stdout dropped), then its peak RSS in MiB.
measure() {
  local secs rss
  secs=$(for _ in 1 2 3 4 5; do
    t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l
  done | median)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null
  rss=$(( $(tail -1 "$work/rss") / 1024 ))
  printf '%9.3f %9d' "$secs" "$rss"
}
list_count() { "$pki" --json list | wc -l; }
printf '%-44s %9s %9s %9s %9s %9s %9s %9s\n' \
  "pki report, $(nproc) cores, $(df --output=fstype "$work" | tail -1)" rows \
  "html s" "html MiB" "prom s" "prom MiB" "list s" "list MiB"
for rows in "${sizes[@]}"; do
  dir="$work/$rows"
  mkdir -p "$dir" && cd "$dir"
  "$pki" create-owner-ca >/dev/null
  "$pki" create-intermediate-ca >/dev/null
  inter=pki/certs/azure-iot-test-only.intermediate.cert.pem
  sha256=$(openssl x509 -in "$inter" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
  devices=$(( rows * 90 / 100 )); servers=$(( rows * 5 / 100 )); revoked=$(( rows - devices - servers ))
  "$fill" pki/register.sqlite3 "$devices" --issuer "$sha256"
  "$fill" pki/register.sqlite3 "$servers" --issuer "$sha256" --start "$devices" --profile server
  "$fill" pki/register.sqlite3 "$revoked" --issuer "$sha256" --start $(( devices + servers )) --revoked
  listed=$(list_count)
  html=$(measure "$pki" report --html report.html --force)
  prom=$(measure "$pki" report --prometheus report.prom --force)
  export -f list_count; export pki
  list=$(measure bash -c list_count)
  # The page holds no row per certificate: its size is that of the groups and the 200 due.
  [ "$listed" -eq "$(( rows + 2 ))" ] || { echo "pki list shows $listed rows, not $((rows + 2))" >&2; exit 1; }
  printf '%-44s %9d %s %s %s   (page %d KiB, textfile %d lines)\n' "register: SQLite" "$rows" \
    "$html" "$prom" "$list" "$(( $(stat -c %s report.html) / 1024 ))" "$(wc -l < report.prom)"
  cd "$work"
done
