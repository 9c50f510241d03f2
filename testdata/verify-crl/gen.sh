#!/usr/bin/env bash
# Regenerates the CRL fixtures in testdata/verify-crl/ (issue 13) and the README's table of what
# `openssl verify -crl_check[_all] -CRLfile crls.pem` says of each.
#
# Needs the `openssl` CLI (3.0) and python3 with Python's `cryptography` (the system's, or one
# installed into a virtual environment under the cargo target directory, as
# testdata/verify-conformance/gen.sh does). gen.py writes the PKI (root, intermediate, leaf; EC
# P-256) and the cases whose CRLs no CA tool writes: expired, not yet valid, a flipped signature
# byte, another issuer, another key, a critical unknown extension, issuing distribution points
# (different scope, only CA certificates, indirect), removeFromCRL, a delta CRL, two CRLs of one
# issuer, a CA without cRLSign. This script then makes the everyday cases with `openssl ca
# -revoke -crl_reason ...` and `openssl ca -gencrl`, as an operator would.
#
# Every case directory holds leaf.pem, leaf.key.pem (for a server serving the case), chain.pem (sent after the leaf), ca.pem (the anchors),
# crls.pem (every CRL given, PEM) and case.txt (`attime`, and `crl_check_all=yes` where every
# certificate of the chain is checked, not only the leaf). Every case is verified at
# 2030-01-01T00:00:00Z (1893456000); the CRLs `openssl ca` writes run from today for 7300 days.
#
# Usage: testdata/verify-crl/gen.sh          (from anywhere; writes next to this script)
#        testdata/verify-crl/gen.sh --table  (only rerun openssl and rewrite the README's table)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/verify-conformance-venv"
ATTIME=1893456000

command -v openssl >/dev/null || { echo "gen.sh: the openssl CLI is required (apt-get install openssl)" >&2; exit 2; }

table() {
    local rows="" d name opts out
    for d in "$HERE"/*/; do
        name="$(basename "$d")"
        [ -f "$d/case.txt" ] || continue
        opts=(-crl_check)
        grep -q '^crl_check_all=yes' "$d/case.txt" && opts=(-crl_check_all)
        local ca=(-CAfile "$d/ca.pem")
        [ -s "$d/ca.pem" ] || ca=(-no-CAfile)
        out="$(openssl verify -no-CApath -no-CAstore "${ca[@]}" -untrusted "$d/chain.pem" \
            "${opts[@]}" -CRLfile "$d/crls.pem" -attime "$ATTIME" "$d/leaf.pem" 2>&1 \
            | grep -E '^error [0-9]+ at|: OK$' | sed -E 's/^.*: OK$/OK/; s/ depth lookup//' \
            | paste -sd ';' - | sed 's/;/; /g')" || true
        rows+="| \`$name\` | \`${opts[0]}\` | $out |"$'\n'
    done
    python3 - "$HERE/README.md" "$rows" <<'PY'
import sys
path, rows = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- table -->\n", "<!-- /table -->"
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
table = "| case | check | `openssl verify` prints |\n|---|---|---|\n" + rows
open(path, "w").write(head + start + table + end + tail)
PY
}

if [ "${1:-}" = --table ]; then table; exit 0; fi

PY=python3
if ! python3 -c 'import cryptography' 2>/dev/null; then
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import cryptography' 2>/dev/null; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet 'cryptography==50.0.2'
    fi
    PY="$VENV/bin/python"
fi

for d in "$HERE"/*/; do [ -f "$d/case.txt" ] && rm -r "$d"; done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PY" "$HERE/gen.py" "$HERE"
mv "$HERE/pki" "$WORK/pki"
P="$WORK/pki"

# One `openssl ca` directory per CA.
setup_ca() { # NAME CERT KEY
    mkdir -p "$WORK/$1"
    : > "$WORK/$1/index.txt"
    echo 01 > "$WORK/$1/crlnumber"
    cat > "$WORK/$1/ca.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $WORK/$1
database = \$dir/index.txt
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $2
private_key = $3
default_md = sha256
default_crl_days = 7300
crl_extensions = crl_ext
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}
ca() { local n="$1"; shift; openssl ca -config "$WORK/$n/ca.cnf" -batch "$@" 2>/dev/null; }

setup_ca inter "$P/intermediate.pem" "$P/intermediate.key.pem"
setup_ca root "$P/root.pem" "$P/root.key.pem"

# A certificate of another device, revoked so that the clean CRL is not empty.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/other.key" \
    -subj /CN=other-device -days 1 -out "$WORK/other.pem" 2>/dev/null
ca inter -revoke "$WORK/other.pem" -crl_reason cessationOfOperation
ca inter -gencrl -out "$WORK/inter-clean.crl"
ca inter -revoke "$P/leaf.pem" -crl_reason keyCompromise
ca inter -gencrl -out "$WORK/inter-revoked.crl"
ca root -gencrl -out "$WORK/root-clean.crl"
ca root -revoke "$P/intermediate.pem" -crl_reason CACompromise
ca root -gencrl -out "$WORK/root-revoked.crl"

case_dir() { # NAME CRL... ; options on stdin
    local d="$HERE/$1"; shift
    mkdir -p "$d"
    cp "$P/leaf.pem" "$d/leaf.pem"
    cp "$P/leaf.key.pem" "$d/leaf.key.pem"
    cp "$P/intermediate.pem" "$d/chain.pem"
    cp "$P/root.pem" "$d/ca.pem"
    cat "$@" > "$d/crls.pem"
    { echo "attime=$ATTIME"; cat; } > "$d/case.txt"
}
case_dir ok-not-revoked "$WORK/inter-clean.crl" < /dev/null
echo crl_check_all=yes | case_dir ok-check-all "$WORK/inter-clean.crl" "$WORK/root-clean.crl"
case_dir revoked-leaf "$WORK/inter-revoked.crl" < /dev/null
echo crl_check_all=yes | case_dir revoked-leaf-check-all "$WORK/inter-revoked.crl" "$WORK/root-clean.crl"
echo crl_check_all=yes | case_dir revoked-intermediate "$WORK/inter-clean.crl" "$WORK/root-revoked.crl"
case_dir revoked-intermediate-leaf-only "$WORK/inter-clean.crl" "$WORK/root-revoked.crl" < /dev/null
echo crl_check_all=yes | case_dir revoked-leaf-and-intermediate "$WORK/inter-revoked.crl" "$WORK/root-revoked.crl"
case_dir no-crl-for-leaf "$WORK/root-clean.crl" < /dev/null
echo crl_check_all=yes | case_dir no-crl-for-intermediate "$WORK/inter-clean.crl"
# The same CRL as DER, for `pki show` and `pki verify --crl` of a DER file.
openssl crl -in "$WORK/inter-revoked.crl" -outform DER -out "$HERE/revoked-leaf/crl.der"

table
echo "fixtures and table written to $HERE"
