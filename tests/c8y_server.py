#!/usr/bin/env python3
"""A fake Cumulocity tenant for pki's end-to-end tests (`tests/e2e/c8y.rs` starts it).

It implements the trusted-certificate contract pki relies on, checking what it is sent for real:

  GET    /tenant/currentTenant                                     -> {"name": TENANT, ...}
  GET    /tenant/tenants/{t}/trusted-certificates[?pageSize&currentPage]
  POST   /tenant/tenants/{t}/trusted-certificates                  -> 201 | 409 | 422
  GET    /tenant/tenants/{t}/trusted-certificates/{fingerprint}
  DELETE /tenant/tenants/{t}/trusted-certificates/{fingerprint}    -> 204 | 404
  POST   /tenant/tenants/{t}/trusted-certificates-pop/{fp}/verification-code
  POST   /tenant/tenants/{t}/trusted-certificates-pop/{fp}/pop     -> 200 | 422
  GET    /tenant/trusted-certificates/settings/crl                 -> 200 application/pkix-crl
  PUT    /tenant/trusted-certificates/settings/crl                 -> 200 | 400

The offline revocation list is kept for real: PUT `{"crls": [{"serialNumberInHex",
"revocationDate"}]}` adds entries (never removes one: neither can a real tenant), all or none of
a body: 400 for a body that is not that shape, a serial that is not hex (or longer than 20
octets), or a date that is not ISO 8601 (as the tenant would), the serial kept upper-case without
leading zeros; no date means now. GET answers the list as a DER CRL made by `openssl ca -gencrl`
(an empty list is a valid CRL), signed with --crl-cert/--crl-key when given (a CA whose devices a
broker checks against it: tests/e2e/c8y/crl.rs hands it the CA that issued them, so that a real
mosquitto enforces exactly what the tenant holds), else with a key of the tenant's own made on
first use. Reading it needs the read or the admin role, adding to it the admin role.

Basic auth as USER or TENANT/USER (401 otherwise); changing trusted certificates needs the role
ROLE_TENANT_MANAGEMENT_ADMIN, reading them ROLE_TENANT_MANAGEMENT_READ or the admin role (403).
An uploaded certificate is examined with `openssl x509` (422 when it is not X.509 v3, not a CA,
or expired); a proof of possession is checked with `openssl dgst -sha256 -verify` against the
certificate's public key.

Every request is appended to --log as one JSON line (method, path, headers, body, status,
response).
--fail N answers the first N requests (of --fail-method only, when given) with --fail-status (503)
to test retries.
--verification-code CODE hands out CODE instead of a random one (a hostile tenant that asks for a
signature over a message of its choosing). --plain serves
plain HTTP (to test a client pointed at a server that speaks no TLS). Only the Python standard
library and the `openssl` command are used. On start it prints `READY <port>` on stdout.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ADMIN = "ROLE_TENANT_MANAGEMENT_ADMIN"
READ = "ROLE_TENANT_MANAGEMENT_READ"


class Tenant:
    """The tenant's state: users, trusted certificates, injected failures, the request log."""

    def __init__(self, args):
        self.id = args.tenant
        self.users = {}
        for spec in args.user:
            name, password, roles = (spec.split(":", 2) + [""])[:3]
            self.users[name] = (password, [r for r in roles.split(",") if r])
        self.certs = {}  # fingerprint -> record
        self.fail_left = args.fail
        self.fail_status = args.fail_status
        self.fail_method = args.fail_method
        self.verification_code = args.verification_code
        self.log_path = args.log
        self.lock = threading.Lock()
        self.revoked = {}  # serial (upper-case hex, no leading zeros) -> revocation date (UTC)
        self.crl_signer = (args.crl_cert, args.crl_key) if args.crl_cert else None
        self.work = os.path.dirname(os.path.abspath(args.log))
        self.crl_number = 0

    def log(self, entry):
        with self.lock:
            append_log(self.log_path, entry)

    def take_failure(self, method):
        with self.lock:
            if self.fail_left > 0 and self.fail_method in (None, method):
                self.fail_left -= 1
                return True
            return False


def error(status, code, message):
    return status, {"error": code, "message": message, "info": "https://cumulocity.com/api/core/"}


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True)


def pem_body(text):
    """The base64 body of certInPemFormat, with or without BEGIN/END lines."""
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    body = m.group(1) if m else text
    return "".join(body.split())


def examine(pem_text):
    """(record fields, None) for a certificate Cumulocity accepts, else (None, (status, body))."""
    try:
        der = base64.b64decode(pem_body(pem_text), validate=True)
    except (binascii.Error, ValueError):
        return None, error(422, "core/Unprocessable Entity", "Cannot parse certificate: invalid base64")
    text = openssl("x509", "-inform", "DER", "-noout", "-text", "-nameopt", "RFC2253", data=der)
    if text.returncode != 0 or not der:
        return None, error(422, "core/Unprocessable Entity", "Cannot parse certificate: not an X.509 certificate")
    text = text.stdout.decode()
    version = re.search(r"Version: (\d+)", text)
    version = int(version.group(1)) if version else 0
    if version != 3:
        return None, error(422, "core/Unprocessable Entity",
                           f"Certificate is not an X.509 v3 certificate (version {version})")
    if not re.search(r"Basic Constraints:.*?\n\s*CA:TRUE", text):
        return None, error(422, "core/Unprocessable Entity",
                           "Certificate is not a CA certificate (basicConstraints CA:TRUE is missing)")
    fields = {}
    out = openssl("x509", "-inform", "DER", "-noout", "-subject", "-issuer", "-serial",
                  "-startdate", "-enddate", "-nameopt", "RFC2253", data=der).stdout.decode()
    for line in out.splitlines():
        k, _, v = line.partition("=")
        fields[k.strip()] = v.strip()
    not_after = datetime.strptime(fields["notAfter"], "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
    not_before = datetime.strptime(fields["notBefore"], "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
    if openssl("x509", "-inform", "DER", "-noout", "-checkend", "0", data=der).returncode != 0:
        return None, error(422, "core/Unprocessable Entity",
                           f"Certificate expired on {not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    alg = re.search(r"Signature Algorithm: (\S+)", text)
    return {
        "fingerprint": hashlib.sha1(der).hexdigest(),
        "serialNumber": fields.get("serial", "").lower(),
        "subject": fields.get("subject", ""),
        "issuer": fields.get("issuer", ""),
        "notBefore": not_before.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "notAfter": not_after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "algorithmName": alg.group(1) if alg else "",
        "version": 3,
        "certInPemFormat": base64.b64encode(der).decode(),
        "der": der,
    }, None


def public(record):
    return {k: v for k, v in record.items() if k not in ("der", "code")}


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no access log on stderr, every method to `handle_any(method)`: the base of this
    tenant's handler and of `tests/hostile_tenant.py`'s."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    def handle_any(self, method):
        raise NotImplementedError


def append_log(path, entry):
    """Appends `entry` to the JSON-lines request log at `path` (the caller holds the lock that
    keeps writers one at a time)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def serve(handler, args, attach):
    """Serves `handler` on 127.0.0.1, on a free port: HTTPS with --cert and --key unless
    --plain, after `attach(server)` gave it its state; empties --log first, prints
    `READY <port>` once it listens, and serves until it is killed."""
    open(args.log, "w").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    attach(server)
    if not getattr(args, "plain", False):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


class Handler(QuietHandler):
    server_version = "FakeCumulocity/1.0"

    def handle_any(self, method):
        tenant = self.server.tenant
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        if tenant.take_failure(method):
            status, answer = error(tenant.fail_status, "general/Service Unavailable",
                                   "the tenant is under maintenance")
        else:
            status, answer = self.route(method, body)
        binary = isinstance(answer, Binary)
        tenant.log({
            "method": method,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "status": status,
            "response": answer.summary if binary else answer,
        })
        if binary:
            data = answer.data
        else:
            data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if binary:
            self.send_header("Content-Type", answer.content_type)
        elif answer is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        """(name, roles) of a valid Basic auth, else None."""
        tenant = self.server.tenant
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (binascii.Error, ValueError):
            return None
        if "/" in user:
            prefix, _, user = user.partition("/")
            if prefix != tenant.id:
                return None
        known = tenant.users.get(user)
        if not known or known[0] != password:
            return None
        return user, known[1]

    def route(self, method, body):
        tenant = self.server.tenant
        who = self.user()
        if who is None:
            return error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        _, roles = who
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if method == "GET" and parts == ["tenant", "currentTenant"]:
            return 200, {"name": tenant.id, "domainName": "localhost", "allowCreateTenants": False,
                         "self": f"/tenant/currentTenant"}
        if parts == ["tenant", "trusted-certificates", "settings", "crl"]:
            if method not in ("GET", "PUT"):
                return error(405, "general/Method Not Allowed", f"{method} is not allowed here")
            if ADMIN not in roles and (method == "PUT" or READ not in roles):
                return error(403, "security/Forbidden", "Access is denied")
            with tenant.lock:
                return self.revocations(method, body)
        if len(parts) < 4 or parts[:2] != ["tenant", "tenants"]:
            return error(404, "general/Not Found", f"No resource at {url.path}")
        if parts[2] != tenant.id:
            return error(404, "tenant/Not Found", f"Tenant with id {parts[2]} not found")
        writing = method != "GET"
        if (writing and ADMIN not in roles) or (not writing and ADMIN not in roles and READ not in roles):
            return error(403, "security/Forbidden", "Access is denied")
        kind, rest = parts[3], parts[4:]
        with tenant.lock:
            if kind == "trusted-certificates":
                return self.certificates(method, rest, body, parse_qs(url.query))
            if kind == "trusted-certificates-pop" and len(rest) == 2 and method == "POST":
                return self.pop(rest[0], rest[1], body)
        return error(404, "general/Not Found", f"No resource at {url.path}")

    def certificates(self, method, rest, body, query):
        certs = self.server.tenant.certs
        if not rest and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("certInPemFormat"), str):
                return error(422, "core/Unprocessable Entity", "certInPemFormat is required")
            record, failure = examine(body["certInPemFormat"])
            if failure:
                return failure
            if record["fingerprint"] in certs:
                return error(409, "core/Conflict",
                             f"Certificate with fingerprint {record['fingerprint']} already exists")
            status = body.get("status", "ENABLED")
            if status not in ("ENABLED", "DISABLED"):
                return error(422, "core/Unprocessable Entity", f"Invalid status {status}")
            record.update({
                "name": body.get("name") or record["subject"],
                "status": status,
                "autoRegistrationEnabled": bool(body.get("autoRegistrationEnabled", False)),
                "proofOfPossessionValid": False,
                "self": f"/tenant/tenants/{self.server.tenant.id}/trusted-certificates/{record['fingerprint']}",
            })
            certs[record["fingerprint"]] = record
            return 201, public(record)
        if not rest and method == "GET":
            size = int(query.get("pageSize", ["5"])[0])
            page = int(query.get("currentPage", ["1"])[0])
            items = [public(c) for c in certs.values()][(page - 1) * size: page * size]
            return 200, {"certificates": items, "statistics": {"pageSize": size, "currentPage": page}}
        if len(rest) == 1:
            record = certs.get(rest[0])
            if record is None:
                return error(404, "core/Not Found", f"Certificate with fingerprint {rest[0]} not found")
            if method == "GET":
                return 200, public(record)
            if method == "DELETE":
                del certs[rest[0]]
                return 204, None
        return error(405, "general/Method Not Allowed", f"{method} is not allowed here")

    def revocations(self, method, body):
        """The offline revocation list: GET as a DER CRL, PUT adds entries (all or none)."""
        tenant = self.server.tenant
        if method == "GET":
            der = make_crl(tenant)
            return 200, Binary("application/pkix-crl", der,
                               {"crl_bytes": len(der), "serials": sorted(tenant.revoked)})
        entries = body.get("crls") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            return bad_request("The request body must be {\"crls\": [...]}")
        added = {}
        for i, e in enumerate(entries):
            serial = e.get("serialNumberInHex") if isinstance(e, dict) else None
            if not isinstance(serial, str) or not re.fullmatch(r"[0-9A-Fa-f]+", serial) \
                    or len(serial.lstrip("0")) > 40:
                return bad_request(f"crls[{i}]: serialNumberInHex {serial!r} is not a hexadecimal serial number")
            date = e.get("revocationDate")
            if date is None:
                when = datetime.now(timezone.utc)
            else:
                when = iso_date(date)
                if when is None:
                    return bad_request(f"crls[{i}]: revocationDate {date!r} is not an ISO 8601 date")
            added[serial.lstrip("0").upper() or "0"] = when
        for serial, when in added.items():
            tenant.revoked.setdefault(serial, when)
        return 200, None

    def pop(self, fingerprint, step, body):
        record = self.server.tenant.certs.get(fingerprint)
        if record is None:
            return error(404, "core/Not Found", f"Certificate with fingerprint {fingerprint} not found")
        if step == "verification-code":
            record["code"] = self.server.tenant.verification_code or secrets.token_hex(16)
            until = datetime.now(timezone.utc) + timedelta(minutes=10)
            return 200, dict(public(record),
                             proofOfPossessionUnsignedVerificationCode=record["code"],
                             proofOfPossessionVerificationCodeUsableUntil=until.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        if step == "pop":
            code = record.get("code")
            if not code:
                return error(422, "core/Unprocessable Entity", "No verification code was generated for this certificate")
            signed = (body or {}).get("proofOfPossessionSignedVerificationCode", "")
            try:
                signature = base64.b64decode(signed, validate=True)
            except (binascii.Error, ValueError):
                return error(422, "core/Unprocessable Entity", "The signed verification code is not base64")
            if not verify(record["der"], code.encode(), signature):
                return error(422, "core/Unprocessable Entity", "Verification of the signed verification code failed")
            record["proofOfPossessionValid"] = True
            record.pop("code", None)
            return 200, public(record)
        return error(404, "general/Not Found", f"No step {step}")


class Binary:
    """An answer that is not JSON: its content type, its bytes, and what the log says of it."""

    def __init__(self, content_type, data, summary):
        self.content_type = content_type
        self.data = data
        self.summary = summary


def bad_request(message):
    return error(400, "general/Bad Request", message)


def iso_date(text):
    """The instant an ISO 8601 date-time (`2026-12-07T10:00:00.000Z`, or with an offset) names,
    else None."""
    if not isinstance(text, str) or not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)", text):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def make_crl(tenant):
    """The list as a DER CRL: `openssl ca -gencrl` over an index of the revoked serials, signed
    with --crl-cert/--crl-key, else with the tenant's own key (made on first use)."""
    work = tempfile.mkdtemp(prefix="tenant-crl-", dir=tenant.work)
    if tenant.crl_signer is None:
        cert, key = os.path.join(tenant.work, "tenant-crl-signer.pem"), os.path.join(tenant.work, "tenant-crl-signer.key")
        made = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-subj", f"/CN=Cumulocity tenant {tenant.id} offline revocation list", "-days", "30",
                       "-keyout", key, "-out", cert)
        if made.returncode != 0:
            raise RuntimeError(made.stderr.decode())
        tenant.crl_signer = (cert, key)
    cert, key = tenant.crl_signer
    tenant.crl_number += 1
    with open(os.path.join(work, "index.txt"), "w") as f:
        for serial, when in sorted(tenant.revoked.items()):
            padded = serial if len(serial) % 2 == 0 else "0" + serial
            f.write(f"R\t491231235959Z\t{when.strftime('%y%m%d%H%M%SZ')}\t{padded}\tunknown\t/CN={padded}\n")
    with open(os.path.join(work, "index.txt.attr"), "w") as f:
        f.write("unique_subject = no\n")
    with open(os.path.join(work, "crlnumber"), "w") as f:
        f.write(f"{tenant.crl_number:02X}\n")
    with open(os.path.join(work, "ca.cnf"), "w") as f:
        f.write(f"[ca]\ndefault_ca = tenant\n[tenant]\ndatabase = {work}/index.txt\n"
                f"crlnumber = {work}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n"
                f"certificate = {os.path.abspath(cert)}\nprivate_key = {os.path.abspath(key)}\n")
    pem = os.path.join(work, "crl.pem")
    r = openssl("ca", "-gencrl", "-batch", "-config", os.path.join(work, "ca.cnf"), "-out", pem)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())
    der = openssl("crl", "-in", pem, "-outform", "DER").stdout
    shutil.rmtree(work, ignore_errors=True)
    return der


def verify(der, message, signature):
    """`openssl dgst -sha256 -verify PUBKEY -signature SIG` over the code, as Cumulocity checks."""
    with tempfile.TemporaryDirectory() as d:
        pub = openssl("x509", "-inform", "DER", "-noout", "-pubkey", data=der).stdout
        paths = {}
        for name, data in (("pub.pem", pub), ("code", message), ("sig", signature)):
            paths[name] = os.path.join(d, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        r = openssl("dgst", "-sha256", "-verify", paths["pub.pem"], "-signature", paths["sig"], paths["code"])
        return r.returncode == 0 and b"Verified OK" in r.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", help="server certificate chain (PEM)")
    p.add_argument("--key", help="server key (PEM)")
    p.add_argument("--plain", action="store_true", help="serve plain HTTP")
    p.add_argument("--tenant", default="t12345")
    p.add_argument("--user", action="append", default=[], help="NAME:PASSWORD:ROLE,ROLE")
    p.add_argument("--log", required=True, help="JSON-lines file of every request")
    p.add_argument("--fail", type=int, default=0, help="answer the first N requests with --fail-status")
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--fail-method", help="inject the failures into requests of this method only")
    p.add_argument("--verification-code", help="the verification code to hand out (default: random)")
    p.add_argument("--crl-cert", help="the CA certificate the offline revocation list is signed as")
    p.add_argument("--crl-key", help="its key (default: a key of the tenant's own)")
    args = p.parse_args()

    def attach(server):
        server.tenant = Tenant(args)

    serve(Handler, args, attach)


if __name__ == "__main__":
    sys.exit(main())
