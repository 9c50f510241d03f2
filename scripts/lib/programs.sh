# Sourced by scripts/test.sh: the external programs the tests run, from their one list,
# tests/programs.txt (the tests' harness includes the same file: pki-testkit/src/programs.rs
# finds each program the same way, and tests/e2e/harness.rs checks that the two agree).

# programs_missing_packages LIST: prints the Debian package of each program of LIST (lines
# `PROGRAM PACKAGE [PLACE...]`, `#` comments) that is found nowhere, once each, in the list's
# order. A program is looked for on PATH, then in /usr/local/sbin, /usr/sbin and /sbin, then at
# its PLACEs (full paths; a `*` is one directory name); a PKCS#11 module (NAME.so) at its PLACEs
# only. A program that is found is never (re)installed: NodeSource's nodejs, for one, bundles
# npm and conflicts with Debian's npm package.
programs_missing_packages() {
  local list="$1" line name package places place dir found seen=" "
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%%#*}"
    read -r name package places <<<"$line"
    [ -n "$name" ] || continue
    found=
    if [[ "$name" != *.so ]]; then
      if type -P -- "$name" >/dev/null 2>&1; then
        found=1
      fi
      for dir in /usr/local/sbin /usr/sbin /sbin; do
        [ -f "$dir/$name" ] && [ -x "$dir/$name" ] && found=1
      done
    fi
    # Unquoted on purpose: each PLACE is one word, and its `*` expands.
    # shellcheck disable=SC2086
    for place in $places; do
      if [[ "$name" == *.so ]]; then
        [ -f "$place" ] && found=1
      else
        [ -f "$place" ] && [ -x "$place" ] && found=1
      fi
    done
    [ -n "$found" ] && continue
    case "$seen" in
      *" $package "*) ;;
      *)
        seen+="$package "
        echo "$package"
        ;;
    esac
  done <"$list"
}
