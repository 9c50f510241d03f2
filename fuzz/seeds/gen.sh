#!/usr/bin/env bash
# Regenerates the fuzzing seeds in fuzz/seeds/<target>/ from testdata/ and with the `openssl`
# command alone (see fuzz/README.md). A seed whose name starts with `bad-` is an input the code
# must refuse; every other seed must be accepted (the stable test `fuzz_regressions` of each
# crate checks both). Keys and serials are random, so a regeneration gives equivalent, not
# identical, files; the committed copies are what the fuzzers and the tests read.
#
# Usage: fuzz/seeds/gen.sh        (from anywhere; writes next to this script)
set -euo pipefail

SEEDS="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$SEEDS/../.." && pwd)"
SHOW="$ROOT/testdata/show"
VERIFY="$ROOT/testdata/verify"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

for t in certificate private_key csr batch_input connection_string hosts_file c8y_json verify_chain signature \
  revoke_batch register_url guide_quote; do
  rm -rf "${SEEDS:?}/$t"
  mkdir -p "$SEEDS/$t"
done
der() { openssl x509 -in "$1" -outform DER; }
days=36500

# --- certificate: every certificate of testdata/show, a bundle, DER, and shapes the parser
# meets in the field (text before the block, TRUSTED CERTIFICATE, CRLF, many extensions).
c="$SEEDS/certificate"
for f in rsa-root rsa-inter ec-server ec384-device ed25519-self v1; do
  cp "$SHOW/$f.cert.pem" "$c/$f.pem"
done
cp "$SHOW/ec-server.cert.der" "$c/ec-server.der"
cp "$SHOW/ec-server-full-chain.cert.pem" "$c/bundle.pem"
openssl x509 -in "$SHOW/ec-server.cert.pem" -text >"$c/with-text.pem"
openssl x509 -in "$SHOW/ed25519-self.cert.pem" -trustout -addtrust clientAuth >"$c/trusted.pem"
sed 's/$/\r/' "$SHOW/ec384-device.cert.pem" >"$c/crlf.pem"
cat >ext.cnf <<'CNF'
[many]
basicConstraints = critical, CA:TRUE, pathlen:3
keyUsage = critical, keyCertSign, cRLSign, digitalSignature, keyAgreement, encipherOnly
extendedKeyUsage = serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, 1.3.6.1.4.1.55555.7
subjectAltName = DNS:*.example.com, IP:192.0.2.1, IP:2001:db8::1, email:a@example.com, URI:https://example.com/x, dirName:dir, otherName:1.3.6.1.4.1.55555.9;UTF8:other, RID:1.2.3.4
nameConstraints = critical, permitted;DNS:example.com, excluded;IP:10.0.0.0/255.0.0.0
certificatePolicies = 2.23.140.1.2.1, 1.3.6.1.4.1.55555.1
crlDistributionPoints = URI:http://crl.example.com/ca.crl
authorityInfoAccess = OCSP;URI:http://ocsp.example.com, caIssuers;URI:http://ca.example.com/ca.cer
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
nsCertType = server, client, sslCA
nsComment = "fuzz seed"
1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:private
[dir]
C = DE
O = Dir Org
CN = dir name
CNF
openssl req -x509 -new -newkey rsa:2048 -nodes -keyout rsa.key -days $days -sha384 \
  -subj "/C=DE/ST=Berlin/L=Berlin/O=Contoso, Ltd./OU=Fuzz+OU=Second/CN=many extensions/emailAddress=x@example.com/serialNumber=42/DC=example/UID=u1" \
  -set_serial -0x1234 -extensions many -config <(cat /etc/ssl/openssl.cnf ext.cnf) -out "$c/many-extensions.pem" 2>/dev/null
openssl req -x509 -new -newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -nodes -keyout pss.key -days $days \
  -subj "/CN=rsa-pss" -out "$c/rsa-pss.pem" 2>/dev/null
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:secp521r1 -nodes -keyout p521.key -days $days \
  -subj "/CN=p521" -out "$c/p521.pem" 2>/dev/null
cp "$SHOW/garbage.pem" "$c/bad-garbage.pem"
cp "$SHOW/truncated.pem" "$c/bad-truncated.pem"
cp "$SHOW/truncated.der" "$c/bad-truncated.der"

# --- private_key: every accepted format, PEM and DER; the password is 1234.
k="$SEEDS/private_key"
cp "$SHOW/rsa-root.key.pem" "$k/encrypted-pkcs8-rsa.pem"
cp "$SHOW/rsa-inter.key.pem" "$k/pkcs1-rsa.pem"
cp "$SHOW/ec-server.key.pem" "$k/sec1-p256.pem"
cp "$SHOW/ec384-device.key.pem" "$k/pkcs8-p384.pem"
cp "$SHOW/ed25519-self.key.pem" "$k/pkcs8-ed25519.pem"
cp "$SHOW/csr-device.key.pem" "$k/pkcs8-p256.pem"
openssl pkey -in "$SHOW/csr-device.key.pem" -outform DER -out "$k/pkcs8-p256.der"
openssl ec -in "$SHOW/ec-server.key.pem" -outform DER -out "$k/sec1-p256.der" 2>/dev/null
openssl rsa -in "$SHOW/rsa-inter.key.pem" -traditional -outform DER -out "$k/pkcs1-rsa.der" 2>/dev/null
# Encrypted PKCS#8 with cheap parameters, so that the fuzzer runs many of them a second.
openssl pkcs8 -topk8 -in "$SHOW/csr-device.key.pem" -v2 aes-256-cbc -iter 1 -passout pass:1234 \
  -out "$k/encrypted-pkcs8-p256.pem"
openssl pkcs8 -topk8 -in "$SHOW/ec384-device.key.pem" -v2 aes-128-cbc -iter 2 \
  -passout pass:1234 -outform DER -out "$k/encrypted-pkcs8-p384.der"
openssl pkcs8 -topk8 -in "$SHOW/ed25519-self.key.pem" -v2 des3 -iter 1 -passout pass:1234 \
  -out "$k/encrypted-pkcs8-des3-ed25519.pem"
openssl pkcs8 -topk8 -in "$SHOW/csr-device.key.pem" -scrypt -scrypt_N 16 -scrypt_r 1 -scrypt_p 1 \
  -passout pass:1234 -out "$k/encrypted-pkcs8-scrypt-p256.pem"
# Refused: wrong password, PBKDF2 with HMAC-SHA1 (OpenSSL 1.0's default), PBES1, legacy OpenSSL encryption, unsupported curve and algorithm,
# short RSA.
openssl pkcs8 -topk8 -in "$SHOW/csr-device.key.pem" -iter 1 -passout pass:wrong -out "$k/bad-wrong-password.pem"
openssl pkcs8 -topk8 -in "$SHOW/ec384-device.key.pem" -v2 aes-128-cbc -v2prf hmacWithSHA1 -iter 2 \
  -passout pass:1234 -outform DER -out "$k/bad-encrypted-pkcs8-hmac-sha1.der"
openssl pkcs8 -topk8 -in "$SHOW/csr-device.key.pem" -v1 PBE-SHA1-3DES -iter 1 -passout pass:1234 \
  -out "$k/bad-pbes1.pem" 2>/dev/null
openssl ec -in "$SHOW/ec-server.key.pem" -aes128 -passout pass:1234 -out "$k/bad-legacy-encrypted.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp521r1 -out "$k/bad-p521.pem"
openssl genpkey -algorithm X25519 -out "$k/bad-x25519.pem"
openssl genrsa -out "$k/bad-rsa-1024.pem" 1024 2>/dev/null

# --- csr: OpenSSL-made requests of each key type, SANs, DER; refused ones.
r="$SEEDS/csr"
cp "$SHOW/csr-device.csr" "$r/p256.csr"
openssl req -new -key "$SHOW/rsa-inter.key.pem" -subj "/O=Contoso/OU=Gateways/CN=gw.contoso.com" \
  -addext "subjectAltName = DNS:gw.contoso.com, DNS:gw, IP:10.0.0.4, IP:fd00::4" -out "$r/rsa-sans.csr"
openssl req -new -key "$SHOW/ec384-device.key.pem" -subj "/CN=sensor-0001" -outform DER -out "$r/p384.der"
openssl req -new -key "$SHOW/ed25519-self.key.pem" -subj "/O=Thin Edge/CN=tedge-0001" -out "$r/ed25519.csr"
openssl req -new -key "$SHOW/csr-device.key.pem" -subj "/CN=dev \"quoted\", comma" -out "$r/odd-cn.csr"
openssl req -new -key "$SHOW/csr-device.key.pem" -subj "/O=No CN" -out "$r/bad-no-cn.csr"
openssl req -new -key "$SHOW/csr-device.key.pem" -subj "/CN=mail" -addext "subjectAltName = email:a@example.com" \
  -out "$r/bad-email-san.csr"
openssl req -new -key "$SHOW/csr-device.key.pem" -subj "/CN=tamper-me" -outform DER -out tampered.der
perl -0777 -pe 's/tamper-me/tamper-mE/' tampered.der >"$r/bad-tampered.der"

# --- batch_input: plain ids, CSV with every column, quoting, CRLF; a file that is not UTF-8.
b="$SEEDS/batch_input"
printf 'sensor-0001\nsensor-0002\n\nbad/id\nsensor-0001\n' >"$b/ids.txt"
printf 'model,device_id,sans,days\nx,dev-1,dev-1.local;10.0.0.9,30\ny,"dev,2",,\nz,dev-3,,zero\nw,dev-4,"a.example b.example",365\n' >"$b/devices.csv"
printf 'device_id,san\r\n"dev ""q""",[fd00::1]\r\ndev-5,*.example.com\r\n' >"$b/crlf.csv"
# A line that is not UTF-8 is a rejected line; the lot goes on.
printf 'dev-\xff\ndev-2\n' >"$b/not-utf8-line.txt"

# --- hosts_file: names, addresses, servername, client files; no host name, a port, a long line.
h="$SEEDS/hosts_file"
printf '# fleet\ngw1.contoso.com\n10.0.0.4:8884 servername=gw2.contoso.com # lab\n[fd00::4]:443\n' >"$h/fleet.txt"
printf 'gw1 cert=certs/d.pem key=pkcs11:token=pki;object=d\ngw_2.lab.:1\n' >"$h/client.txt"
printf 'gw1\ngw$(id).test\n' >"$h/bad-not-a-name.txt"
printf 'gw1 servername=a..b\n' >"$h/bad-servername.txt"
printf 'gw1:mqtts\n' >"$h/bad-port.txt"
head -c 9000 /dev/zero | tr '\0' g >"$h/bad-long-line.txt"
# --- revoke_batch: files, serials, device ids, comments and blank lines; refused lines.
r="$SEEDS/revoke_batch"
printf '# lot 7\nsensor-0042\n\n4a:3f:9c:01\npki/certs/iot-device-dev-1.cert.pem\n' >"$r/mixed.txt"
printf 'dev-1\r\ndev-2\r\n' >"$r/crlf.txt"
printf '   dev-3   \n# only a comment after\n' >"$r/spaces.txt"
printf 'dev-\xff\n' >"$r/bad-not-utf8.txt"
printf 'dev\x1b[31m\n' >"$r/bad-control.txt"
head -c 70000 /dev/zero | tr '\0' a >"$r/bad-long-line.txt"
# --- register_url: PASSWORD NUL REST, as postgres://pki:PASSWORD@REST; plain locations.
u="$SEEDS/register_url"
printf 'Kq7x/Vb2m?Zr9p#Lt4n\0db.example.com:5432/pki' >"$u/url-chars.txt"
printf 's3cr3t-pw\0127.0.0.1:5432/pki?connect_timeout=3' >"$u/params.txt"
printf 'pki/register.sqlite3' >"$u/sqlite-path.txt"
printf 'sqlite:/var/lib/pki/register.sqlite3' >"$u/sqlite-scheme.txt"
printf 'hunter2hunter2\0db.example.com:notaport/pki' >"$u/bad-port.txt"
printf 'postgress://pki:hunter2@db/pki' >"$u/bad-scheme.txt"
# --- guide_quote: values that mean something to a shell or a language.
g="$SEEDS/guide_quote"
printf 'x$(id)' >"$g/command-substitution.txt"
printf "a'b\"c\\\\d" >"$g/quotes.txt"
printf 'ca\n*/\"$(id)\\u000a??/\xc3\xa9' >"$g/directory.txt"
printf '\x1b[31m\x07\x00\x7f\xc2\x85\xe2\x80\xa8\xf0\x9f\x98\x80' >"$g/controls.txt"
printf -- '-rf' >"$g/dash.txt"
printf 'a/*b*/c//d' >"$g/comments.txt"
printf "it's \"id\" *? !" >"$g/apostrophe.txt"
printf '\xff\xfe' >"$g/bad-not-utf8.txt"
# --- connection_string: device, module, x509, gateway; malformed ones.
s="$SEEDS/connection_string"
printf 'HostName=hub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=abc==;GatewayHostName=gw.contoso.com' >"$s/downstream.txt"
printf 'HostName=hub.azure-devices.net;DeviceId=dev-1;ModuleId=mod;SharedAccessSignature=SharedAccessSignature sr=x&sig=y' >"$s/module.txt"
printf ' HostName = h ; DeviceId = d ; x509 = TRUE ; ' >"$s/x509.txt"
printf 'HostName=h;DeviceId=d;x509=true;gatewayhostname=g' >"$s/bad-case.txt"
printf 'HostName=h;HostName=i;DeviceId=d;x509=true' >"$s/bad-duplicate.txt"
printf 'HostName=h;DeviceId' >"$s/bad-no-equals.txt"

# --- c8y_json: the tenant's answers pki reads.
j="$SEEDS/c8y_json"
printf '{"name":"t12345","domainName":"t12345.cumulocity.com","allowCreateTenants":false}' >"$j/current-tenant.json"
printf '{"name":"Owner CA","fingerprint":"a1b2c3","subject":"CN=Owner CA","status":"ENABLED","autoRegistrationEnabled":true,"notAfter":"2035-01-01T00:00:00.000Z","proofOfPossessionValid":false,"certInPemFormat":"MIIB"}' >"$j/trusted-certificate.json"
printf '{"proofOfPossessionUnsignedVerificationCode":"2a4c8f0e-9b3d-4e61-a7f2-0c5d8e1b3a79","fingerprint":"a1b2c3"}' >"$j/verification-code.json"
printf '{"certificates":[{"fingerprint":"a1","status":"DISABLED"},{"fingerprint":"b2","status":"ENABLED","proofOfPossessionValid":true}],"statistics":{"pageSize":100,"currentPage":1},"next":"https://t.example/next"}' >"$j/list-page.json"
printf '{"error":"security/Unauthorized","message":"Invalid credentials!","info":"https://cumulocity.com/guides/reference/rest-implementation"}' >"$j/error.json"
printf '<html><body>502 Bad Gateway</body></html>' >"$j/bad-not-json.html"

# --- verify_chain: every case of testdata/verify as [anchors, purpose, auth_level, name, at]
# followed by the DER of leaf, untrusted certificates and anchors (see fuzz/harness/verify.rs).
v="$SEEDS/verify_chain"
pem_to_ders() { # every certificate of a PEM file, DER, back to back
  awk -v dir="$WORK/split" 'BEGIN{n=0} /BEGIN CERT/{n++; f=sprintf("%s/%03d.pem", dir, n)} n>0{print > f}' "$1"
}
for case in "$VERIFY"/*/; do
  name="$(basename "$case")"
  opt() { sed -n "s/^$1=//p" "$case/case.txt"; }
  purpose=0
  case "$(opt purpose)" in sslserver) purpose=1 ;; sslclient) purpose=2 ;; esac
  auth="$(opt auth_level)"
  host="$(opt hostname)$(opt ip)"
  nm=6 # no name
  case "$host" in gateway.example.com) nm=0 ;; other.example.com) nm=1 ;; 192.0.2.99) nm=2 ;; esac
  anchors="$(grep -c 'BEGIN CERTIFICATE' "$case/ca.pem")"
  {
    printf "\\x$(printf %02x "$anchors")\\x$(printf %02x "$purpose")\\x$(printf %02x "${auth:-0}")\\x$(printf %02x "$nm")\\x00"
    for f in leaf chain ca; do
      rm -rf "$WORK/split" && mkdir "$WORK/split"
      pem_to_ders "$case/$f.pem"
      for p in "$WORK"/split/*.pem; do [ -e "$p" ] && der "$p"; done
    done
  } >"$v/case-$name.bin"
done
# The RSA hierarchy of testdata/show: server, intermediate, root as the anchor; sslserver, 2026.
{
  printf '\x01\x01\x01\x06\x01'
  der "$SHOW/ec-server.cert.pem"; der "$SHOW/rsa-inter.cert.pem"; der "$SHOW/rsa-root.cert.pem"
} >"$v/rsa-hierarchy.bin"

du -sh "$SEEDS"

# --- signature: issuer SPKI + leaf of signature cases of testdata/verify-conformance (mode 0),
# and the harness's own fixtures unchanged (mode 1, empty patch); bad-*: a wrong issuer key, a
# signature overwritten.
s="$SEEDS/signature"
CONF="$ROOT/testdata/verify-conformance"
for c in sig-ecdsa-secp160r1 sig-ecdsa-sect233k1 sig-ecdsa-c2pnb176v1 sig-ec-explicit-unnamed \
  sig-sm2 sig-rsa-pss-sha1-salt20 sig-rsa-pss-spki sig-dsa-2048-sha256 sig-rsa-md5 sig-ed448; do
  { printf '\000'
    openssl x509 -in "$CONF/$c/chain.pem" -pubkey -noout | openssl pkey -pubin -outform DER
    der "$CONF/$c/leaf.pem"; } >"$s/$c.bin"
done
{ printf '\000'
  openssl x509 -in "$CONF/sig-ecdsa-secp160r1/chain.pem" -pubkey -noout | openssl pkey -pubin -outform DER
  der "$CONF/sig-ecdsa-sect233k1/leaf.pem"; } >"$s/bad-wrong-issuer-key.bin"
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
  printf "\\001\\$(printf '%03o' "$i")\\000\\000\\000" >"$s/fixture-$i.bin"
done
printf '\001\000\001\000\020\377\377\377\377' >"$s/bad-signature-overwritten.bin"

