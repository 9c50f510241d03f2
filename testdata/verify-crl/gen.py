"""Writes the PKI of testdata/verify-crl/ and the cases whose CRLs `openssl ca` cannot make.

Run by gen.sh (which says what each case is for); needs Python's `cryptography`. Writes into the
directory given as the first argument: `pki/` (the keys and certificates gen.sh hands to
`openssl ca`) and one directory per case with leaf.pem, leaf.key.pem, chain.pem, ca.pem,
crls.pem, case.txt.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

OUT = sys.argv[1]
T = datetime.datetime
UTC = datetime.timezone.utc
NOT_BEFORE = T(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = T(2045, 1, 1, tzinfo=UTC)
# Every case is verified at 2030-01-01T00:00:00Z.
ATTIME = 1893456000
THIS_UPDATE = T(2029, 6, 1, tzinfo=UTC)
NEXT_UPDATE = T(2031, 6, 1, tzinfo=UTC)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key():
    return ec.generate_private_key(ec.SECP256R1())


def key_usage(cert_sign, crl_sign):
    """digitalSignature, and keyCertSign and cRLSign as asked."""
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
        crl_sign=crl_sign, encipher_only=False, decipher_only=False,
    )


def ca_cert(cn, k, issuer_cert, issuer_key, crl_sign=True, serial=None):
    ski = x509.SubjectKeyIdentifier.from_public_key(k.public_key())
    b = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer_cert.subject if issuer_cert else name(cn))
        .public_key(k.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=True, crl_sign=crl_sign), critical=True)
        .add_extension(ski, critical=False)
    )
    if issuer_cert is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256())


def leaf_cert(issuer_cert, issuer_key, crldp=None):
    k = key()
    b = (
        x509.CertificateBuilder()
        .subject_name(name("gateway.example.com"))
        .issuer_name(issuer_cert.subject)
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=False, crl_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("gateway.example.com")]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if crldp:
        b = b.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crldp)], None, None, None)]
            ),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256()), k


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def idp(url=None, only_user=False, only_ca=False, indirect=False):
    """A critical issuingDistributionPoint, as `crl(extensions=...)` takes it."""
    full_name = [x509.UniformResourceIdentifier(url)] if url else None
    return (
        x509.IssuingDistributionPoint(
            full_name=full_name, relative_name=None, only_contains_user_certs=only_user,
            only_contains_ca_certs=only_ca, only_some_reasons=None, indirect_crl=indirect,
            only_contains_attribute_certs=False,
        ),
        True,
    )


def crl(issuer_name, signing_key, revoked=(), this_update=THIS_UPDATE, next_update=NEXT_UPDATE,
        number=1, akid_key=None, extensions=()):
    """A CRL: `revoked` holds (serial, reason or None) pairs."""
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_name)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    if akid_key is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(akid_key.public_key()),
            critical=False,
        )
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    for serial, reason in revoked:
        r = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(T(2029, 5, 1, tzinfo=UTC))
        )
        if reason is not None:
            r = r.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(r.build())
    return b.sign(signing_key, hashes.SHA256())


def crl_pem(*crls):
    return b"".join(
        c if isinstance(c, bytes) else c.public_bytes(serialization.Encoding.PEM) for c in crls
    )


def der_to_pem(der):
    import base64
    b64 = base64.encodebytes(der).replace(b"\n", b"")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN X509 CRL-----\n" + b"\n".join(lines) + b"\n-----END X509 CRL-----\n"


def write(case, leaf, chain, anchors, crls, key=None, **opts):
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    write_key(os.path.join(d, "leaf.key.pem"), key or leaf_key)
    with open(os.path.join(d, "leaf.pem"), "wb") as f:
        f.write(pem(leaf))
    with open(os.path.join(d, "chain.pem"), "wb") as f:
        f.write(pem(*chain))
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(pem(*anchors))
    with open(os.path.join(d, "crls.pem"), "wb") as f:
        f.write(crls)
    with open(os.path.join(d, "case.txt"), "w") as f:
        f.write(f"attime={ATTIME}\n")
        for k, v in opts.items():
            f.write(f"{k}={v}\n")


def write_key(path, k):
    with open(path, "wb") as f:
        f.write(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


R = x509.ReasonFlags

root_key = key()
root = ca_cert("CRL Root CA", root_key, None, root_key)
inter_key = key()
inter = ca_cert("CRL Intermediate CA", inter_key, root, root_key)
leaf, leaf_key = leaf_cert(inter, inter_key)
chain = [inter]
anchors = [root]

# The PKI gen.sh runs `openssl ca` on.
pki = os.path.join(OUT, "pki")
os.makedirs(pki, exist_ok=True)
write_key(os.path.join(pki, "root.key.pem"), root_key)
write_key(os.path.join(pki, "intermediate.key.pem"), inter_key)
write_key(os.path.join(pki, "leaf.key.pem"), leaf_key)
for fname, c in [("root.pem", root), ("intermediate.pem", inter), ("leaf.pem", leaf)]:
    with open(os.path.join(pki, fname), "wb") as f:
        f.write(pem(c))

other_key = key()
good_root_crl = crl(root.subject, root_key, akid_key=root_key)
revoke_leaf = [(leaf.serial_number, R.key_compromise)]

write("crl-expired", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key,
                  this_update=T(2028, 1, 1, tzinfo=UTC), next_update=T(2029, 1, 1, tzinfo=UTC))))
write("crl-expired-check-all", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key,
                  this_update=T(2028, 1, 1, tzinfo=UTC), next_update=T(2029, 1, 1, tzinfo=UTC)),
              crl(root.subject, root_key, akid_key=root_key,
                  this_update=T(2028, 1, 1, tzinfo=UTC), next_update=T(2029, 1, 1, tzinfo=UTC))),
      crl_check_all="yes")
write("crl-expired-and-revoked", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key,
                  this_update=T(2028, 1, 1, tzinfo=UTC), next_update=T(2029, 1, 1, tzinfo=UTC))))
write("crl-not-yet-valid", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key,
                  this_update=T(2031, 1, 1, tzinfo=UTC), next_update=T(2032, 1, 1, tzinfo=UTC))))
bad = bytearray(crl(inter.subject, inter_key, akid_key=inter_key)
                .public_bytes(serialization.Encoding.DER))
bad[-5] ^= 0x01
write("crl-bad-signature", leaf, chain, anchors, der_to_pem(bytes(bad)))
write("crl-wrong-issuer", leaf, chain, anchors,
      crl_pem(crl(name("Some Other CA"), other_key, revoke_leaf, akid_key=other_key)))
write("crl-other-key-with-akid", leaf, chain, anchors,
      crl_pem(crl(inter.subject, other_key, revoke_leaf, akid_key=other_key)))
write("crl-other-key-without-akid", leaf, chain, anchors,
      crl_pem(crl(inter.subject, other_key, revoke_leaf)))
write("crl-critical-extension", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key,
                  extensions=[(x509.UnrecognizedExtension(
                      x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"), True)])))
write("crl-different-scope", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key,
                  extensions=[idp(url="http://crl.example.com/other.crl")])))
write("crl-only-ca-certs", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key,
                  extensions=[idp(only_ca=True)])))
dp_leaf, dp_key = leaf_cert(inter, inter_key, crldp="http://crl.example.com/inter.crl")
write("crl-matching-scope", dp_leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, [(dp_leaf.serial_number, R.superseded)],
                  akid_key=inter_key,
                  extensions=[idp(url="http://crl.example.com/inter.crl", only_user=True)])),
      key=dp_key)
write("crl-indirect", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key,
                  extensions=[idp(indirect=True)])))
write("revoked-remove-from-crl", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, [(leaf.serial_number, R.remove_from_crl)],
                  akid_key=inter_key)))
write("revoked-no-reason", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, [(leaf.serial_number, None)], akid_key=inter_key)))
write("delta-crl-alone", leaf, chain, anchors,
      crl_pem(crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key, number=5,
                  extensions=[(x509.DeltaCRLIndicator(4), True)])))
older = crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key, number=1,
            this_update=T(2029, 1, 1, tzinfo=UTC))
newer = crl(inter.subject, inter_key, akid_key=inter_key, number=2,
            this_update=T(2029, 6, 1, tzinfo=UTC))
write("two-crls-newer-clears", leaf, chain, anchors, crl_pem(older, newer))
older2 = crl(inter.subject, inter_key, akid_key=inter_key, number=1,
             this_update=T(2029, 1, 1, tzinfo=UTC))
newer2 = crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key, number=2,
             this_update=T(2029, 6, 1, tzinfo=UTC))
write("two-crls-newer-revokes", leaf, chain, anchors, crl_pem(newer2, older2))
expired = crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key,
              this_update=T(2028, 1, 1, tzinfo=UTC), next_update=T(2029, 1, 1, tzinfo=UTC))
current = crl(inter.subject, inter_key, akid_key=inter_key, this_update=T(2028, 6, 1, tzinfo=UTC))
write("valid-crl-beats-expired", leaf, chain, anchors, crl_pem(expired, current))

# An intermediate whose keyUsage lacks cRLSign, and its CRL.
nosign = ca_cert("CRL Intermediate CA", inter_key, root, root_key, crl_sign=False)
write("issuer-no-crlsign", leaf, [nosign], anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key)))
write("issuer-no-crlsign-delta", leaf, [nosign], anchors,
      crl_pem(crl(inter.subject, inter_key, akid_key=inter_key,
                  extensions=[(x509.DeltaCRLIndicator(1), True)])))
# A chain that does not reach a trust anchor: revocation is still checked (20 then 23).
write("untrusted-and-revoked", leaf, chain, [], crl_pem(
    crl(inter.subject, inter_key, revoke_leaf, akid_key=inter_key)))
