#!/usr/bin/env bash
# Runs every check and test of pki, installing what the tests need first (Debian/Ubuntu).
# The same command runs on a developer's machine and in CI (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The dependency tree first (deny.toml): one generation of each crate unless a skip says why,
# licences reviewed, crates.io only. Advisories are not checked: cargo deny fetches the RustSec
# database from GitHub, which the build machines cannot reach (deny.toml says more).
cargo deny --version >/dev/null 2>&1 || cargo install --locked cargo-deny
cargo deny --locked check bans licenses sources

# The real peers the tests drive: OpenSSL is the oracle, mosquitto the MQTT broker that
# `pki verify` is tested against, PostgreSQL the shared register. A missing peer fails the run.
# Debian installs mosquitto as /usr/sbin/mosquitto, which is not on every user's PATH (the tests
# look there too); the tests start their own brokers on free loopback ports and never use a
# system service. Likewise PostgreSQL: Debian puts its server programs in
# /usr/lib/postgresql/VERSION/bin, off PATH; the tests make a cluster of their own per test (as
# the OS user `postgres` when run as root) on a free loopback port, and never use or start the
# cluster the package may have made and started on port 5432.

# Every external program the tests run is on one list, tests/programs.txt, with the Debian
# package that provides it (the tests' harness includes the same file and runs programs only
# through it; a test fails naming each one missing). The package of each program not found is
# installed; a program already found is never reinstalled.
. scripts/lib/programs.sh
mapfile -t need < <(programs_missing_packages tests/programs.txt)
# The oracle's version: pki models OpenSSL 3.0 as Debian's security updates ship it, and 3.0.20
# stopped taking a delta CRL for a complete one (openssl/openssl#31044): an older openssl is
# upgraded (apt-get install of an installed package brings it to the current release).
if command -v openssl >/dev/null 2>&1 &&
  ! dpkg --compare-versions "$(openssl version | awk '{print $2}')" ge 3.0.20 2>/dev/null; then
  need+=(openssl)
fi
# Not a program: the venv module scripts/lib/sdks.sh makes the Python SDK's environment with.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# Not a program: OpenSSL's header, whose X509_V_* codes pki-verify's VerifyCode is checked against
# (pki-verify/src/openssl/code.rs).
[ -f /usr/include/openssl/x509_vfy.h ] || need+=(libssl-dev)
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

# Installing pki as a user does: the Debian package (scripts/deb.sh, packed with dpkg-deb)
# through dpkg -i into a throwaway root, and cargo install --locked --path pki-cli; both use the
# debug build the tests made (no release build, nothing to install first). It prints the time
# each takes.
scripts/install-check.sh

# The Windows build, proven under Wine (scripts/windows.sh: clippy for the target, the unit tests
# run under Wine, install-ca/list-ca/uninstall-ca on LocalMachine\Root). It prints its time; from
# a clean checkout it builds the standard library and every dependency for Windows first.
scripts/windows.sh
