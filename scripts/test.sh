#!/usr/bin/env bash
# Runs every check and test of pki, installing what the tests need first (Debian/Ubuntu).
# The same command runs on a developer's machine and in CI (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The real peers the tests drive: OpenSSL is the oracle, mosquitto the MQTT broker that
# `pki verify` is tested against, PostgreSQL the shared register. A missing peer fails the run.
# Debian installs mosquitto as /usr/sbin/mosquitto, which is not on every user's PATH (the tests
# look there too); the tests start their own brokers on free loopback ports and never use a
# system service. Likewise PostgreSQL: Debian puts its server programs in
# /usr/lib/postgresql/VERSION/bin, off PATH; the tests make a cluster of their own per test (as
# the OS user `postgres` when run as root) on a free loopback port, and never use or start the
# cluster the package may have made and started on port 5432.

# What the tests look for: the directory of `initdb` on PATH (links followed) or of Debian's
# newest version, holding the server programs, and psql there or on PATH.
postgres_installed() {
  local dirs=(/usr/lib/postgresql/*/bin) d
  if command -v initdb >/dev/null 2>&1; then
    dirs+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
  fi
  for d in "${dirs[@]}"; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/pg_isready" ] &&
      { [ -x "$d/psql" ] || command -v psql >/dev/null 2>&1; } && return 0
  done
  return 1
}

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
postgres_installed || need+=(postgresql)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# PKCS#11 (tests/e2e/hsm.rs): SoftHSM2 is the token, OpenSC's pkcs11-tool makes keys pki adopts
# and its pkcs11-spy counts the logins pki makes.
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || need+=(opensc)
[ -e /usr/lib/x86_64-linux-gnu/pkcs11-spy.so ] || [ -e /usr/lib/aarch64-linux-gnu/pkcs11-spy.so ] ||
  need+=(opensc-pkcs11)
[ -x /usr/sbin/update-ca-certificates ] || need+=(ca-certificates)
# Java and NSS (tests/e2e/export.rs, tests/e2e/java_nss.rs): keytool and javac read pki's PKCS#12
# files and compile the JSSE client; certutil and tstclnt check the NSS databases pki writes.
{ command -v keytool && command -v javac; } >/dev/null 2>&1 || need+=(default-jdk-headless)
{ command -v certutil && command -v tstclnt; } >/dev/null 2>&1 || need+=(libnss3-tools)
# The Azure IoT device SDKs (tests/e2e/sdk.rs) run under python3's venv and Node.js with npm.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
# systemd-analyze verify checks the renewal units of docs/systemd (no running systemd needed).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
. scripts/lib/apt.sh
apt_install test.sh "${need[@]}"
# The SDKs go in the build directory (tests/e2e/sdk.rs finds them there), never in the system.
. scripts/lib/sdks.sh
sdks_install "${CARGO_TARGET_DIR:-target}/sdk"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi

# The Windows build, proven under Wine (scripts/windows.sh: clippy for the target, the unit tests
# run under Wine, install-ca/list-ca/uninstall-ca on LocalMachine\Root). It prints its time; from
# a clean checkout it builds the standard library and every dependency for Windows first.
scripts/windows.sh
