#!/usr/bin/env bash
# Builds pki's Debian package with Debian's own tools: the binary (stripped, as dh_strip does),
# its man pages (`pki manpages`), completions for bash, zsh and fish (`pki completions`), the
# systemd units of docs/systemd with the package's /usr/bin/pki, the README and the copyright,
# under a control file from pki-cli/deb/ whose Depends dpkg-shlibdeps computes from the binary,
# with md5sums; `dpkg-deb --build` packs the tree. Prints the package's path last.
#
# The cargo profile: release by default (what a user installs); `PKI_DEB_PROFILE=dev` (or
# `--profile dev`) packs the debug build the tests already made, as scripts/install-check.sh
# does: the package's layout and install are what it proves, and the code is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PKI_DEB_PROFILE:-release}"
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="${2:?--profile needs a cargo profile}"; shift 2 ;;
    --profile=*) profile="${1#--profile=}"; shift ;;
    *) echo "deb.sh: unknown argument $1 (usage: scripts/deb.sh [--profile release|dev])" >&2; exit 2 ;;
  esac
done
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export CARGO_TARGET_DIR="$target"
# Cargo's directory of each profile: dev's is debug.
case "$profile" in dev | test) out_dir=debug ;; bench) out_dir=release ;; *) out_dir="$profile" ;; esac

cargo build --profile "$profile" --locked -p pki-cli --bin pki
pki="$target/$out_dir/pki"
version="$("$pki" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
work="$target/$out_dir/deb"
root="$work/root"
rm -rf "$work"
mkdir -p "$root/DEBIAN"

install -d "$root/usr/bin" "$root/usr/share/man/man1" "$root/usr/share/doc/pki" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d" "$root/usr/lib/systemd/system"
strip --strip-unneeded -o "$root/usr/bin/pki" "$pki"
chmod 755 "$root/usr/bin/pki"
"$pki" manpages "$root/usr/share/man/man1" >/dev/null
# Debian ships man pages compressed, reproducibly (-n: no name, no time stamp).
gzip -9n "$root"/usr/share/man/man1/*.1
"$pki" completions bash >"$root/usr/share/bash-completion/completions/pki"
"$pki" completions zsh >"$root/usr/share/zsh/vendor-completions/_pki"
"$pki" completions fish >"$root/usr/share/fish/vendor_completions.d/pki.fish"
# docs/systemd's units run /usr/local/bin/pki (cargo install's place); the package's is /usr/bin.
for unit in docs/systemd/pki-renew@.service docs/systemd/pki-renew@.timer; do
  sed 's#/usr/local/bin/pki#/usr/bin/pki#g' "$unit" >"$root/usr/lib/systemd/system/$(basename "$unit")"
done
install -m 644 README.md pki-cli/deb/copyright "$root/usr/share/doc/pki/"
find "$root/usr" -type f ! -path "$root/usr/bin/*" -exec chmod 644 {} +
find "$root" -type d -exec chmod 755 {} +

# Depends: the shared libraries the binary links, as Debian packages and versions.
# dpkg-shlibdeps reads a source package's debian/control; it is given an empty one of its own.
mkdir -p "$work/src/debian"
printf 'Source: pki\n\nPackage: pki\nArchitecture: any\n' >"$work/src/debian/control"
depends="$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/pki")"
depends="${depends#shlibs:Depends=}"
[ -n "$depends" ] || { echo "deb.sh: dpkg-shlibdeps found no dependency of $pki" >&2; exit 1; }
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
size="$(du -sk --apparent-size "$root/usr" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
  -e "s/@DEPENDS@/$depends/" pki-cli/deb/control >"$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$target/debian"
deb="$target/debian/pki_${version}-1_$arch.deb"
# The files' times in the package: the last commit's, for a package that builds the same twice.
# Given to dpkg-deb alone: exported to cargo, it would rebuild every crate whose build script
# watches it (and the tests' build would no longer be reused).
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" \
  dpkg-deb --root-owner-group --build "$root" "$deb" >&2
echo "$deb"
