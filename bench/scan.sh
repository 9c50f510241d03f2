#!/usr/bin/env bash
# Benchmark: `pki scan` over a loopback farm of GATEWAYS TLS gateways (bench/scan_farm.py: each
# answers its TLS handshake after RTT milliseconds, the delay a real network adds; DEAD of them
# accept and never answer), at several --jobs, side by side with what the scan should take:
# (answering / jobs) x RTT + ceil(dead / jobs) x --timeout (a dead gateway holds its worker for
# the whole timeout, so no scan with one ends sooner than that). Each row: the wall time of the
# whole `pki scan` (median of 3), that floor, and the exit code (1: the dead ones).
# Usage: bench/scan.sh [GATEWAYS] [DEAD] [RTT_MS] [TIMEOUT_S] [JOBS...]   (400 8 100 2 8 64 256)
set -euo pipefail
cd "$(dirname "$0")/.."
gateways=${1:-400}
dead=${2:-8}
rtt=${3:-100}
timeout=${4:-2}
shift $(( $# < 4 ? $# : 4 ))
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(8 64 256)
cargo build --release --quiet --bin pki
pki=$PWD/target/release/pki
farm_py=$PWD/bench/scan_farm.py
work=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
farm=
trap '[ -n "$farm" ] && kill "$farm" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
"$pki" create-owner-ca >/dev/null
"$pki" create-intermediate-ca >/dev/null
"$pki" issue server farm.test >/dev/null
root=pki/certs/azure-iot-test-only.root.ca.cert.pem
python3 "$farm_py" "$gateways" "$dead" "$rtt" pki/certs/iot-edge-server-farm.test-full-chain.cert.pem \
  pki/private/iot-edge-server-farm.test.key.pem farm.test hosts.txt > farm.out &
farm=$!
for _ in $(seq 1 600); do grep -q ready farm.out 2>/dev/null && break; sleep 0.1; done
grep -q ready farm.out || { echo "the farm did not start" >&2; exit 1; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-8s %9s %8s %7s %6s %10s %10s %6s\n' gateways dead rtt_ms timeout jobs "scan s" "floor s" exit
for j in "${jobs[@]}"; do
  code=0
  secs=$(for _ in 1 2 3; do
    t0=$(now); c=0; "$pki" scan hosts.txt --ca-file "$root" --jobs "$j" --timeout "$timeout" >scan.txt 2>&1 || c=$?
    t1=$(now); echo "$t1 - $t0" | bc -l; echo "$c" > code.txt
  done | median)
  code=$(cat code.txt)
  rounds=$(( (dead + j - 1) / j ))
  floor=$(echo "($gateways - $dead) / $j * $rtt / 1000 + $rounds * $timeout" | bc -l)
  printf '%-8d %9d %8d %7d %6d %10.2f %10.2f %6d\n' "$gateways" "$dead" "$rtt" "$timeout" "$j" "$secs" "$floor" "$code"
done
tail -1 scan.txt
