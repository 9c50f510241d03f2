#!/usr/bin/env bash
# Benchmark: `pki est serve` under load on loopback, side by side in one run with the batch's
# in-process limit (pki-core/examples/batch_limit.rs: a ring key, an rcgen signature and two PEM
# files per certificate on every core, nothing else: what issuing alone costs).
# CLIENTS concurrent EST clients (pki-est/examples/est_load.rs), each over one keep-alive TLS
# connection with its bootstrap client certificate (CN=bench-I, from a factory CA made here with
# openssl; the server runs with --bootstrap-ca), each POSTing its P-256 CSR (made before the
# clock starts) to /.well-known/est/simpleenroll: every answer must be 200 and a certs-only
# PKCS#7 (one in 64 decoded; one checked with openssl pkcs7 and openssl verify). At 1, 16, 64 and
# 256 clients, REQUESTS enrolments a run, the median of 3 runs of each figure: enrolments/s, p50
# and p99 latency, the server's CPU time per enrolment (/proc/PID/stat). Then LONG enrolments at
# 64 clients with the server's VmRSS (/proc/PID/status) sampled every tenth of them, and the same
# 64-client runs with the CA directory (and its SQLite register) on disk, DISK_DIR (default
# target/, on the checkout's file system). At the end, the audit log's 200s, the register's EST
# rows and the answers counted must agree: one register row per certificate issued.
# The CA directory goes to BENCH_DIR (default /dev/shm, a tmpfs), like bench/batch.sh's files.
# Usage: bench/est.sh [REQUESTS] [LONG]   (5000, 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
long=${2:-100000}
levels=(1 16 64 256)
cargo build --release --quiet --bin pki
cargo build --release --quiet -p pki-core --example batch_limit
cargo build --release --quiet -p pki-est --example est_load
pki=$PWD/target/release/pki
limit=$PWD/target/release/examples/batch_limit
load=$PWD/target/release/examples/est_load
disk_parent=${DISK_DIR:-$PWD/target}
work=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
disk=$(mktemp -d -p "$disk_parent")
server=
stop_server() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; fi
  server=
}
trap 'stop_server; rm -rf "$work" "$disk"' EXIT
cd "$work"
"$pki" create-owner-ca >/dev/null
"$pki" create-intermediate-ca >/dev/null
root=$work/pki/certs/azure-iot-test-only.root.ca.cert.pem
inter=$work/pki/certs/azure-iot-test-only.intermediate.cert.pem
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The factory CA and one bootstrap identity per client.
mkdir boot
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout boot/ca.key.pem \
  -subj "/CN=bench factory CA" -days 30 -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out boot/ca.cert.pem 2>/dev/null
for i in $(seq 0 $((${levels[-1]} - 1))); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "boot/bench-$i.key.pem" \
    -subj "/CN=bench-$i" -x509 -CA boot/ca.cert.pem -CAkey boot/ca.key.pem -days 30 \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=clientAuth" -out "boot/bench-$i.cert.pem" 2>/dev/null
done

# Starts `pki est serve` on the CA directory $1 (audit log $2); sets $server and $url.
start_server() {
  "$pki" --dir "$1" est serve --listen 127.0.0.1:0 --bootstrap-ca boot/ca.cert.pem >"$2" 2>"$2.err" &
  server=$!
  for _ in $(seq 1 300); do
    grep -q '"listening"' "$2" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$2.err" >&2; exit 1; }
    sleep 0.1
  done
  url=$(head -1 "$2" | sed 's/.*"url":"\([^"]*\)".*/\1/')
}

# Runs the load 3 times at $1 clients; appends "clients requests seconds rate p50 p99 errors
# cpu_ms" (medians; cpu_ms the server's CPU milliseconds per enrolment) to the file $2.
level() {
  for _ in 1 2 3; do
    c0=$(cpu_ticks "$server")
    out=$("$load" "$url" "$root" boot "$1" "$n" --sample sample.b64)
    c1=$(cpu_ticks "$server")
    read -r reqs _ rate _ _ errs <<<"$out"
    [ "$errs" -eq 0 ] || { echo "$errs errors at $1 clients" >&2; exit 1; }
    echo "$out $(echo "1000 * ($c1 - $c0) / $ticks / $reqs" | bc -l)"
  done > runs.txt
  {
    printf '%s' "$1"
    for col in 1 2 3 4 5 6 7; do printf ' %s' "$(awk -v c=$col '{print $c}' runs.txt | median)"; done
    echo
  } >> "$2"
}

# 1. The limit (median of 3 runs of 20,000 certificates; its CPU time per certificate).
for r in 1 2 3; do
  /usr/bin/time -f '%U %S' -o limit.cpu "$limit" 20000 "limit-$r" > limit.out
  read -r _ _ rate < limit.out
  read -r user sys < limit.cpu
  echo "$rate $(echo "1000 * ($user + $sys) / 20000" | bc -l)"
  rm -rf "limit-$r"
done > limit.txt
limit_rate=$(awk '{print $1}' limit.txt | median)
limit_cpu=$(awk '{print $2}' limit.txt | median)

# 2. The server, register on tmpfs.
start_server pki audit.jsonl
fs=$(df --output=fstype "$work" | tail -1)
for c in "${levels[@]}"; do level "$c" rows.txt; done

# 3. Memory over $long enrolments at 64 clients.
"$load" "$url" "$root" boot 64 "$long" --rss-pid "$server" --rss-every $((long / 10)) > long.txt
read -r long_reqs long_secs long_rate long_p50 long_p99 long_errs < <(grep -v '^rss' long.txt)
[ "$long_errs" -eq 0 ] || { echo "$long_errs errors in the long run" >&2; exit 1; }
rss=($(awk '/^rss/ {printf "%d ", $3 / 1024}' long.txt))
stop_server
tail -1 audit.jsonl | grep -q '"event":"stopped"' || { echo "the server did not stop cleanly" >&2; exit 1; }

# The answers, the audit log and the register agree; a sample answer is what OpenSSL reads.
issued=$(grep -c '"operation":"simpleenroll".*"status":200' audit.jsonl)
expected=$(( 3 * ${#levels[@]} * n + long ))
recorded=$("$pki" --json list | grep -c '"path":"est:bootstrap:device/bench-')
[ "$issued" -eq "$expected" ] && [ "$recorded" -eq "$expected" ] ||
  { echo "answered $expected, audit log 200s $issued, register rows $recorded" >&2; exit 1; }
{ echo '-----BEGIN PKCS7-----'; cat sample.b64; echo '-----END PKCS7-----'; } |
  openssl pkcs7 -print_certs > sample.cert.pem
openssl verify -CAfile "$root" -untrusted "$inter" sample.cert.pem >/dev/null ||
  { echo "a sample answer's certificate does not verify" >&2; exit 1; }

# 4. The same directory on disk (the default: the register is the CA directory's SQLite file).
cp -a pki "$disk/pki"
start_server "$disk/pki" audit-disk.jsonl
level 64 disk.txt
stop_server
disk_fs=$(df --output=fstype "$disk" | tail -1)

printf '%-46s %7s %8s %8s %9s %7s %7s %8s %7s\n' \
  "EST simpleenroll, P-256, $(nproc) cores, $fs" clients requests seconds "enrol/s" "p50 ms" "p99 ms" "CPU ms" "% limit"
while read -r c reqs secs rate p50 p99 _ cpu; do
  printf '%-46s %7d %8d %8.2f %9.0f %7.1f %7.1f %8.2f %7.0f\n' "pki est serve, bootstrap certificate" \
    "$c" "$reqs" "$secs" "$rate" "$p50" "$p99" "$cpu" "$(echo "100 * $rate / $limit_rate" | bc -l)"
done < rows.txt
read -r c reqs secs rate p50 p99 _ cpu < disk.txt
printf '%-46s %7d %8d %8.2f %9.0f %7.1f %7.1f %8.2f %7.0f\n' "the same, CA directory on disk ($disk_fs)" \
  "$c" "$reqs" "$secs" "$rate" "$p50" "$p99" "$cpu" "$(echo "100 * $rate / $limit_rate" | bc -l)"
printf '%-46s %7s %8d %8s %9.0f %7s %7s %8.2f %7s\n' "limit: ring + rcgen + 2 PEM files, all cores" \
  - 20000 - "$limit_rate" - - "$limit_cpu" 100
printf '\n%d enrolments at 64 clients: %.0f/s, p50 %.1f ms, p99 %.1f ms; server VmRSS (MiB) every %d:\n  %s\n' \
  "$long_reqs" "$long_rate" "$long_p50" "$long_p99" $((long / 10)) "${rss[*]}"
echo "$expected certificates issued: each answered 200, in the audit log, a register row."
echo "CPU ms: the server's CPU time per enrolment; the limit's per certificate."
