#!/bin/sh
# Writes register-v2-main.sqlite3: a SQLite register of schema version 2 as the pki of main
# (commit f6f1ce9, before enrolment secrets) writes it, for the test that opens it with this
# build and upgrades it in place. Run with the path of a pki binary built from that commit:
#   sh make-v2-register.sh /path/to/old/pki
set -eu
pki=${1:?usage: make-v2-register.sh PATH_TO_PKI_OF_SCHEMA_VERSION_2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$pki" quickstart --dir "$work/pki" --gateway gw.example --register >/dev/null
cp "$work/pki/register.sqlite3" "$here/register-v2-main.sqlite3"
