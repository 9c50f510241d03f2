#!/usr/bin/env bash
# Certificates per second of one batch signed by a file key and by a SoftHSM2 key, side by side.
# Usage: bench/hsm.sh [N] (default 2000); needs softhsm2 and a release build (cargo build --release).
set -euo pipefail
N=${1:-2000}
PKI=${PKI:-$(pwd)/target/release/pki}
MODULE=${MODULE:-/usr/lib/softhsm/libsofthsm2.so}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf PKI_PKCS11_MODULE=$MODULE
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 12345678 >/dev/null
echo 1234 > pin
seq -f 'dev-%06g' 1 "$N" > lot.txt
rate() { # DIR
  local start end
  start=$(date +%s.%N)
  "$PKI" --dir "$1" issue device --batch lot.txt >/dev/null
  end=$(date +%s.%N)
  echo "scale=0; $N / ($end - $start)" | bc
}
"$PKI" --dir file create-owner-ca >/dev/null
"$PKI" --dir token create-owner-ca --key-on "pkcs11:token=bench;object=ca?pin-source=file:$work/pin" >/dev/null
printf '%-12s %s\n' "CA key" "certificates/s ($N devices, EC P-256)"
printf '%-12s %s\n' "file" "$(rate file)"
printf '%-12s %s\n' "SoftHSM2" "$(rate token)"
