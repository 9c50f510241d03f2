#!/usr/bin/env python3
"""Writes the conformance fixtures of testdata/verify-conformance/ (run it through gen.sh).

Every certificate is assembled here field by field (DER) and signed with Python's
`cryptography`, so that a case can carry what no CA tool writes: a duplicated or truncated
extension, a name constraint with a wrong-length IP mask, a v1 certificate with extensions, a
loop of cross-signed CAs. The `openssl` CLI makes the keys `cryptography` cannot write: an EC
key with explicit curve parameters, an RSA-PSS (rsassaPss) key, and keys on curves `cryptography`
does not know (secp160r1, prime239v1, SM2, ...), which `openssl dgst -sign` then signs with
(`OpensslKey`), as it signs MD4 (legacy provider) and SHA-3 digests.

`gen.py --only CASE...` writes only the named cases (every other directory stays as it is; all
keys are still generated, so cases.tsv is rewritten whole and identical for the others).

Each case directory gets leaf.pem, leaf.key.pem, chain.pem, ca.pem and case.txt, as in
testdata/verify/; cases.tsv lists every case with its class and what it is (table.py turns it,
with what `openssl verify` says, into the README's table).
"""

import base64
import datetime
import hashlib
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, padding, rsa

OUT = Path(__file__).resolve().parent
ATTIME = 1893456000  # 2030-01-01T00:00:00Z
START = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
END = datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC)
DEPTH_LIMIT = 100  # OpenSSL's default verify depth: intermediates between the leaf and the anchor


# --- DER -----------------------------------------------------------------------------------


def tlv(tag, body):
    """One DER element: tag, definite length, body."""
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def set_of(*parts):
    return tlv(0x31, b"".join(sorted(parts)))


def ctx(n, body, constructed=True):
    """A context-specific [n] element (implicit: the caller gives the body)."""
    return tlv((0xA0 if constructed else 0x80) | n, body)


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for i, arc in enumerate([arcs[0] * 40 + arcs[1]] + arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def integer(n):
    length = max(1, (n.bit_length() + 8) // 8) if n >= 0 else max(1, ((-n - 1).bit_length() + 8) // 8)
    return tlv(0x02, n.to_bytes(length, "big", signed=True))


def boolean(v):
    return tlv(0x01, b"\xff" if v else b"\x00")


def octets(b):
    return tlv(0x04, b)


def bit_string(b, unused=0):
    return tlv(0x03, bytes([unused]) + b)


NULL = b"\x05\x00"


def der_time(t):
    if t.year < 2050:
        return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


ATTR = {
    "CN": ("2.5.4.3", 0x0C),
    "O": ("2.5.4.10", 0x0C),
    "C": ("2.5.4.6", 0x13),
    "emailAddress": ("1.2.840.113549.1.9.1", 0x16),
}


def name(*rdns):
    """A distinguished name from (attribute, value) pairs, one RDN each, in order."""
    if len(rdns) == 1 and isinstance(rdns[0], str):
        rdns = (("CN", rdns[0]),)
    out = []
    for attr, value in rdns:
        o, tag = ATTR[attr]
        out.append(set_of(seq(oid(o), tlv(tag, value.encode()))))
    return seq(*out)


# --- GeneralName and extensions --------------------------------------------------------------


def dns(n):
    return tlv(0x82, n.encode())


def email(n):
    return tlv(0x81, n.encode())


def uri(n):
    return tlv(0x86, n.encode())


def ip(text):
    """An iPAddress GeneralName: an address, or a network as address and mask (constraints)."""
    if "/" in text:
        net = ipaddress.ip_network(text)
        return tlv(0x87, net.network_address.packed + net.netmask.packed)
    return tlv(0x87, ipaddress.ip_address(text).packed)


def raw_ip(b):
    return tlv(0x87, b)


def dirname(n):
    return ctx(4, n)


UPN = "1.3.6.1.4.1.311.20.2.3"


def othername(type_oid, value):
    return ctx(0, oid(type_oid) + ctx(0, tlv(0x0C, value.encode())))


BC, KU, EKU, SAN, NC, SKI, AKI = (
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.17",
    "2.5.29.30",
    "2.5.29.14",
    "2.5.29.35",
)
SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"


def ext(o, value, critical=False):
    """An extension: (OID, critical, the DER inside the OCTET STRING)."""
    return (o, critical, value)


def bc(ca, pathlen=None, critical=True):
    body = boolean(True) if ca else b""
    if pathlen is not None:
        body += integer(pathlen)
    return ext(BC, seq(body), critical)


KU_BITS = {
    "digitalSignature": 0,
    "nonRepudiation": 1,
    "keyEncipherment": 2,
    "dataEncipherment": 3,
    "keyAgreement": 4,
    "keyCertSign": 5,
    "cRLSign": 6,
}


def ku(*names, critical=True):
    bits = 0
    for n in names:
        bits |= 0x80 >> KU_BITS[n]
    if not bits:  # no bit set: the empty BIT STRING (DER drops trailing zero bits)
        return ext(KU, bit_string(b""), critical)
    unused = (bits & -bits).bit_length() - 1
    return ext(KU, bit_string(bytes([bits]), unused), critical)


def eku(*oids):
    return ext(EKU, seq(*(oid(o) for o in oids)))


def san(*names):
    return ext(SAN, seq(*names))


def subtree(base, minimum=None):
    return seq(base, ctx(0, integer(minimum)[2:], False) if minimum is not None else b"")


def nc(permitted=(), excluded=(), critical=True):
    body = b""
    if permitted:
        body += ctx(0, b"".join(p if p[0] == 0x30 else subtree(p) for p in permitted))
    if excluded:
        body += ctx(1, b"".join(e if e[0] == 0x30 else subtree(e) for e in excluded))
    return ext(NC, seq(body), critical)


def truncated(extension):
    """The extension with its inner element claiming one byte more than the OCTET STRING holds."""
    o, critical, value = extension
    assert value[1] < 0x7F, "short-form length expected"
    return (o, critical, value[:1] + bytes([value[1] + 1]) + value[2:])


# --- keys ----------------------------------------------------------------------------------

CURVES = {
    "P-192": ec.SECP192R1,
    "P-224": ec.SECP224R1,
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
}
HASHES = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
ECDSA_OID = {
    "sha1": "1.2.840.10045.4.1",
    "sha224": "1.2.840.10045.4.3.1",
    "sha256": "1.2.840.10045.4.3.2",
    "sha384": "1.2.840.10045.4.3.3",
    "sha512": "1.2.840.10045.4.3.4",
    "sha3-256": "2.16.840.1.101.3.4.3.10",
    "sha3-384": "2.16.840.1.101.3.4.3.11",
}
RSA_OID = {
    "md4": "1.2.840.113549.1.1.3",
    "md5": "1.2.840.113549.1.1.4",
    "sha1": "1.2.840.113549.1.1.5",
    "sha3-256": "2.16.840.1.101.3.4.3.14",
    "sha224": "1.2.840.113549.1.1.14",
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
DSA_OID = {"sha1": "1.2.840.10040.4.3", "sha256": "2.16.840.1.101.3.4.3.2", "sha512": "2.16.840.1.101.3.4.3.4"}
HASH_OID = {
    "sha1": "1.3.14.3.2.26",
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
SM2_SM3_OID = "1.2.156.10197.1.501"
UNKNOWN_SIG_OID = "1.3.6.1.4.1.55555.1.1"  # under a private enterprise arc: no OpenSSL knows it
PSS_OID = "1.2.840.113549.1.1.10"
MGF1_OID = "1.2.840.113549.1.1.8"
ED448_OID = "1.3.101.113"


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


class Key:
    """A private key: what signs (a `cryptography` key), the SPKI certificates carry, and the
    PKCS#8 PEM written as leaf.key.pem."""

    def __init__(self, private, spki=None, pem=None):
        self.private = private
        self.spki = spki or private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.pem = pem or private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.key_id = hashlib.sha1(self.spki).digest()

    def algorithm(self, md):
        """The AlgorithmIdentifier of a signature with this key and digest `md` (`pss-sha256`
        for RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt; `pss-H-MGFH-SALT` for
        others, `pss-default` for the parameters' defaults: SHA-1, MGF1-SHA-1, salt 20; `unknown`
        for an OID no OpenSSL knows over a PKCS#1 v1.5 SHA-256 signature)."""
        if md.startswith("pss"):
            return pss_algorithm(md)
        if md == "unknown":
            return seq(oid(UNKNOWN_SIG_OID), NULL)
        k = self.private
        if isinstance(k, ec.EllipticCurvePrivateKey):
            return seq(oid(ECDSA_OID[md]))
        if isinstance(k, dsa.DSAPrivateKey):
            return seq(oid(DSA_OID[md]))
        if isinstance(k, ed448.Ed448PrivateKey):
            return seq(oid(ED448_OID))
        return seq(oid(RSA_OID[md]), NULL)

    def sign(self, data, md):
        k = self.private
        if isinstance(k, ec.EllipticCurvePrivateKey):
            return k.sign(data, ec.ECDSA(HASHES[md]()))
        if isinstance(k, dsa.DSAPrivateKey):
            return k.sign(data, HASHES[md]())
        if isinstance(k, ed448.Ed448PrivateKey):
            return k.sign(data)
        if md.startswith("pss"):
            h, mgf, salt = pss_parts(md)
            return k.sign(data, padding.PSS(padding.MGF1(HASHES[mgf]()), salt), HASHES[h]())
        if md == "unknown":
            return k.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return k.sign(data, padding.PKCS1v15(), HASHES[md]())


def pss_parts(md):
    """(hash, MGF1 hash, salt length) of a `pss-...` digest name (see Key.algorithm)."""
    if md == "pss-default":
        return "sha1", "sha1", 20
    if md == "pss-sha256":
        return "sha256", "sha256", 32
    _, h, mgf, salt = md.split("-")
    return h, mgf, int(salt)


def pss_algorithm(md):
    """RSASSA-PSS's AlgorithmIdentifier; `pss-default` spells no parameter (all defaults)."""
    if md == "pss-default":
        return seq(oid(PSS_OID), seq())
    h, mgf, salt = pss_parts(md)
    hash_alg = seq(oid(HASH_OID[h]), NULL)
    mgf_alg = seq(oid(MGF1_OID), seq(oid(HASH_OID[mgf]), NULL))
    return seq(oid(PSS_OID), seq(ctx(0, hash_alg), ctx(1, mgf_alg), ctx(2, integer(salt))))


class OpensslKey(Key):
    """A key only the `openssl` CLI handles (a curve `cryptography` lacks, SM2, MD4 or SHA-3
    signatures): it signs with `openssl dgst -sign`. `kind` is `ec`, `sm2` or `rsa`."""

    def __init__(self, pem, kind):
        self.kind = kind
        spki = openssl("pkey", "-pubout", "-outform", "DER", data=pem)
        super().__init__(None, spki, pem)

    def algorithm(self, md):
        if self.kind == "sm2":
            return seq(oid(SM2_SM3_OID))
        if self.kind == "ec":
            return seq(oid(ECDSA_OID[md]))
        return super().algorithm(md) if md.startswith("pss") or md == "unknown" else seq(oid(RSA_OID[md]), NULL)

    def sign(self, data, md):
        with tempfile.TemporaryDirectory() as tmp:
            key = Path(tmp) / "key.pem"
            key.write_bytes(self.pem)
            digest = "sm3" if self.kind == "sm2" else md
            args = ["dgst", f"-{digest}", "-sign", str(key)]
            if md == "md4":
                args += ["-provider", "legacy", "-provider", "default"]
            return openssl(*args, data=data)


def ec_key(curve="P-256"):
    return Key(ec.generate_private_key(CURVES[curve]()))


def rsa_key(bits=2048):
    return Key(rsa.generate_private_key(65537, bits))


def dsa_key(bits):
    return Key(dsa.generate_private_key(bits))


def ed448_key():
    return Key(ed448.Ed448PrivateKey.generate())


def ec_explicit_key():
    """A P-256 key whose SPKI (and PEM) spell out the curve's parameters instead of naming it."""
    named = ec_key("P-256")
    pem = openssl("pkey", "-ec_param_enc", "explicit", data=named.pem)
    spki = openssl("pkey", "-ec_param_enc", "explicit", "-pubout", "-outform", "DER", data=named.pem)
    return Key(named.private, spki, pem)


def openssl_ec_key(curve, explicit=False):
    """An EC key on any curve OpenSSL names (SM2's too), optionally with explicit parameters."""
    if curve == "SM2":
        return OpensslKey(openssl("genpkey", "-algorithm", "SM2"), "sm2")
    pem = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}")
    if explicit:
        pem = openssl("pkey", "-ec_param_enc", "explicit", data=pem)
    return OpensslKey(pem, "ec")


def openssl_rsa_key(bits=2048):
    return OpensslKey(openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"), "rsa")


def rsa_pss_key(restricted, bits=2048, md="sha256", salt=32):
    """An RSA key (2048 bits unless said) with the rsassaPss SPKI; `restricted` adds parameters
    (SHA-256, MGF1 SHA-256, salt 32 unless said) that bind it to that one signature scheme."""
    opts = ["-pkeyopt", f"rsa_keygen_bits:{bits}"]
    if restricted:
        opts += [
            "-pkeyopt", f"rsa_pss_keygen_md:{md}",
            "-pkeyopt", f"rsa_pss_keygen_mgf1_md:{md}",
            "-pkeyopt", f"rsa_pss_keygen_saltlen:{salt}",
        ]  # fmt: skip
    pem = openssl("genpkey", "-algorithm", "RSA-PSS", *opts)
    spki = openssl("pkey", "-pubout", "-outform", "DER", data=pem)
    return Key(serialization.load_pem_private_key(pem, None), spki, pem)


# --- certificates --------------------------------------------------------------------------


class Cert:
    """A certificate with its subject name and key, to issue others with."""

    def __init__(self, der, subject, key):
        self.der = der
        self.subject = subject
        self.key = key

    def pem(self):
        b64 = base64.b64encode(self.der).decode()
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def issue(
    subject,
    key,
    issuer,
    exts,
    md="sha256",
    version=3,
    start=START,
    end=END,
    ski=True,
    aki=True,
    issuer_name=None,
):
    """A certificate for `subject` (a CN string or a name()) and `key`, signed by `issuer` (a Cert,
    or None for self-signed). SKI and AKI are added unless turned off; `issuer_name` overrides the
    issuer field (a certificate signed by one key under another's name)."""
    subject = name(subject) if isinstance(subject, str) else subject
    signer = key if issuer is None else issuer.key
    issuer_dn = issuer_name or (subject if issuer is None else issuer.subject)
    exts = list(exts)
    if ski:
        exts.append(ext(SKI, octets(key.key_id)))
    if aki:
        exts.append(ext(AKI, seq(ctx(0, signer.key_id, False))))
    alg = signer.algorithm(md)
    ext_der = b"".join(seq(oid(o), boolean(True) if critical else b"", octets(value)) for o, critical, value in exts)
    tbs = seq(
        ctx(0, integer(2)) if version == 3 else b"",
        integer(secrets.randbits(127) | 1 << 126),
        alg,
        issuer_dn,
        seq(der_time(start), der_time(end)),
        subject,
        key.spki,
        ctx(3, seq(ext_der)) if exts else b"",
    )
    return Cert(seq(tbs, alg, bit_string(signer.sign(tbs, md))), subject, key)


def ca_exts(pathlen=None):
    return [bc(True, pathlen), ku("keyCertSign", "cRLSign")]


def server_exts(names=None):
    return [
        bc(False, critical=False),
        ku("digitalSignature"),
        eku(SERVER_AUTH),
        san(*(names or [dns("gateway.example.com")])),
    ]


def root(cn="Conformance Root CA", key=None, exts=None, **kw):
    return issue(cn, key or ec_key(), None, ca_exts() if exts is None else exts, **kw)


def inter(parent, cn="Conformance Intermediate CA", key=None, exts=None, **kw):
    return issue(cn, key or ec_key(), parent, ca_exts() if exts is None else exts, **kw)


def leaf(parent, key=None, exts=None, subject="gateway.example.com", **kw):
    return issue(subject, key or ec_key(), parent, server_exts() if exts is None else exts, **kw)


# --- cases ---------------------------------------------------------------------------------

CASES = []  # (name, class, what)


def servable(d):
    """Whether `openssl s_server` can serve the case to a default `openssl s_client`: a handshake
    completes (whatever the verification says), with the server at security level 0 as the
    online tests run it. Loopback only; every wait is bounded."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www", "-cipher", "DEFAULT:@SECLEVEL=0",
           "-cert", str(d / "leaf.pem"), "-key", str(d / "leaf.key.pem")]  # fmt: skip
    if (d / "chain.pem").stat().st_size:
        cmd += ["-cert_chain", str(d / "chain.pem")]
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            if server.poll() is not None:
                return False  # s_server refused the certificate or key
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
        client = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(d / "ca.pem")],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        return "Verify return code:" in client.stdout and "Cipher is (NONE)" not in client.stdout
    finally:
        server.kill()
        server.wait()


ONLY = set()  # gen.py --only CASE...: the cases to write (empty: all)


def emit(case, cls, what, leaf_cert, chain, anchors, **options):
    """Writes one case directory: the leaf, what a server sends after it, the anchors, options."""
    if ONLY and case not in ONLY:
        CASES.append((case, cls, what))
        return
    d = OUT / case
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    (d / "leaf.pem").write_text(leaf_cert.pem())
    (d / "leaf.key.pem").write_bytes(leaf_cert.key.pem)
    (d / "chain.pem").write_text("".join(c.pem() for c in chain))
    (d / "ca.pem").write_text("".join(c.pem() for c in anchors))
    lines = [f"attime={ATTIME}"] + [f"{k}={v}" for k, v in options.items()]
    (d / "case.txt").write_text("\n".join(lines) + "\n")
    if not servable(d):
        lines.append("online=no")
        (d / "case.txt").write_text("\n".join(lines) + "\n")
    CASES.append((case, cls, what))


def simple(case, cls, what, inter_key=None, leaf_key=None, md="sha256", inter_exts=None, leaf_exts=None, **options):
    """root -> intermediate -> leaf with the named parts changed; the intermediate is sent."""
    r = root()
    i = inter(r, key=inter_key, exts=inter_exts)
    lf = leaf(i, key=leaf_key, exts=leaf_exts, md=md)
    emit(case, cls, what, lf, [i], [r], **options)


def signatures():
    cls = "signatures"
    for curve, md, level in [
        ("P-256", "sha1", 1),
        ("P-192", "sha256", 2),
        ("P-192", "sha1", 1),
        ("P-224", "sha224", None),
        ("P-256", "sha384", None),
        ("P-256", "sha512", None),
        ("P-384", "sha384", None),
        ("P-521", "sha512", None),
        ("secp256k1", "sha256", None),
        ("brainpoolP256r1", "sha256", None),
    ]:
        opts = {"auth_level": level} if level else {}
        simple(
            f"sig-ecdsa-{curve.lower().replace('-', '')}-{md}",
            cls,
            f"intermediate's key {curve}, leaf signed ECDSA with {md.upper()}",
            inter_key=ec_key(curve),
            md=md,
            **opts,
        )
    for curve in ["P-192", "P-224", "secp256k1", "brainpoolP256r1"]:
        simple(
            f"sig-ecdsa-{curve.lower().replace('-', '')}-leaf-key",
            cls,
            f"leaf's key {curve} (signatures ECDSA P-256 SHA-256)",
            leaf_key=ec_key(curve),
            **({"auth_level": 2} if curve == "P-192" else {}),
        )
    simple("sig-dsa-1024-sha1", cls, "intermediate's key DSA-1024, leaf signed DSA with SHA-1",
           inter_key=dsa_key(1024), md="sha1", auth_level=1)  # fmt: skip
    simple("sig-dsa-2048-sha256", cls, "intermediate's key DSA-2048, leaf signed DSA with SHA-256",
           inter_key=dsa_key(2048), md="sha256")  # fmt: skip
    for md, level in [("sha1", 1), ("sha224", None), ("sha512", None)]:
        simple(
            f"sig-rsa-{md}",
            cls,
            f"intermediate's key RSA-2048, leaf signed PKCS#1 v1.5 with {md.upper()}",
            inter_key=rsa_key(2048),
            md=md,
            **({"auth_level": level} if level else {}),
        )
    simple("sig-rsa-pss-sha256", cls,
           "intermediate's key RSA-2048 (rsaEncryption), leaf signed RSASSA-PSS SHA-256, MGF1 SHA-256, salt 32",
           inter_key=rsa_key(2048), md="pss-sha256")  # fmt: skip
    simple("sig-rsa-pss-key", cls,
           "intermediate's key RSA-PSS (rsassaPss SPKI, no parameters), leaf signed RSASSA-PSS SHA-256",
           inter_key=rsa_pss_key(False), md="pss-sha256")  # fmt: skip
    simple("sig-rsa-pss-key-params", cls,
           "intermediate's key RSA-PSS restricted to SHA-256/MGF1-SHA-256/salt 32, leaf signed so",
           inter_key=rsa_pss_key(True), md="pss-sha256")  # fmt: skip
    simple("sig-rsa-pss-leaf-key", cls, "leaf's key RSA-PSS (rsassaPss SPKI with parameters)",
           leaf_key=rsa_pss_key(True))  # fmt: skip
    for bits in [1024, 1536]:
        simple(f"sig-rsa-{bits}-leaf-key", cls, f"leaf's key RSA-{bits}",
               leaf_key=rsa_key(bits), auth_level=2)  # fmt: skip
        simple(f"sig-rsa-{bits}-issuer", cls,
               f"intermediate's key RSA-{bits}, leaf signed PKCS#1 v1.5 SHA-256",
               inter_key=rsa_key(bits), auth_level=2)  # fmt: skip
    r = root(key=rsa_key(1024))
    i = inter(r)
    emit("sig-rsa-1024-anchor", cls, "the trust anchor's key RSA-1024 (it signs the intermediate, SHA-256)",
         leaf(i), [i], [r], auth_level=2)  # fmt: skip
    simple("sig-ed448", cls, "intermediate's key Ed448, leaf signed Ed448", inter_key=ed448_key())
    simple("sig-ed448-leaf-key", cls, "leaf's key Ed448", leaf_key=ed448_key())
    simple("sig-ec-explicit-leaf-key", cls, "leaf's key P-256 with explicit curve parameters in its SPKI",
           leaf_key=ec_explicit_key())  # fmt: skip
    simple("sig-ec-explicit-issuer", cls,
           "intermediate's key P-256 with explicit curve parameters, leaf signed ECDSA SHA-256",
           inter_key=ec_explicit_key())  # fmt: skip


def algorithms():
    """The signature algorithms OpenSSL 3.0 verifies beyond the common ones, and two it does not
    (MD4, an unknown OID): the generic ECDSA verifier's curves, RSA-PSS parameters, MD5, SHA-3,
    SM2 (class `signatures`, after signatures())."""
    cls = "signatures"
    # Weak digests at level 1, as sig-rsa-sha1: the case's own options then reject, as rustls does.
    simple("sig-rsa-md5", cls, "intermediate's key RSA-2048, leaf signed PKCS#1 v1.5 with MD5",
           inter_key=rsa_key(2048), md="md5", auth_level=1)  # fmt: skip
    simple("sig-rsa-md4", cls,
           "intermediate's key RSA-2048, leaf signed PKCS#1 v1.5 with MD4 (OpenSSL's legacy provider only)",
           inter_key=openssl_rsa_key(2048), md="md4")  # fmt: skip
    simple("sig-unknown-oid", cls,
           f"leaf's signature algorithm an OID no one knows ({UNKNOWN_SIG_OID}; the bytes PKCS#1 v1.5 SHA-256)",
           inter_key=rsa_key(2048), md="unknown")  # fmt: skip
    simple("sig-rsa-pss-1024", cls, "intermediate's key RSA-1024, leaf signed RSASSA-PSS SHA-256",
           inter_key=rsa_key(1024), md="pss-sha256")  # fmt: skip
    simple("sig-rsa-pss-sha1-salt20", cls,
           "leaf signed RSASSA-PSS with the parameters' defaults (SHA-1, MGF1 SHA-1, salt 20), none spelt",
           inter_key=rsa_key(2048), md="pss-default")  # fmt: skip
    simple("sig-rsa-pss-sha256-salt0", cls, "leaf signed RSASSA-PSS SHA-256, MGF1 SHA-256, salt 0",
           inter_key=rsa_key(2048), md="pss-sha256-sha256-0")  # fmt: skip
    simple("sig-rsa-pss-mgf-sha1", cls, "leaf signed RSASSA-PSS SHA-256 with MGF1 SHA-1, salt 32",
           inter_key=rsa_key(2048), md="pss-sha256-sha1-32")  # fmt: skip
    simple("sig-rsa-pss-spki", cls,
           "intermediate's key RSA-PSS (rsassaPss SPKI) restricted to SHA-512/MGF1-SHA-512/salt 64, leaf signed so",
           inter_key=rsa_pss_key(True, md="sha512", salt=64), md="pss-sha512-sha512-64")  # fmt: skip
    simple("sig-rsa-pss-spki-1024", cls, "intermediate's key RSA-PSS-1024 (rsassaPss SPKI), leaf signed RSASSA-PSS SHA-256",
           inter_key=rsa_pss_key(False, bits=1024), md="pss-sha256")  # fmt: skip
    for curve, md in [
        ("brainpoolP512r1", "sha512"),
        ("secp160r1", "sha256"),
        ("prime239v1", "sha256"),
        ("brainpoolP320t1", "sha384"),
        ("sect233k1", "sha256"),
        ("sect163r2", "sha1"),
        ("c2pnb176v1", "sha256"),
    ]:
        simple(f"sig-ecdsa-{curve.lower()}-{md}" if curve == "brainpoolP512r1" else f"sig-ecdsa-{curve.lower()}",
               cls, f"intermediate's key {curve}, leaf signed ECDSA with {md.upper()}",
               inter_key=openssl_ec_key(curve), md=md, **({"auth_level": 1} if md == "sha1" else {}))  # fmt: skip
    simple("sig-ecdsa-sect233k1-leaf-key", cls, "leaf's key sect233k1 (signatures ECDSA P-256 SHA-256)",
           leaf_key=openssl_ec_key("sect233k1"))  # fmt: skip
    simple("sig-ec-explicit-unnamed", cls,
           "intermediate's key brainpoolP320r1 with explicit parameters (no RustCrypto curve), leaf signed ECDSA SHA-256",
           inter_key=openssl_ec_key("brainpoolP320r1", explicit=True))  # fmt: skip
    simple("sig-ec-explicit-binary", cls,
           "intermediate's key sect283k1 with explicit parameters, leaf signed ECDSA SHA-384",
           inter_key=openssl_ec_key("sect283k1", explicit=True), md="sha384")  # fmt: skip
    simple("sig-rsa-sha3-256", cls, "intermediate's key RSA-2048, leaf signed PKCS#1 v1.5 with SHA3-256",
           inter_key=openssl_rsa_key(2048), md="sha3-256")  # fmt: skip
    simple("sig-ecdsa-sha3-384", cls, "intermediate's key P-256, leaf signed ECDSA with SHA3-384",
           inter_key=openssl_ec_key("P-256"), md="sha3-384")  # fmt: skip
    simple("sig-dsa-sha512", cls, "intermediate's key DSA-2048, leaf signed DSA with SHA-512",
           inter_key=dsa_key(2048), md="sha512")  # fmt: skip
    for curve in ["P-256", "sect233k1"]:
        key = ec_key(curve) if curve == "P-256" else openssl_ec_key(curve)
        spki = bytearray(key.spki)
        spki[-1] ^= 1  # the point's last byte: y no longer fits x
        key.spki, key.key_id = bytes(spki), hashlib.sha1(bytes(spki)).digest()
        simple(f"sig-ec-off-curve-issuer-{curve.lower().replace('-', '')}", cls,
               f"intermediate's key a {curve} point off the curve (the root signed it so), leaf signed by its private key",
               inter_key=key)  # fmt: skip
    key = ec_key("P-256")
    spki = bytearray(key.spki)
    spki[-1] ^= 1  # the point's last byte: y no longer fits x
    key.spki, key.key_id = bytes(spki), hashlib.sha1(bytes(spki)).digest()
    simple("sig-ec-off-curve-leaf-p256", cls,
           "leaf's key a P-256 point off the curve (the intermediate signed it so)",
           leaf_key=key)  # fmt: skip
    simple("sig-sm2", cls, "intermediate's key SM2, leaf signed SM2 with SM3 (no distinguishing ID)",
           inter_key=openssl_ec_key("SM2"))  # fmt: skip


def extensions():
    cls = "extensions"
    dup_san = san(dns("gateway.example.com"))
    for case, what, exts in [
        ("ext-dup-bc-leaf", "leaf with basicConstraints twice", server_exts() + [bc(False, critical=False)]),
        ("ext-dup-san-leaf", "leaf with subjectAltName twice", server_exts() + [dup_san]),
        ("ext-dup-eku-leaf", "leaf with extendedKeyUsage twice", server_exts() + [eku(SERVER_AUTH)]),
        ("ext-dup-unknown-leaf", "leaf with a private non-critical extension twice",
         server_exts() + [ext("1.3.6.1.4.1.55555.2", tlv(0x0C, b"x"))] * 2),
        ("ext-bad-san-leaf", "leaf whose SAN is truncated inside its OCTET STRING",
         server_exts()[:3] + [truncated(dup_san)]),
        ("ext-bad-ku-leaf", "leaf whose keyUsage is truncated",
         [server_exts()[0], truncated(ku("digitalSignature"))] + server_exts()[2:]),
        ("ext-bad-bc-leaf", "leaf whose basicConstraints is truncated",
         [truncated(bc(False, critical=False))] + server_exts()[1:]),
        ("ext-bad-nc-leaf", "leaf carrying a truncated nameConstraints",
         server_exts() + [truncated(nc([dns("example.com")]))]),
        ("ext-bad-eku-leaf", "leaf whose extendedKeyUsage is truncated",
         server_exts()[:2] + [truncated(eku(SERVER_AUTH))] + server_exts()[3:]),
        ("ext-empty-eku-leaf", "leaf whose extendedKeyUsage is an empty SEQUENCE",
         server_exts()[:2] + [ext(EKU, seq())] + server_exts()[3:]),
        ("ext-empty-ku-leaf", "leaf whose keyUsage has no bit set",
         [server_exts()[0], ku()] + server_exts()[2:]),
        ("ext-empty-san-leaf", "leaf whose subjectAltName is an empty SEQUENCE",
         server_exts()[:3] + [ext(SAN, seq())]),
        ("ext-pathlen-non-ca-leaf", "leaf with basicConstraints CA:FALSE, pathlen:0",
         [bc(False, 0, critical=False)] + server_exts()[1:]),
    ]:  # fmt: skip
        simple(case, cls, what, leaf_exts=exts)
    for case, what, exts in [
        ("ext-dup-bc-inter", "intermediate with basicConstraints twice", ca_exts() + [bc(True)]),
        ("ext-dup-ku-inter", "intermediate with keyUsage twice", ca_exts() + [ku("keyCertSign", "cRLSign")]),
        ("ext-dup-san-inter", "intermediate with subjectAltName twice",
         ca_exts() + [san(dns("ca.example.com"))] * 2),
        ("ext-bad-san-inter", "intermediate whose SAN is truncated",
         ca_exts() + [truncated(san(dns("ca.example.com")))]),
        ("ext-bad-ku-inter", "intermediate whose keyUsage is truncated",
         [bc(True), truncated(ku("keyCertSign", "cRLSign"))]),
        ("ext-bad-bc-inter", "intermediate whose basicConstraints is truncated",
         [truncated(bc(True)), ku("keyCertSign", "cRLSign")]),
        ("ext-bad-nc-inter", "intermediate whose nameConstraints is truncated",
         ca_exts() + [truncated(nc([dns("example.com")]))]),
        ("ext-negative-pathlen-inter", "intermediate with basicConstraints CA:TRUE, pathlen:-1",
         [bc(True, -1), ku("keyCertSign", "cRLSign")]),
    ]:  # fmt: skip
        simple(case, cls, what, inter_exts=exts)


def name_constraints():
    cls = "name constraints"

    def case(name_, what, permitted=(), excluded=(), leaf_names=None, subject="gateway.example.com", **options):
        r = root()
        i = inter(r, cn="Constrained Intermediate CA", exts=ca_exts() + [nc(permitted, excluded)])
        exts = server_exts(leaf_names) if leaf_names != [] else server_exts()[:3]
        emit(name_, cls, what, leaf(i, exts=exts, subject=subject), [i], [r], **options)

    bad_mask = raw_ip(bytes([192, 0, 2, 0, 255, 255, 255]))
    case("nc-ip-bad-mask", "permitted IP constraint of 7 bytes (wrong-length mask); leaf has an IP SAN",
         [bad_mask], leaf_names=[dns("gateway.example.com"), ip("192.0.2.10")])  # fmt: skip
    case("nc-ip-bad-mask-no-ip-san", "the same constraint; the leaf has only a DNS SAN", [bad_mask])
    case("nc-leaf-ip-bad-length", "permitted IP:192.0.2.0/24; the leaf's IP SAN has 5 bytes",
         [ip("192.0.2.0/24")], leaf_names=[dns("gateway.example.com"), raw_ip(bytes([192, 0, 2, 10, 0]))])  # fmt: skip
    case("nc-othername", "permitted otherName (UPN) constraint; the leaf has a UPN otherName SAN",
         [subtree(othername(UPN, "gw@example.com"))],
         leaf_names=[dns("gateway.example.com"), othername(UPN, "gw@example.com")])  # fmt: skip
    case("nc-othername-no-othername-san", "permitted otherName (UPN) constraint; the leaf has only a DNS SAN",
         [othername(UPN, "gw@example.com")])  # fmt: skip
    case("nc-subtree-minimum", "permitted DNS:example.com with minimum 1 (RFC 5280: must be 0)",
         [subtree(dns("example.com"), minimum=1)])  # fmt: skip
    # OpenSSL refuses when names x constraints > NAME_CHECK_MAX (1 << 20): the leaf has 1 subject
    # entry and 1023 SANs (1024 names); 1024 constraints is the limit, 1025 one over.
    many_names = [dns("gateway.example.com")] + [dns(f"n{k}.example.com") for k in range(1022)]
    for n_constraints, case_name, what in [
        (1024, "nc-work-at-limit", "1024 names x 1024 constraints = 1 << 20, OpenSSL's limit"),
        (1025, "nc-work-over-limit", "1024 names x 1025 constraints, one row over OpenSSL's limit"),
    ]:
        permitted = [dns("example.com")] + [dns(f"c{k}.example.net") for k in range(n_constraints - 1)]
        case(case_name, what, permitted, leaf_names=many_names)
    for name_, what, permitted, excluded, names in [
        ("nc-dns-permitted", "permitted DNS:example.com, leaf gateway.example.com",
         [dns("example.com")], [], None),
        ("nc-dns-exact", "permitted DNS:gateway.example.com, leaf the same name",
         [dns("gateway.example.com")], [], None),
        ("nc-dns-not-label-boundary", "permitted DNS:example.com, leaf gatewayexample.com",
         [dns("example.com")], [], [dns("gatewayexample.com")]),
        ("nc-dns-leading-dot-apex", "permitted DNS:.example.com, leaf example.com",
         [dns(".example.com")], [], [dns("example.com")]),
        ("nc-dns-leading-dot-sub", "permitted DNS:.example.com, leaf gateway.example.com",
         [dns(".example.com")], [], None),
        ("nc-dns-case", "permitted DNS:EXAMPLE.COM, leaf gateway.example.com",
         [dns("EXAMPLE.COM")], [], None),
        ("nc-dns-trailing-dot", "permitted DNS:example.com, leaf gateway.example.com. (trailing dot)",
         [dns("example.com")], [], [dns("gateway.example.com.")]),
        ("nc-dns-excluded", "excluded DNS:gateway.example.com", [], [dns("gateway.example.com")], None),
        ("nc-dns-excluded-parent", "excluded DNS:example.com, leaf gateway.example.com",
         [], [dns("example.com")], None),
        ("nc-ip-permitted", "permitted IP:192.0.2.0/24, leaf IP 192.0.2.10",
         [ip("192.0.2.0/24")], [], [dns("gateway.example.com"), ip("192.0.2.10")]),
        ("nc-ip-outside", "permitted IP:192.0.2.0/24, leaf IP 198.51.100.10",
         [ip("192.0.2.0/24")], [], [dns("gateway.example.com"), ip("198.51.100.10")]),
        ("nc-ip-excluded", "excluded IP:192.0.2.0/24, leaf IP 192.0.2.10",
         [], [ip("192.0.2.0/24")], [dns("gateway.example.com"), ip("192.0.2.10")]),
        ("nc-ip-v6-leaf-v4-constraint", "permitted IP:192.0.2.0/24, leaf IP 2001:db8::10",
         [ip("192.0.2.0/24")], [], [dns("gateway.example.com"), ip("2001:db8::10")]),
        ("nc-email-permitted", "permitted email:example.com, leaf email gw@example.com",
         [email("example.com")], [], [dns("gateway.example.com"), email("gw@example.com")]),
        ("nc-email-subdomain", "permitted email:example.com, leaf email gw@sub.example.com",
         [email("example.com")], [], [dns("gateway.example.com"), email("gw@sub.example.com")]),
        ("nc-email-dot-domain", "permitted email:.example.com, leaf email gw@sub.example.com",
         [email(".example.com")], [], [dns("gateway.example.com"), email("gw@sub.example.com")]),
        ("nc-email-mailbox", "permitted email:gw@example.com, leaf email other@example.com",
         [email("gw@example.com")], [], [dns("gateway.example.com"), email("other@example.com")]),
        ("nc-uri-permitted", "permitted URI:.example.com, leaf URI https://gateway.example.com/x",
         [uri(".example.com")], [], [dns("gateway.example.com"), uri("https://gateway.example.com/x")]),
        ("nc-uri-outside", "permitted URI:example.com, leaf URI https://gateway.example.com/x",
         [uri("example.com")], [], [dns("gateway.example.com"), uri("https://gateway.example.com/x")]),
        ("nc-uri-urn", "permitted URI:example.com, leaf URI urn:example:gateway (no host)",
         [uri("example.com")], [], [dns("gateway.example.com"), uri("urn:example:gateway")]),
    ]:  # fmt: skip
        case(name_, what, permitted, excluded, leaf_names=names)
    example_o = name(("O", "Example Devices"))
    case("nc-email-subject", "permitted email:example.com, leaf subject emailAddress=gw@other.example",
         [email("example.com")], subject=name(("emailAddress", "gw@other.example"), ("CN", "gateway.example.com")))  # fmt: skip
    case("nc-dirname-permitted", "permitted dirName O=Example Devices, leaf O=Example Devices, CN=...",
         [dirname(example_o)], subject=name(("O", "Example Devices"), ("CN", "gateway.example.com")))  # fmt: skip
    case("nc-dirname-outside", "permitted dirName O=Example Devices, leaf O=Other, CN=...",
         [dirname(example_o)], subject=name(("O", "Other"), ("CN", "gateway.example.com")))  # fmt: skip
    case("nc-cn-fallback", "permitted DNS:example.com, leaf without SAN, CN=gateway.other.example",
         [dns("example.com")], leaf_names=[], subject="gateway.other.example")  # fmt: skip
    case("nc-cn-not-hostname", "permitted DNS:example.com, leaf without SAN, CN=Gateway Device",
         [dns("example.com")], leaf_names=[], subject="Gateway Device")  # fmt: skip
    r = root(exts=ca_exts() + [nc([dns("example.net")])])
    i = inter(r)
    emit("nc-in-anchor", cls, "the trust anchor permits only DNS:example.net; leaf gateway.example.com",
         leaf(i), [i], [r])  # fmt: skip


def long_chains(limit):
    cls = "long and looping chains"

    def ladder(n, root_cert):
        """root -> n intermediates -> leaf; returns (leaf, intermediates as a server sends them)."""
        chain = [root_cert]
        for k in range(n):
            chain.append(inter(chain[-1], cn=f"Ladder CA {k + 1}"))
        return leaf(chain[-1]), list(reversed(chain[1:]))

    r = root()
    lf, sent = ladder(limit, r)
    emit("chain-depth-at-limit", cls, f"{limit} intermediates (OpenSSL's default depth limit)", lf, sent, [r])
    emit("chain-depth-at-limit-root-sent", cls,
         f"{limit} intermediates and their root sent; the CA file holds another root",
         lf, sent + [r], [root("Other Root CA")])  # fmt: skip
    emit("chain-depth-at-limit-no-root", cls, f"{limit} intermediates, their root nowhere",
         lf, sent, [root("Other Root CA")])  # fmt: skip
    lf, sent = ladder(limit - 1, r)
    emit("chain-depth-below-limit-root-sent", cls,
         f"{limit - 1} intermediates and their root sent; the CA file holds another root",
         lf, sent + [r], [root("Other Root CA")])  # fmt: skip
    lf, sent = ladder(limit + 1, r)
    emit("chain-depth-over-limit", cls, f"{limit + 1} intermediates, one over the limit", lf, sent, [r])
    emit("chain-depth-over-limit-root-sent", cls,
         f"{limit + 1} intermediates and their root sent; the CA file holds another root",
         lf, sent + [r], [root("Other Root CA")])  # fmt: skip
    emit("chain-depth-over-limit-no-root", cls, f"{limit + 1} intermediates, their root nowhere",
         lf, sent, [root("Other Root CA")])  # fmt: skip

    def loop(names, anchor=None):
        """CAs signing each other in a ring: names[k] is signed by names[k-1], names[0] by the last."""
        keys = [ec_key() for _ in names]
        subjects = [name(n) for n in names]
        certs = []
        for k, n in enumerate(names):
            issuer = Cert(b"", subjects[k - 1], keys[k - 1])
            certs.append(issue(n, keys[k], issuer, ca_exts()))
        return certs

    a, b = loop(["Loop CA A", "Loop CA B"])
    emit("chain-loop-two", cls, "A signs B, B signs A; leaf under A; both sent; another root trusted",
         leaf(a), [a, b], [root("Other Root CA")])  # fmt: skip
    a, b, c = loop(["Loop CA A", "Loop CA B", "Loop CA C"])
    emit("chain-loop-three", cls, "A signs B signs C signs A; leaf under A; all sent; another root trusted",
         leaf(a), [a, b, c], [root("Other Root CA")])  # fmt: skip
    k1, k2 = ec_key(), ec_key()
    x1 = issue("Loop CA X", k1, Cert(b"", name("Loop CA X"), k2), ca_exts())
    x2 = issue("Loop CA X", k2, Cert(b"", name("Loop CA X"), k1), ca_exts())
    emit("chain-loop-self-issued", cls,
         "two CAs named X with keys 1 and 2, each signed by the other (self-issued, not self-signed); leaf under key 1",
         leaf(x1), [x1, x2], [root("Other Root CA")])  # fmt: skip
    r = root()
    ka, kb = ec_key(), ec_key()
    a = inter(r, cn="Loop CA A", key=ka)
    b = issue("Loop CA B", kb, a, ca_exts())
    a_by_b = issue("Loop CA A", ka, b, ca_exts())
    emit("chain-loop-with-path", cls,
         "A (signed by the root) signs B, B signs A again; A-by-B sent first, then B, then A; the root trusted",
         leaf(a), [a_by_b, b, a], [r])  # fmt: skip


def anchors():
    cls = "anchors"

    def case(name_, what, exts, direct=False, **kw):
        r = root(exts=exts, **kw)
        if direct:
            emit(name_, cls, what, leaf(r), [], [r])
        else:
            i = inter(r)
            emit(name_, cls, what, leaf(i), [i], [r])

    case("anchor-no-keycertsign", "root CA:TRUE, keyUsage cRLSign only", [bc(True), ku("cRLSign", "digitalSignature")])
    case("anchor-no-keycertsign-direct", "the same root, issuing the leaf itself",
         [bc(True), ku("cRLSign", "digitalSignature")], direct=True)  # fmt: skip
    case("anchor-ca-false", "root with basicConstraints CA:FALSE", [bc(False), ku("keyCertSign", "cRLSign")])
    case("anchor-no-bc", "v3 root without basicConstraints (keyUsage keyCertSign)", [ku("keyCertSign", "cRLSign")])
    case("anchor-v1", "X.509 v1 root (no extensions)", [], version=1, ski=False, aki=False)
    case("anchor-v1-with-extensions", "X.509 v1 root that carries extensions (basicConstraints, keyUsage)",
         ca_exts(), version=1)  # fmt: skip
    case("anchor-pathlen-non-ca", "root with basicConstraints CA:FALSE, pathlen:0",
         [bc(False, 0), ku("keyCertSign", "cRLSign")])  # fmt: skip
    case("anchor-pathlen-zero", "root with pathlen:0 above an intermediate", ca_exts(pathlen=0))
    case("anchor-empty-ku", "root whose keyUsage has no bit set", [bc(True), ku()])
    case("anchor-empty-ku-direct", "the same root, issuing the leaf itself", [bc(True), ku()], direct=True)
    case("anchor-dup-bc", "root with basicConstraints twice", ca_exts() + [bc(True)])
    case("anchor-bad-ku", "root whose keyUsage is truncated", [bc(True), truncated(ku("keyCertSign", "cRLSign"))])


def issuer_keys():
    cls = "issuer key"
    for with_aki in [True, False]:
        suffix = "" if with_aki else "-no-akid"
        note = "" if with_aki else " (no SKI/AKI anywhere)"
        real = root(ski=with_aki, aki=False)
        other = root(ski=with_aki, aki=False)  # same name, another key
        emit(f"issuer-key-mismatch-anchor{suffix}", cls,
             f"leaf signed by a key of 'Conformance Root CA'; the CA file holds that name with another key{note}",
             leaf(real, ski=with_aki, aki=with_aki), [], [other])  # fmt: skip
        r = root(ski=with_aki, aki=False)
        signer = inter(r, ski=with_aki, aki=with_aki)
        sent = inter(r, ski=with_aki, aki=with_aki)  # same name, another key
        emit(f"issuer-key-mismatch-intermediate{suffix}", cls,
             f"leaf signed by a key of 'Conformance Intermediate CA'; the one sent has another key{note}",
             leaf(signer, ski=with_aki, aki=with_aki), [sent], [r])  # fmt: skip


def main():
    if sys.argv[1:2] == ["--only"]:
        ONLY.update(sys.argv[2:])
    for d in OUT.iterdir():
        if not ONLY and d.is_dir() and (d / "case.txt").exists():
            shutil.rmtree(d)
    signatures()
    algorithms()
    extensions()
    name_constraints()
    long_chains(DEPTH_LIMIT)
    anchors()
    issuer_keys()
    with open(OUT / "cases.tsv", "w") as f:
        f.write("case\tclass\twhat\n")
        f.writelines("\t".join(row) + "\n" for row in CASES)
    unknown = ONLY - {c for c, _, _ in CASES}
    if unknown:
        sys.exit(f"gen.py: no such case: {', '.join(sorted(unknown))}")
    print(f"{len(ONLY) or len(CASES)} cases written to {OUT}")


if __name__ == "__main__":
    os.umask(0o022)
    main()
