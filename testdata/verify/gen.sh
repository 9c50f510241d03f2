#!/usr/bin/env bash
# Regenerates the chain-verification fixtures in testdata/verify/ with the `openssl` CLI only.
#
# Every case directory holds:
#   leaf.pem      the certificate under test (what a server presents first)
#   leaf.key.pem  the private key of leaf.pem (unencrypted PKCS#8 PEM, as `openssl s_server -key`
#                 reads it), so a real TLS server can serve the case
#   chain.pem     the untrusted certificates after the leaf, in the order a server would send them
#                 (may be empty)
#   ca.pem        the trust anchors (the device's CA file)
#   case.txt      the verification options, one `key=value` a line:
#                   attime=<unix seconds>   the instant to verify at (always pinned)
#                   purpose=sslserver|sslclient
#                   hostname=<dns name>     (openssl -verify_hostname)
#                   ip=<address>            (openssl -verify_ip)
#                   auth_level=<n>          (openssl -auth_level)
#
# Validity periods are explicit calendar dates (`openssl ca -startdate/-enddate`), so the
# fixtures never go stale: every case is verified at 2030-01-01T00:00:00Z (1893456000).
# Keys and serials are random, so a regeneration gives equivalent, not identical, files.
#
# Usage: testdata/verify/gen.sh            (from anywhere; writes next to this script)
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

ATTIME=1893456000 # 2030-01-01T00:00:00Z
START=20250101000000Z
END=20450101000000Z

cd "$WORK"
mkdir -p db
: >db/index.txt
echo 'unique_subject = no' >db/index.txt.attr

cat >ca.cnf <<'EOF'
[ ca ]
default_ca = local

[ local ]
database        = db/index.txt
new_certs_dir   = db
serial          = db/serial
default_md      = sha256
policy          = anything
unique_subject  = no
email_in_dn     = no
copy_extensions = none

[ anything ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
EOF

cat >ext.cnf <<'EOF'
[ root ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ inter ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_pathlen0 ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_clientauth ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_ca_false ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_no_bc ]
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_no_certsign ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, digitalSignature, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ inter_nc ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
nameConstraints        = critical, permitted;DNS:allowed.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:gateway.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server_ip ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = IP:192.0.2.10
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server_self ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:gateway.example.com
subjectKeyIdentifier   = hash

[ client ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectAltName         = DNS:gateway.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server_critical ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:gateway.example.com
1.3.6.1.4.1.55555.1    = critical, ASN1:UTF8String:unknown
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, digitalSignature, keyCertSign
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:gateway.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ server_cn_only ]
basicConstraints       = CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

# key NAME: a fresh EC P-256 key in NAME.key
# (RSA-2048 instead when RSA=1 is set)
key() {
    if [ "${RSA:-0}" = 1 ]; then
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
    fi
}

# selfsign NAME SUBJECT EXT START END
selfsign() {
    key "$1"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    openssl ca -config ca.cnf -batch -notext -rand_serial -selfsign -keyfile "$1.key" -in "$1.csr" \
        -out "$1.pem" -extfile ext.cnf -extensions "$3" -startdate "$4" -enddate "$5" \
        -preserveDN 2>ca.log || { cat ca.log >&2; exit 1; }
}

# issue NAME SUBJECT ISSUER EXT START END [MD]  (EXT "none" gives an X.509 v1 certificate)
issue() {
    key "$1"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    local ext=()
    if [ "$4" != none ]; then ext=(-extfile ext.cnf -extensions "$4"); fi
    openssl ca -config ca.cnf -batch -notext -rand_serial -cert "$3.pem" -keyfile "$3.key" -in "$1.csr" \
        -out "$1.pem" "${ext[@]}" -startdate "$5" -enddate "$6" -md "${7:-sha256}" \
        -preserveDN 2>ca.log || { cat ca.log >&2; exit 1; }
}

# bare PEM (openssl ca -notext still writes nothing else, but be explicit)
pem() { openssl x509 -in "$1.pem" -outform PEM; }

# emit CASE LEAF "CHAIN..." "ANCHORS..." OPTIONS...
emit() {
    local dir="$OUT/$1" leaf="$2" chain="$3" anchors="$4"
    shift 4
    rm -rf "$dir"
    mkdir -p "$dir"
    pem "$leaf" >"$dir/leaf.pem"
    openssl pkey -in "$leaf.key" -out "$dir/leaf.key.pem"
    : >"$dir/chain.pem"
    for c in $chain; do pem "$c" >>"$dir/chain.pem"; done
    : >"$dir/ca.pem"
    for c in $anchors; do pem "$c" >>"$dir/ca.pem"; done
    {
        echo "attime=$ATTIME"
        for o in "$@"; do echo "$o"; done
    } >"$dir/case.txt"
}

# The common hierarchy: root -> intermediate -> leaf.
selfsign root "/CN=Test Root CA" root $START $END
selfsign other_root "/CN=Other Root CA" root $START $END
issue inter "/CN=Test Intermediate CA" root inter $START $END
issue leaf "/CN=gateway.example.com" inter server $START $END

emit ok leaf inter root hostname=gateway.example.com purpose=sslserver
emit wrong-ca leaf inter other_root
emit missing-intermediate leaf "" root
emit untrusted-root leaf "inter root" other_root

selfsign self_leaf "/CN=gateway.example.com" server_self $START $END
emit self-signed-leaf self_leaf "" root

issue leaf_expired "/CN=gateway.example.com" inter server $START 20260101000000Z
emit expired-leaf leaf_expired inter root

issue inter_expired "/CN=Test Intermediate CA" root inter $START 20260101000000Z
issue leaf_under_expired "/CN=gateway.example.com" inter_expired server $START $END
emit expired-intermediate leaf_under_expired inter_expired root

selfsign root_expired "/CN=Expired Root CA" root $START 20260101000000Z
issue inter_of_expired "/CN=Expired Root Intermediate CA" root_expired inter $START $END
issue leaf_of_expired "/CN=gateway.example.com" inter_of_expired server $START $END
emit expired-anchor leaf_of_expired inter_of_expired root_expired

issue leaf_future "/CN=gateway.example.com" inter server 20400101000000Z $END
emit not-yet-valid leaf_future inter root

emit hostname-mismatch leaf inter root hostname=other.example.com

issue leaf_ip "/CN=192.0.2.10" inter server_ip $START $END
emit ip-mismatch leaf_ip inter root ip=192.0.2.99

issue leaf_client "/CN=gateway.example.com" inter client $START $END
emit leaf-no-serverauth leaf_client inter root purpose=sslserver

issue inter_client "/CN=Client Only Intermediate CA" root inter_clientauth $START $END
issue leaf_under_client "/CN=gateway.example.com" inter_client server $START $END
emit intermediate-clientauth-only leaf_under_client inter_client root purpose=sslserver

issue inter_ca_false "/CN=Not A CA Intermediate" root inter_ca_false $START $END
issue leaf_under_ca_false "/CN=gateway.example.com" inter_ca_false server $START $END
emit issuer-ca-false leaf_under_ca_false inter_ca_false root

issue inter_no_bc "/CN=No Basic Constraints Intermediate" root inter_no_bc $START $END
issue leaf_under_no_bc "/CN=gateway.example.com" inter_no_bc server $START $END
emit issuer-no-basic-constraints leaf_under_no_bc inter_no_bc root

issue inter_no_certsign "/CN=No keyCertSign Intermediate" root inter_no_certsign $START $END
issue leaf_under_no_certsign "/CN=gateway.example.com" inter_no_certsign server $START $END
emit issuer-no-keycertsign leaf_under_no_certsign inter_no_certsign root

issue inter_pl0 "/CN=Pathlen 0 Intermediate CA" root inter_pathlen0 $START $END
issue sub_inter "/CN=Sub Intermediate CA" inter_pl0 inter $START $END
issue leaf_under_sub "/CN=gateway.example.com" sub_inter server $START $END
emit pathlen-exceeded leaf_under_sub "sub_inter inter_pl0" root

# Bad signature: flip the last byte of the leaf's signature.
openssl x509 -in leaf.pem -outform DER -out leaf.der
flip_last_byte() {
    local size
    size=$(wc -c <"$1")
    local last
    last=$(tail -c 1 "$1" | od -An -tu1 | tr -d ' ')
    head -c $((size - 1)) "$1" >"$2"
    printf "\\$(printf '%03o' $(((last ^ 1) & 255)))" >>"$2"
}
flip_last_byte leaf.der leaf_badsig.der
openssl x509 -inform DER -in leaf_badsig.der -out leaf_badsig.pem
cp leaf.key leaf_badsig.key # same key as the good leaf; only the signature is broken
emit bad-signature leaf_badsig inter root

issue leaf_critical "/CN=gateway.example.com" inter server_critical $START $END
emit unknown-critical-extension leaf_critical inter root

issue inter_nc "/CN=Constrained Intermediate CA" root inter_nc $START $END
issue leaf_under_nc "/CN=gateway.example.com" inter_nc server $START $END
emit name-constraints leaf_under_nc inter_nc root

issue leaf_ca "/CN=gateway.example.com" inter server_ca $START $END
emit leaf-is-ca leaf_ca inter root hostname=gateway.example.com purpose=sslserver

issue leaf_cn "/CN=gateway.example.com" inter server_cn_only $START $END
emit cn-only leaf_cn inter root hostname=gateway.example.com

# SHA-1 needs an RSA issuer: ring (and so our signature check) has no ECDSA with SHA-1.
RSA=1 issue inter_rsa "/CN=Legacy RSA Intermediate CA" root inter $START $END
issue leaf_sha1 "/CN=gateway.example.com" inter_rsa server $START $END sha1
emit sha1-signature leaf_sha1 inter_rsa root auth_level=1

issue leaf_v1 "/CN=gateway.example.com" inter none $START $END
emit v1-leaf leaf_v1 inter root

echo "fixtures written to $OUT"
