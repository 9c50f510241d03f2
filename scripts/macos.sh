#!/usr/bin/env bash
# Checks that pki compiles for macOS, Intel and Apple silicon (x86_64-apple-darwin and
# aarch64-apple-darwin): `cargo check` of the workspace and every test target, then clippy with
# -D warnings, for each. Nothing is linked or run: there is no Apple linker or SDK here. The
# `security` commands pki runs on macOS are unit-tested on every platform by scripts/test.sh
# (pki-truststore/src/macos.rs). Prints how long it took.
#
# As scripts/windows.sh: Debian's Rust (rustc-web, /usr/bin) with its std source built for the
# target by `-Zbuild-std`, and Debian's clippy by path; clang compiles the C inside the
# dependencies for the target. Installs them with apt-get when missing (Debian).
#
# ring's build script compiles its C and assembly for the target even under `cargo check`, and
# that C includes a few headers of the Apple SDK, which Debian does not package.
# scripts/macos-sysroot is a stand-in SDK of just those headers (TargetConditionals.h, assert.h,
# string.h, stdlib.h), declaring only what ring's C uses; it exists only for this check, and
# nothing compiled with it is linked. SQLite's C (libsqlite3-sys, "bundled") would need a whole C
# library: here libsqlite3-sys is told to link a system SQLite instead
# (LIBSQLITE3_SYS_USE_PKG_CONFIG, SQLITE3_LIB_DIR naming an empty directory), which leaves its
# Rust side the same (the bundled bindings) and compiles no C. A real macOS build uses neither.
#
# Its own target directory, target/macos; the first run builds std and every dependency for both
# targets (16 minutes on 2 cores), later ones about a minute. scripts/test.sh does not run it: CI
# cannot spare that time next to the Windows step.
#
# Usage: scripts/macos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

need=()
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || need+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need+=(rust-web-src)
[ -x /usr/bin/cargo-clippy ] || need+=(rust-web-clippy)
[ -x /usr/bin/clang ] || need+=(clang)
[ -x /usr/bin/llvm-ar ] || need+=(llvm)
. scripts/lib/apt.sh
apt_install macos.sh "${need[@]}"

out="$PWD/target/macos"
sysroot="$PWD/scripts/macos-sysroot"
mkdir -p "$out/no-sqlite"
# Debian's cargo and rustc, not rustup's proxies (see scripts/windows.sh); RUSTC_BOOTSTRAP lets a
# stable toolchain take -Zbuild-std.
export PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$out" \
  LIBSQLITE3_SYS_USE_PKG_CONFIG=1 SQLITE3_LIB_DIR="$out/no-sqlite"
unset CARGO_HOME_OVERRIDE RUSTFLAGS RUSTDOCFLAGS SDKROOT

say() { echo "macos.sh: $*" >&2; }

for target in x86_64-apple-darwin aarch64-apple-darwin; do
  t=${target//-/_}
  # Debian's clang for the target (cc picks the target from cargo), the stand-in SDK as sysroot.
  export "CC_$t=clang" "AR_$t=llvm-ar" "CFLAGS_$t=-isysroot $sysroot"
  flags=(--locked --workspace --all-targets --target "$target" -Zbuild-std=std,panic_unwind,test)
  say "cargo check for $target"
  /usr/bin/cargo check "${flags[@]}"
  say "clippy for $target"
  # Debian's cargo-clippy called by path: `cargo clippy` would run rustup's.
  /usr/bin/cargo-clippy clippy "${flags[@]}" -- -D warnings
done

say "done in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
