#!/usr/bin/env bash
# Benchmark: batch issuing of EC P-256 device certificates, three ways side by side in one run:
#   1. the OpenSSL per-device loop pipelines use today (one `openssl req -x509 -CA` process per
#      device: key, certificate, files);
#   2. `pki issue device --batch` (key, certificate, full chain, manifest line and register row
#      per device, the register in SQLite, one transaction a chunk; crash-safe writes);
#   3. the limit: a minimal in-process loop on every core (ring key, rcgen signature, key and
#      certificate PEM written, nothing else: pki-core/examples/batch_limit.rs), and the same
#      loop writing the three files pki writes (key, certificate, full chain: `--chain`).
# The files go to BENCH_DIR (default /dev/shm, a tmpfs): this measures the tools, not the
# virtual disk, whose speed for creating many small files varies several-fold from run to run
# on this machine; set BENCH_DIR=/some/ext4/dir to measure a disk.
# Then `pki list --expiring 30d` on a register of REGISTER_ROWS (default 1,000,000) certificates
# (pki-register/examples/fill.rs writes them, notAfter spread over 1,000 days): text and JSON,
# median of 5 runs, against the time to read the whole register once (`pki --json list`).
# Usage: bench/batch.sh [DEVICES] [OPENSSL_DEVICES] [REGISTER_ROWS]   (100000, 300, 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
n_openssl=${2:-300}
rows=${3:-1000000}
cargo build --release --quiet --bin pki
cargo build --release --quiet -p pki-core --example batch_limit
cargo build --release --quiet -p pki-register --example fill
fill=$PWD/target/release/examples/fill
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
/usr/bin/time -f '%M %U %S' -o pki.rss "$pki" issue device --batch devices.txt >pki.out
t1=$(now)
pki_secs=$(echo "$t1 - $t0" | bc -l)
pki_rate=$(echo "$n / $pki_secs" | bc -l)
read -r pki_kib pki_user pki_sys < pki.rss
pki_rss=$(( pki_kib / 1024 ))
pki_cpu=$(echo "$pki_user + $pki_sys" | bc -l)
[ "$(wc -l < pki/manifest.jsonl)" -eq "$n" ] || { echo "pki batch did not issue $n devices" >&2; exit 1; }

# 3. The limit.
sync
/usr/bin/time -f '%U %S' -o limit.cpu "$limit" "$n" limit-out > limit.out
read -r _ limit_secs limit_rate < limit.out
read -r limit_user limit_sys < limit.cpu
limit_cpu=$(echo "$limit_user + $limit_sys" | bc -l)
sync
/usr/bin/time -f '%U %S' -o limit3.cpu "$limit" "$n" limit3-out --chain > limit3.out
read -r _ limit3_secs limit3_rate < limit3.out
read -r limit3_user limit3_sys < limit3.cpu
limit3_cpu=$(echo "$limit3_user + $limit3_sys" | bc -l)

printf '%-58s %9s %9s %12s %9s\n' "EC P-256 device certificates, $(nproc) cores, $(df --output=fstype "$work" | tail -1)" devices seconds "certs/s" "peak MiB"
printf '%-58s %9d %9.2f %12.0f %9s\n' "openssl req -x509 -CA, one process per device (loop)" "$n_openssl" "$(echo "$n_openssl / $ossl_rate" | bc -l)" "$ossl_rate" "-"
printf '%-58s %9d %9.2f %12.0f %9d\n' "pki issue device --batch (key, cert, chain, manifest, register)" "$n" "$pki_secs" "$pki_rate" "$pki_rss"
printf '%-58s %9d %9.2f %12.0f %9s\n' "limit: ring + rcgen + 2 PEM files, all cores" "$n" "$limit_secs" "$limit_rate" "-"
printf '%-58s %9d %9.2f %12.0f %9s\n' "limit, pki's 3 files: key, certificate, full chain" "$n" "$limit3_secs" "$limit3_rate" "-"
printf '\npki batch = %.0f x the openssl loop, %.0f%% of the limit, %.0f%% of the 3-file limit (wall time)\n' \
  "$(echo "$pki_rate / $ossl_rate" | bc -l)" "$(echo "100 * $pki_rate / $limit_rate" | bc -l)" \
  "$(echo "100 * $pki_rate / $limit3_rate" | bc -l)"
# CPU time (user + system) depends less on what else the shared machine runs.
printf 'CPU seconds: pki batch %.2f (user %s, system %s), limit %.2f (user %s, system %s): %.0f%%,\n' \
  "$pki_cpu" "$pki_user" "$pki_sys" "$limit_cpu" "$limit_user" "$limit_sys" "$(echo "100 * $limit_cpu / $pki_cpu" | bc -l)"
printf '  3-file limit %.2f (user %s, system %s): %.0f%%\n' \
  "$limit3_cpu" "$limit3_user" "$limit3_sys" "$(echo "100 * $limit3_cpu / $pki_cpu" | bc -l)"

# 4. pki list on a register of $rows certificates.
mkdir -p big/pki/certs big/pki/private
chmod 700 big/pki/private
"$fill" big/pki/register.sqlite3 "$rows"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {
  for _ in 1 2 3 4 5; do
    t0=$(now); "$@" > big/out; t1=$(now); echo "$t1 - $t0" | bc -l
  done | median
}
list_text=$(timed "$pki" --dir big/pki list --expiring 30d)
matched=$(($(wc -l < big/out) - 1))
list_json=$(timed "$pki" --dir big/pki --json list --expiring 30d)
export_all=$(timed "$pki" --dir big/pki --json list)
printf '\n%-58s %12s %9s\n' "register of $rows certificates (SQLite, tmpfs)" rows "seconds"
printf '%-58s %12d %9.3f\n' "pki list --expiring 30d (text)" "$matched" "$list_text"
printf '%-58s %12d %9.3f\n' "pki --json list --expiring 30d" "$matched" "$list_json"
printf '%-58s %12d %9.3f\n' "pki --json list (the whole register, JSON lines)" "$rows" "$export_all"
