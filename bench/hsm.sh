#!/usr/bin/env bash
# Certificates per second of one batch signed by a file key and by a SoftHSM2 key, side by side:
# R runs of each (alternating, so both meet the same machine), each a fresh CA directory and lot,
# reported as median (min-max).
# Usage: bench/hsm.sh [N [R]] (default 2000 devices, 5 runs); needs softhsm2 and a release build
# (cargo build --release).
set -euo pipefail
N=${1:-2000}
R=${2:-5}
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
summary() { # RATES...: median (min-max)
  sort -n <<<"$(printf '%s\n' "$@")" | awk '{a[NR]=$1} END {printf "%d (%d-%d)", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), a[1], a[NR]}'
}
file=() token=()
for i in $(seq 1 "$R"); do
  "$PKI" --dir "file-$i" create-owner-ca >/dev/null
  "$PKI" --dir "token-$i" create-owner-ca --key-on "pkcs11:token=bench;object=ca-$i?pin-source=file:$work/pin" >/dev/null
  file+=("$(rate "file-$i")")
  token+=("$(rate "token-$i")")
done
printf '%-12s %s\n' "CA key" "certificates/s, median (min-max) of $R runs ($N devices, EC P-256)"
printf '%-12s %s\n' "file" "$(summary "${file[@]}")"
printf '%-12s %s\n' "SoftHSM2" "$(summary "${token[@]}")"
