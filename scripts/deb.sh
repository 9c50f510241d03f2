#!/usr/bin/env bash
# Builds pki's Debian package: the release binary, its man pages (`pki manpages`), completions for
# bash, zsh and fish (`pki completions`), the systemd units of docs/systemd with the package's
# /usr/bin/pki, and the README; `cargo deb --no-build` then packs what
# [package.metadata.deb] in pki-cli/Cargo.toml lists. Prints the package's path last.
# Needs cargo-deb (`cargo install --locked cargo-deb`; scripts/test.sh installs it when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export CARGO_TARGET_DIR="$target"

cargo build --release --locked -p pki-cli --bin pki
pki="$target/release/pki"
stage="$target/release/deb"
rm -rf "$stage"
mkdir -p "$stage/man1" "$stage/completions" "$stage/systemd"

"$pki" manpages "$stage/man1" >/dev/null
# Debian ships man pages compressed, reproducibly (-n: no name, no time stamp).
gzip -9n "$stage"/man1/*.1
"$pki" completions bash >"$stage/completions/pki"
"$pki" completions zsh >"$stage/completions/_pki"
"$pki" completions fish >"$stage/completions/pki.fish"
# docs/systemd's units run /usr/local/bin/pki (cargo install's place); the package's is /usr/bin.
for unit in docs/systemd/pki-renew@.service docs/systemd/pki-renew@.timer; do
  sed 's#/usr/local/bin/pki#/usr/bin/pki#g' "$unit" >"$stage/systemd/$(basename "$unit")"
done

cargo deb --no-build --locked -p pki-cli --output "$target/debian/"
