#!/usr/bin/env bash
# Checks that the whole workspace (libraries, the binary and every test) compiles for Windows:
# `cargo check --workspace --all-targets --target x86_64-pc-windows-gnu`, failing on an error
# or a warning (a `#[cfg(unix)]` that leaves an import unused on Windows is a warning).
# It only compiles: nothing runs on Windows here.
#
# rustup cannot fetch a Windows standard library here, so the check uses Debian's Rust
# (rustc-web, /usr/bin) with its std source, built for the target by `-Zbuild-std`, and
# MinGW's C compiler for the C inside ring. Installs them with apt-get when missing (Debian).
# Its own target directory, target/windows-check, keeps the two toolchains' builds apart; the
# first run builds std and every dependency (about 15 minutes on 2 cores), later ones seconds.
#
# Usage: scripts/check-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu
need=()
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || need+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need+=(rust-web-src)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
. scripts/lib/apt.sh
apt_install check-windows.sh "${need[@]}"

# Debian's cargo and rustc, not rustup's proxies; RUSTC_BOOTSTRAP lets a stable toolchain take
# -Zbuild-std.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
env PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_DIR="$PWD/target/windows-check" \
  CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
  AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  /usr/bin/cargo check --locked --workspace --all-targets --target "$target" \
  -Zbuild-std=std,panic_unwind,test 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo "check-windows.sh: the workspace does not compile for $target (errors above)" >&2
  exit 1
fi
if grep -q '^warning' "$log"; then
  echo "check-windows.sh: the workspace compiles for $target with warnings (above); fix them" >&2
  exit 1
fi
echo "check-windows.sh: the workspace compiles for $target"
