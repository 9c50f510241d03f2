#!/usr/bin/env bash
# Runs every check and test of pki, installing what the tests need first (Debian/Ubuntu).
# The same command runs on a developer's machine and in CI (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The real peers the tests drive: OpenSSL is the oracle, mosquitto the MQTT broker that
# `pki verify` is tested against. A missing peer fails the run. Debian installs mosquitto as
# /usr/sbin/mosquitto, which is not on every user's PATH (the tests look there too); the tests
# start their own brokers on free loopback ports and never use a system service.
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -x /usr/sbin/update-ca-certificates ] || need+=(ca-certificates)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
# systemd-analyze verify checks the renewal units of docs/systemd (no running systemd needed).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
. scripts/lib/apt.sh
apt_install test.sh "${need[@]}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi
