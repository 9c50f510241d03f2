#!/usr/bin/env bash
# Regenerates the conformance fixtures in testdata/verify-conformance/ (issue 11) and the
# README's table of what `openssl verify` says of each.
#
# Needs the `openssl` CLI (3.0) and python3 with venv. Python's `cryptography` is installed from
# PyPI into a virtual environment under the cargo target directory (made once, then reused):
# gen.py assembles every certificate field by field and signs it with that library, so a case can
# hold what no CA tool writes (duplicated or truncated extensions, a wrong-length IP constraint,
# a v1 certificate with extensions, a loop of cross-signed CAs). table.py (standard library only)
# then runs `openssl verify` on every case and rewrites the table between the README's
# `<!-- table -->` markers.
#
# Every case directory holds leaf.pem, leaf.key.pem, chain.pem, ca.pem and case.txt, as in
# testdata/verify/ (see its README); case.txt may also say `online=no` (README.md says why).
# Validity periods are fixed calendar dates (2025-01-01 to 2045-01-01) and every case is verified
# at 2030-01-01T00:00:00Z (1893456000), so nothing goes stale. Keys and serials are random: a
# regeneration gives equivalent, not identical, files.
#
# Usage: testdata/verify-conformance/gen.sh          (from anywhere; writes next to this script)
#        testdata/verify-conformance/gen.sh --table  (only rerun openssl and rewrite the table)
#        testdata/verify-conformance/gen.sh --only CASE...  (write only those cases; the others keep
#                                                          their files and keys)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/verify-conformance-venv"

command -v openssl >/dev/null || { echo "gen.sh: the openssl CLI is required (apt-get install openssl)" >&2; exit 2; }

if [ "${1:-}" != --table ]; then
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import cryptography' 2>/dev/null; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet 'cryptography==50.0.2'
    fi
    "$VENV/bin/python" "$HERE/gen.py" "$@"
fi
python3 "$HERE/table.py"
echo "table written to $HERE/README.md"
