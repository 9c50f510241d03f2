#!/usr/bin/env bash
# Installs pki the two ways a user does and checks each: the Debian package (scripts/deb.sh)
# with `dpkg -i` into a throwaway root (the machine's /usr/bin stays as it is, so nothing shadows
# the binary the e2e tests run), and `cargo install --locked --path pki-cli` into a temporary
# --root. What it proves is the package's layout and the two installs, not the code (the tests
# did): both use the debug build the tests already made in CARGO_TARGET_DIR (PKI_DEB_PROFILE=dev,
# `cargo install --debug`), so nothing is compiled again. scripts/test.sh runs it; each step that
# fails says what and exits 1. Prints the time each step took.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export CARGO_TARGET_DIR="$target"

fail() {
  echo "install-check: $*" >&2
  exit 1
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
version="$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "pki-cli"))')"

# The Debian package.
start=$SECONDS
PKI_DEB_PROFILE="${PKI_DEB_PROFILE:-dev}" scripts/deb.sh >"$tmp/deb.log" 2>&1 || { cat "$tmp/deb.log" >&2; fail "scripts/deb.sh failed"; }
deb="$(tail -n 1 "$tmp/deb.log")"
[ -f "$deb" ] || { cat "$tmp/deb.log" >&2; fail "scripts/deb.sh did not print the package's path"; }
echo "install-check: built $deb in $((SECONDS - start)) s"
info="$(dpkg-deb -I "$deb")"
for field in "Package: pki" "Version: $version-1" "Depends: libc6"; do
  grep -q "^ $field" <<<"$info" || fail "$deb: no '$field' in dpkg-deb -I:
$info"
done

# dpkg -i into a root of its own: an empty dpkg database, the machine's libc not in it.
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends -i "$deb" >"$tmp/dpkg.log" 2>&1 ||
  { cat "$tmp/dpkg.log" >&2; fail "dpkg -i $deb failed"; }
dpkg --root="$root" -s pki | grep -q '^Status: install ok installed' ||
  fail "dpkg does not have pki installed in $root"
# Every file the package holds is installed as its md5sums say.
[ -s "$root/var/lib/dpkg/info/pki.md5sums" ] || fail "the package has no md5sums"
verify="$(dpkg --root="$root" --verify pki 2>&1)" && [ -z "$verify" ] ||
  fail "dpkg --verify pki: $verify"

got="$("$root/usr/bin/pki" --version)" || fail "the installed pki --version failed"
[ "$got" = "pki $version" ] || fail "the installed pki --version said '$got', not 'pki $version'"
# man finds the page by name, for pki and a command, in the package's man directory.
for page in pki pki-issue-server pki-c8y-upload; do
  found="$(man --manpath="$root/usr/share/man" -w "$page")" ||
    fail "man does not find $page in $root/usr/share/man"
  [ "$found" = "$root/usr/share/man/man1/$page.1.gz" ] || fail "man found $page at $found"
  man --manpath="$root/usr/share/man" "$page" 2>&1 | grep -q "^NAME" || fail "man $page shows no NAME"
done
# The completions where bash-completion, zsh and fish look on Debian.
bash_completion="$root/usr/share/bash-completion/completions/pki"
bash -c ". '$bash_completion' && complete -p pki" | grep -q -- ' pki$' ||
  fail "$bash_completion does not define the completion of pki"
head -n 1 "$root/usr/share/zsh/vendor-completions/_pki" | grep -q '^#compdef pki' ||
  fail "no zsh completion of pki in /usr/share/zsh/vendor-completions"
grep -q '^complete -c pki ' "$root/usr/share/fish/vendor_completions.d/pki.fish" ||
  fail "no fish completion of pki in /usr/share/fish/vendor_completions.d"
# The units where systemd looks for the system's, running the package's binary.
units="/usr/lib/systemd/system"
systemd-analyze --system unit-paths | grep -qx "$units" || fail "systemd does not look in $units"
for unit in pki-renew@.service pki-renew@.timer; do
  [ -f "$root$units/$unit" ] || fail "no $units/$unit in the package"
done
grep -q '^ExecStart=/usr/bin/pki renew ' "$root$units/pki-renew@.service" ||
  fail "the packaged pki-renew@.service does not run /usr/bin/pki"
[ -f "$root/usr/share/doc/pki/README.md" ] || fail "no README in /usr/share/doc/pki"
[ -f "$root/usr/share/doc/pki/copyright" ] || fail "no copyright (the licence) in /usr/share/doc/pki"
dpkg --root="$root" -r pki >/dev/null 2>&1 || fail "dpkg -r pki failed"
[ ! -e "$root/usr/bin/pki" ] || fail "dpkg -r pki left /usr/bin/pki"
echo "install-check: the package installs, runs, and is removed in $((SECONDS - start)) s"

# cargo install, as the README says, into a temporary root; --debug reuses the tests' build.
start=$SECONDS
cargo install --locked --debug --path pki-cli --root "$tmp/cargo" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "cargo install --locked --path pki-cli failed"; }
got="$("$tmp/cargo/bin/pki" --version)" || fail "the pki cargo installed does not run"
[ "$got" = "pki $version" ] || fail "cargo's pki --version said '$got'"
grep -q '^ *Compiling' "$tmp/install.log" &&
  echo "install-check: note: cargo install compiled again: $(grep -c '^ *Compiling' "$tmp/install.log") crates"
echo "install-check: cargo install --locked --path pki-cli in $((SECONDS - start)) s"
