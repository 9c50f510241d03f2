#!/usr/bin/env bash
# Regenerates the OpenSSL-made fixtures that `pki show` and `pki create-owner-ca --import` are
# tested against (see README.md). Needs only the `openssl` command. Validity is long (until 2125)
# so that the fixtures do not expire; tests pin "now" with --at where the status matters.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.pem ./*.der ./*.csr ./*.cnf ./*.txt
days=36500

cat > ext.cnf <<'CNF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:gw.contoso.com, DNS:gw, IP:10.0.0.4, IP:fd00::4, email:ops@contoso.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[device]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
[ed]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = clientAuth
CNF

# certGen.sh style root: RSA-4096 is slow to make; RSA-2048 keeps the script quick. The key is
# encrypted PKCS#8 with certGen.sh's default password 1234 (what `openssl genrsa -aes256` writes in 3.x).
openssl genrsa -aes256 -passout pass:1234 -out rsa-root.key.pem 2048 2>/dev/null
openssl req -new -x509 -sha256 -days $days -key rsa-root.key.pem -passin pass:1234 \
  -subj "/C=US/O=Contoso, Ltd./CN=Azure_IoT_Hub_CA_Cert_Test_Only" -extensions root -config <(cat /etc/ssl/openssl.cnf ext.cnf) \
  -out rsa-root.cert.pem
echo 1234 > rsa-root.password.txt

# Intermediate with a PKCS#1 (traditional) RSA key.
openssl genrsa -traditional -out rsa-inter.key.pem 2048 2>/dev/null
openssl req -new -key rsa-inter.key.pem -subj "/CN=Azure_IoT_Hub_Intermediate_Cert_Test_Only" -out rsa-inter.csr
openssl x509 -req -in rsa-inter.csr -CA rsa-root.cert.pem -CAkey rsa-root.key.pem -passin pass:1234 \
  -set_serial 0x1000 -days $days -sha256 -extfile ext.cnf -extensions inter -out rsa-inter.cert.pem 2>/dev/null

# EC P-256 server with a SEC1 key, many SAN kinds, signed by the intermediate.
openssl ecparam -name prime256v1 -genkey -noout -out ec-server.key.pem
openssl req -new -key ec-server.key.pem -subj "/O=Contoso/OU=Gateways/CN=gw.contoso.com" -out ec-server.csr
openssl x509 -req -in ec-server.csr -CA rsa-inter.cert.pem -CAkey rsa-inter.key.pem -set_serial 0x00e1f2 \
  -days $days -sha256 -extfile ext.cnf -extensions server -out ec-server.cert.pem 2>/dev/null
openssl x509 -in ec-server.cert.pem -outform DER -out ec-server.cert.der
cat ec-server.cert.pem rsa-inter.cert.pem rsa-root.cert.pem > ec-server-full-chain.cert.pem

# EC P-384 device, PKCS#8 key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -out ec384-device.key.pem
openssl req -new -key ec384-device.key.pem -subj "/CN=sensor-0001" -out ec384-device.csr
openssl x509 -req -in ec384-device.csr -CA rsa-inter.cert.pem -CAkey rsa-inter.key.pem -set_serial 7 \
  -days $days -sha384 -extfile ext.cnf -extensions device -out ec384-device.cert.pem 2>/dev/null

# Ed25519 self-signed device (thin-edge style).
openssl genpkey -algorithm ed25519 -out ed25519-self.key.pem
openssl req -new -x509 -key ed25519-self.key.pem -days $days -subj "/O=Thin Edge/OU=Device/CN=tedge-0001" \
  -extensions ed -config <(cat /etc/ssl/openssl.cnf ext.cnf) -out ed25519-self.cert.pem

# X.509 v1 certificate (no extensions), SHA-1 signed.
openssl req -new -key ec-server.key.pem -subj "/CN=legacy-v1" -out v1.csr
openssl x509 -req -in v1.csr -CA rsa-inter.cert.pem -CAkey rsa-inter.key.pem -set_serial 1 -days $days \
  -sha1 -out v1.cert.pem 2>/dev/null

# An OpenSSL-made CSR for `pki csr sign`.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout csr-device.key.pem \
  -subj "/CN=csr-device-7" -out csr-device.csr 2>/dev/null

# Bad inputs.
printf 'this is not a certificate\n' > garbage.pem
head -c 300 ec-server.cert.pem > truncated.pem
head -c 200 ec-server.cert.der > truncated.der

rm -f ./*.srl v1.csr ec-server.csr ec384-device.csr rsa-inter.csr
echo "fixtures written to $(pwd)"
