#!/usr/bin/env bash
# Builds pki for Windows here and proves it under Wine:
#   1. clippy for x86_64-pc-windows-gnu (the workspace and every test target), -D warnings;
#   2. pki.exe, and the unit tests of every crate run under Wine (the e2e test crate is
#      compiled only: it drives Unix peers);
#   3. end-to-end under Wine: `pki.exe --help`, a quickstart (its chain proven on loopback),
#      `install-ca --os-store` of the root into LocalMachine\Root, checked by a separate
#      program through crypt32 (scripts/windows/find-root.c, not pki), a second install that
#      changes nothing, `list-ca`, `uninstall-ca`, and the program no longer finding it;
# and prints how long it took.
#
# rustup cannot fetch a Windows standard library here, so this uses Debian's Rust (rustc-web,
# /usr/bin) with its std source, built for the target by `-Zbuild-std`, MinGW for the C inside
# ring, the shim and the probe, and Wine 8 as the runner. Installs them with apt-get when
# missing (Debian). Wine 8 lacks bcryptprimitives.dll, whose ProcessPrng every Rust standard
# library since 1.78 imports (a Rust program fails to load without it, exit 53, silently):
# scripts/windows/processprng.c is that DLL, built here and copied into a throwaway Wine prefix
# made afresh under the target directory on every run.
#
# Its own target directory, target/windows, keeps the two toolchains' builds apart; the first
# run builds std and every dependency (about 15 minutes on 2 cores), later ones a few minutes.
#
# macOS is checked by scripts/macos.sh (docs/guide/windows-macos.md, "macOS").
#
# Usage: scripts/windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

target=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64
need=()
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || need+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need+=(rust-web-src)
[ -x /usr/bin/cargo-clippy ] || need+=(rust-web-clippy)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
[ -x "$wine" ] || need+=(wine64)
. scripts/lib/apt.sh
apt_install windows.sh "${need[@]}"

out="$PWD/target/windows"
tools="$out/tools"
# Debian's cargo and rustc, not rustup's proxies (PATH without ~/.cargo/bin, or cargo would run
# rustup's clippy); RUSTC_BOOTSTRAP lets a stable toolchain take -Zbuild-std. With `test` in the
# list, building and testing share one std.
export PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$out" \
  CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
  AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" \
  WINEPREFIX="$out/wineprefix" WINEDEBUG=-all
unset CARGO_HOME_OVERRIDE RUSTFLAGS RUSTDOCFLAGS
cargo=(/usr/bin/cargo)
flags=(--locked --target "$target" -Zbuild-std=std,panic_unwind,test)

say() { echo "windows.sh: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

# The prefix: made afresh, the shim in its system32; its wineserver stopped on the way out.
rm -rf "$WINEPREFIX"
mkdir -p "$tools"
trap '"${wine%/*}/wineserver" -k >/dev/null 2>&1 || true' EXIT
x86_64-w64-mingw32-gcc -O2 -Wall -shared -o "$tools/bcryptprimitives.dll" \
  scripts/windows/processprng.c -ladvapi32
x86_64-w64-mingw32-gcc -O2 -Wall -o "$tools/find-root.exe" scripts/windows/find-root.c -lcrypt32
"$wine" wineboot -i >/dev/null 2>&1
"${wine%/*}/wineserver" -w
cp "$tools/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
say "Wine prefix $WINEPREFIX ready ($((SECONDS - start)) s)"

say "clippy for $target"
# Debian's cargo-clippy called by path: `cargo clippy` looks in ~/.cargo/bin before PATH and would
# run rustup's.
/usr/bin/cargo-clippy clippy --workspace --all-targets "${flags[@]}" -- -D warnings

say "pki.exe and the unit tests under Wine"
# --workspace in each, so that the three share one build of every dependency (the same features).
"${cargo[@]}" build --workspace --bins "${flags[@]}"
"${cargo[@]}" test --workspace --lib --bins "${flags[@]}" --no-fail-fast
"${cargo[@]}" test --workspace --test e2e --no-run "${flags[@]}"

say "end-to-end under Wine"
pki="$out/$target/debug/pki.exe"
work="$(mktemp -d)"
trap 'rm -rf "$work"; "${wine%/*}/wineserver" -k >/dev/null 2>&1 || true' EXIT
cd "$work"
# Wine's console ends lines with CRLF.
run() { "$wine" "$pki" "$@" | tr -d '\r'; }
found() { "$wine" "$tools/find-root.exe" "$sha1" | tr -d '\r'; }

# Whole outputs to files before grep: `grep -q` in a pipe stops reading at its match, and under
# pipefail the writer's SIGPIPE would fail the check once an output outgrows the pipe's buffer.
run --help >help.txt || fail "pki.exe --help failed: $(cat help.txt)"
grep -q 'install-ca' help.txt || fail "pki.exe --help does not list install-ca"
run quickstart --gateway gw.example.test --device sensor-1 >quickstart.txt ||
  fail "pki.exe quickstart failed: $(cat quickstart.txt)"
grep -q 'verified OK' quickstart.txt || fail "the quickstart did not prove its chain: $(cat quickstart.txt)"
root=pki/certs/azure-iot-test-only.root.ca.cert.pem
sha1="$(openssl x509 -in "$root" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
[ "$(found)" = "not found" ] || fail "LocalMachine\\Root holds the root before pki installed it"

run install-ca "$root" --os-store --dry-run >dry-run.txt
grep -qF 'certutil.exe -addstore -f Root' dry-run.txt ||
  fail "install-ca --dry-run does not show the certutil command: $(cat dry-run.txt)"
run --json install-ca "$root" --os-store >install.json || fail "install-ca failed: $(cat install.json)"
grep -q '"status": *"installed"' install.json || fail "install-ca did not install: $(cat install.json)"
[ "$(found)" = "found" ] || fail "find-root does not find the root in LocalMachine\\Root after install-ca"
run --json install-ca "$root" --os-store >again.json
grep -q '"status": *"already_installed"' again.json ||
  fail "a second install-ca was not a no-op: $(cat again.json)"
run --json list-ca --os-store >list.json
grep -q "\"sha1\": *\"$sha1\"" list.json || fail "list-ca does not list the root: $(cat list.json)"
run --json uninstall-ca "$root" --os-store >remove.json
grep -q '"status": *"removed"' remove.json || fail "uninstall-ca did not remove: $(cat remove.json)"
[ "$(found)" = "not found" ] || fail "find-root still finds the root after uninstall-ca"
say "pki.exe installed, listed and removed the root in LocalMachine\\Root under Wine"
cd - >/dev/null

say "done in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
