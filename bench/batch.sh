#!/usr/bin/env bash
# Benchmark: batch issuing of EC P-256 device certificates, three ways side by side in one run:
#   1. the OpenSSL per-device loop pipelines use today (one `openssl req -x509 -CA` process per
#      device: key, certificate, files);
#   2. `pki issue device --batch` (key, certificate, full chain, manifest and index lines per
#      device; crash-safe writes);
#   3. the limit: a minimal in-process loop on every core (ring key, rcgen signature, key and
#      certificate PEM written, nothing else: pki-core/examples/batch_limit.rs).
# The files go to BENCH_DIR (default /dev/shm, a tmpfs): this measures the tools, not the
# virtual disk, whose speed for creating many small files varies several-fold from run to run
# on this machine; set BENCH_DIR=/some/ext4/dir to measure a disk.
# Usage: bench/batch.sh [DEVICES] [OPENSSL_DEVICES]     (defaults 100000 and 300)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
n_openssl=${2:-300}
cargo build --release --quiet --bin pki
cargo build --release --quiet -p pki-core --example batch_limit
pki=$PWD/target/release/pki
limit=$PWD/target/release/examples/batch_limit
work=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$pki" create-owner-ca >/dev/null
"$pki" create-intermediate-ca >/dev/null
inter=pki/certs/azure-iot-test-only.intermediate.cert.pem
inter_key=pki/private/azure-iot-test-only.intermediate.key.pem
seq -f 'device-%07.0f' 1 "$n" > devices.txt
now() { date +%s.%N; }

# 1. OpenSSL, one process per device, as a provisioning script loops.
mkdir -p ossl
t0=$(now)
for i in $(seq 1 "$n_openssl"); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "ossl/d$i.key.pem" \
    -subj "/CN=device-$i" -x509 -CA "$inter" -CAkey "$inter_key" -days 365 \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=clientAuth" -out "ossl/d$i.cert.pem" 2>/dev/null
done
t1=$(now)
ossl_rate=$(echo "$n_openssl / ($t1 - $t0)" | bc -l)

# 2. pki batch (wall time of the whole process, and its peak memory).
sync
t0=$(now)
/usr/bin/time -f '%M' -o pki.rss "$pki" issue device --batch devices.txt >pki.out
t1=$(now)
pki_secs=$(echo "$t1 - $t0" | bc -l)
pki_rate=$(echo "$n / $pki_secs" | bc -l)
pki_rss=$(( $(cat pki.rss) / 1024 ))
[ "$(wc -l < pki/manifest.jsonl)" -eq "$n" ] || { echo "pki batch did not issue $n devices" >&2; exit 1; }

# 3. The limit.
sync
read -r _ limit_secs limit_rate < <("$limit" "$n" limit-out)

printf '%-58s %9s %9s %12s %9s\n' "EC P-256 device certificates, $(nproc) cores, $(df --output=fstype "$work" | tail -1)" devices seconds "certs/s" "peak MiB"
printf '%-58s %9d %9.2f %12.0f %9s\n' "openssl req -x509 -CA, one process per device (loop)" "$n_openssl" "$(echo "$n_openssl / $ossl_rate" | bc -l)" "$ossl_rate" "-"
printf '%-58s %9d %9.2f %12.0f %9d\n' "pki issue device --batch (key, cert, chain, manifest)" "$n" "$pki_secs" "$pki_rate" "$pki_rss"
printf '%-58s %9d %9.2f %12.0f %9s\n' "limit: ring + rcgen + 2 PEM files, all cores" "$n" "$limit_secs" "$limit_rate" "-"
printf '\npki batch = %.0f x the openssl loop, %.0f%% of the limit\n' \
  "$(echo "$pki_rate / $ossl_rate" | bc -l)" "$(echo "100 * $pki_rate / $limit_rate" | bc -l)"
