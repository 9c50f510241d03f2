#!/usr/bin/env bash
# Benchmark: `pki crl` for a recalled lot. A register (SQLite, in the CA directory) holds
# LOT (default 100,000) device certificates of the intermediate CA, all revoked
# (pki-register/examples/fill.rs writes the rows); `pki crl` then writes the intermediate's CRL
# listing every one of them (PEM and DER, signed, its number taken in the register): the wall
# time of the whole process, median of 5 runs, and its peak memory. The CRL is checked once with
# `openssl crl` (every serial listed, the signature good).
# Files go to BENCH_DIR (default /dev/shm, a tmpfs).
# Usage: bench/crl.sh [LOT]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release --quiet --bin pki
cargo build --release --quiet -p pki-register --example fill
fill=$PWD/target/release/examples/fill
pki=$PWD/target/release/pki
work=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$pki" create-owner-ca >/dev/null
"$pki" create-intermediate-ca >/dev/null
inter=pki/certs/azure-iot-test-only.intermediate.cert.pem
sha256=$(openssl x509 -in "$inter" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
"$fill" pki/register.sqlite3 "$n" --issuer "$sha256" --revoked
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs=$(for _ in 1 2 3 4 5; do
  t0=$(now); "$pki" crl >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l
done | median)
/usr/bin/time -f '%M' -o crl.rss "$pki" crl >/dev/null
crl=pki/crl/azure-iot-test-only.intermediate.crl
listed=$(openssl crl -in "$crl.pem" -noout -text | grep -c 'Serial Number:')
[ "$listed" -eq "$n" ] || { echo "the CRL lists $listed certificates, not $n" >&2; exit 1; }
openssl crl -in "$crl.pem" -noout -CAfile "$inter" 2>&1 | grep -q 'verify OK' ||
  { echo "the CRL's signature does not verify" >&2; exit 1; }
printf '%-52s %9s %9s %9s %9s\n' "pki crl, $(nproc) cores, $(df --output=fstype "$work" | tail -1)" revoked "median s" "DER KiB" "peak MiB"
printf '%-52s %9d %9.3f %9d %9d\n' "CRL of the intermediate (register: SQLite)" "$n" "$secs" \
  "$(( $(stat -c %s "$crl.der") / 1024 ))" "$(( $(cat crl.rss) / 1024 ))"
