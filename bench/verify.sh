#!/usr/bin/env bash
# Benchmark: `pki verify HOST:PORT` against `openssl s_client -verify_return_error` on the same
# loopback `openssl s_server`, serving a pki-made IoT Edge gateway chain. Prints both side by
# side, from one run. Usage: bench/verify.sh [RUNS]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
cargo build --release --quiet --bin pki
pki=$PWD/target/release/pki
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$pki" quickstart --gateway localhost >/dev/null
root=pki/certs/azure-iot-test-only.root.ca.cert.pem
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$port" -quiet \
  -cert pki/certs/iot-edge-server-localhost.cert.pem -key pki/private/iot-edge-server-localhost.key.pem \
  -cert_chain pki/certs/iot-edge-server-localhost-full-chain.cert.pem </dev/null >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

ms() { echo $(( $(date +%s%N) / 1000000 )); }
run_openssl() {
  openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$root" \
    -verify_return_error -verify_hostname localhost </dev/null >out.txt 2>&1
  grep -q "Verify return code: 0 (ok)" out.txt
}
run_pki() { "$pki" verify "localhost:$port" --ca-file "$root" >out.txt 2>&1; grep -q "verified OK" out.txt; }

run_openssl; run_pki   # warm-up, and both must succeed
t0=$(ms); for _ in $(seq "$runs"); do run_openssl; done; t1=$(ms)
for _ in $(seq "$runs"); do run_pki; done; t2=$(ms)
o=$((t1 - t0)); p=$((t2 - t1))
printf '%-52s %6s %10s %12s\n' "tool (same loopback s_server, $(nproc) cores)" runs "total ms" "ms per run"
printf '%-52s %6d %10d %12.2f\n' "openssl s_client -verify_return_error -verify_hostname" "$runs" "$o" "$(echo "$o / $runs" | bc -l)"
printf '%-52s %6d %10d %12.2f\n' "pki verify (7 checks, OpenSSL + rustls verdicts)" "$runs" "$p" "$(echo "$p / $runs" | bc -l)"
