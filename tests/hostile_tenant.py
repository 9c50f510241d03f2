#!/usr/bin/env python3
"""A hostile Cumulocity tenant for pki's end-to-end tests (`tests/e2e/c8y/hostile.rs` starts it).

Where `tests/c8y_server.py` is an honest tenant, this one attacks the client: it answers with
bodies that never end or are far too large, listings whose pages never end, answers cut off in
the middle, redirects to cleartext, messages that echo the Authorization header, and names full
of terminal control characters. HTTPS on 127.0.0.1 with the certificate it is given; only the
Python standard library and the honest tenant's HTTP and TLS plumbing (`serve`, `QuietHandler`).

  --mode endless    every answer: 200, no length, a JSON document that never ends
  --mode huge       every answer: 200 with Content-Length --size (default 1 GiB), all of it sent
  --mode slow       every answer: 200, no length, one byte every 0.2 s, forever
  --mode cut        GET /tenant/currentTenant as usual; every other answer: 201 with a
                    Content-Length of 4000, 100 bytes of it, then the connection is closed
  --mode pages      GET /tenant/currentTenant as usual; every page of the trusted-certificate
                    listing is full (pageSize entries), whatever currentPage says
  --mode redirect   every answer: 302 to --location (with the request's path appended)
  --mode echo       the first answer is 503, later ones 401 (403 for DELETE), each message
                    quoting the Authorization header, the password and both Basic forms of it;
                    GET /tenant/currentTenant answers the tenant, and the listing holds one
                    certificate named with the password and its Basic forms
  --mode inject     the first answer is 503 with a message full of control characters; then the
                    tenant, a listing, an upload answer and (for DELETE) a 422 whose names,
                    subjects and messages carry ESC, BEL, CR, LF, NUL and C1 controls
  --mode absurd     the tenant as usual, and a listing of one certificate whose fingerprint,
                    notAfter, name and subject are 70,000 characters each (Python's format
                    widths stop at 65,535 too)
  --mode unproven   the tenant, an upload (201) and a verification code as usual, and then a proof
                    answered 200 with the certificate still not proven (proofOfPossessionValid
                    false)
  --mode not-a-crl  the tenant as usual, and an offline revocation list (GET
                    /tenant/trusted-certificates/settings/crl) that is not a CRL: 200,
                    application/pkix-crl, an HTML page with control characters; any PUT is 200

Every request is appended to --log as one JSON line (method, path, headers) before it is
answered. On start it prints `READY <port>` on stdout.
"""

import argparse
import base64
import binascii
import json
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

# The HTTP and TLS plumbing is the honest tenant's (this file's folder is on sys.path); no
# bytecode cache is written into the source tree.
sys.dont_write_bytecode = True
from c8y_server import QuietHandler, append_log, serve  # noqa: E402

CHUNK = 64 * 1024

# What a hostile tenant would like a terminal to do: clear the screen, set the title, write to the
# clipboard (OSC 52), ring the bell, return the carriage over what was printed, start a line of
# its own, end a C string, and CSI in its one-byte C1 form.
EVIL = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\rFAKE\nFAKE LINE\x00\x9b31m"


class Handler(QuietHandler):
    server_version = "HostileTenant/1.0"

    def handle_any(self, method):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with server.lock:
            server.count += 1
            n = server.count
            append_log(server.args.log, {
                "method": method,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            })
        try:
            getattr(self, "mode_" + server.args.mode.replace("-", "_"))(method, n)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            # The client hung up on an answer it did not want: that is what is tested.
            self.close_connection = True

    # -- helpers ---------------------------------------------------------------------------

    def path_parts(self):
        return [p for p in urlsplit(self.path).path.split("/") if p]

    def json_answer(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def current_tenant(self, name="t12345"):
        self.json_answer(200, {"name": name, "domainName": "localhost"})

    def stream_forever(self, piece, pause=0.0):
        """200 without a length (the body ends when the connection does), then `piece` forever."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(b'{"name": "t12345", "pad": "')
        while True:
            self.wfile.write(piece)
            self.wfile.flush()
            if pause:
                time.sleep(pause)

    def certificate(self, i, **fields):
        record = {
            "fingerprint": f"{i:040x}",
            "name": f"certificate {i}",
            "subject": f"CN=certificate {i}",
            "status": "ENABLED",
            "autoRegistrationEnabled": True,
            "proofOfPossessionValid": False,
            "notAfter": "2036-01-01T00:00:00.000Z",
        }
        record.update(fields)
        return record

    # -- modes -----------------------------------------------------------------------------

    def mode_endless(self, method, n):
        self.stream_forever(b"A" * CHUNK)

    def mode_slow(self, method, n):
        self.stream_forever(b"A", pause=0.2)

    def mode_huge(self, method, n):
        size = self.server.args.size
        head = b'{"name": "t12345", "pad": "'
        tail = b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(head)
        left = size - len(head) - len(tail)
        block = b"A" * CHUNK
        while left > 0:
            k = min(left, CHUNK)
            self.wfile.write(block[:k])
            left -= k
        self.wfile.write(tail)

    def mode_cut(self, method, n):
        if self.path_parts() == ["tenant", "currentTenant"]:
            return self.current_tenant()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4000")
        self.end_headers()
        self.wfile.write(b'{"fingerprint": "' + b"0" * 83)
        self.wfile.flush()
        self.close_connection = True
        # Close the TCP connection under the TLS session, as a dropped link would.
        self.connection.shutdown(2)

    def mode_pages(self, method, n):
        if self.path_parts() == ["tenant", "currentTenant"]:
            return self.current_tenant()
        query = parse_qs(urlsplit(self.path).query)
        size = int(query.get("pageSize", ["5"])[0])
        page = int(query.get("currentPage", ["1"])[0])
        certs = [self.certificate((page - 1) * size + i) for i in range(size)]
        self.json_answer(200, {"certificates": certs,
                               "statistics": {"pageSize": size, "currentPage": page}})

    def mode_redirect(self, method, n):
        self.send_response(302)
        self.send_header("Location", self.server.args.location + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def mode_echo(self, method, n):
        auth = self.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (binascii.Error, ValueError):
            user, password = "", ""
        bare = user.partition("/")[2] or user
        forms = [base64.b64encode(f"{u}:{password}".encode()).decode()
                 for u in (bare, f"t12345/{bare}")]
        said = (f"rejected Authorization: {auth} for {user} with password {password} "
                f"(Basic forms {forms[0]} and {forms[1]})")
        parts = self.path_parts()
        if n == 1:
            return self.json_answer(503, {"error": "general/Echo", "message": said})
        if parts == ["tenant", "currentTenant"]:
            return self.current_tenant()
        if method == "GET" and parts[-1:] == ["trusted-certificates"]:
            cert = self.certificate(1, name=f"{password} {forms[0]}", subject=f"CN={forms[1]}")
            return self.json_answer(200, {"certificates": [cert], "note": said})
        status = 403 if method == "DELETE" else 401
        self.json_answer(status, {"error": "security/Echo", "message": said})

    def mode_inject(self, method, n):
        parts = self.path_parts()
        if n == 1:
            return self.json_answer(503, {"error": "general/" + EVIL, "message": "down" + EVIL})
        if parts == ["tenant", "currentTenant"]:
            return self.current_tenant("t12345" + EVIL)
        if method == "GET" and "trusted-certificates" in parts:
            cert = self.certificate(1, name="name" + EVIL, subject="CN=subject" + EVIL,
                                    fingerprint="ab" + EVIL, notAfter="2036" + EVIL)
            return self.json_answer(200, {"certificates": [cert]})
        if method == "POST":
            cert = self.certificate(1, name="name" + EVIL, notAfter="2036" + EVIL)
            return self.json_answer(201, cert)
        self.json_answer(422, {"error": "core/" + EVIL, "message": "refused" + EVIL})

    def mode_absurd(self, method, n):
        if self.path_parts() == ["tenant", "currentTenant"]:
            return self.current_tenant()
        long = 70_000
        cert = self.certificate(1, fingerprint="f" * long, notAfter="2" * long,
                                name="N" * long, subject="CN=" + "S" * long)
        self.json_answer(200, {"certificates": [cert]})

    def mode_unproven(self, method, n):
        parts = self.path_parts()
        if parts == ["tenant", "currentTenant"]:
            return self.current_tenant()
        if method == "POST" and parts[-1:] == ["verification-code"]:
            return self.json_answer(200, self.certificate(
                1, proofOfPossessionUnsignedVerificationCode="c0de1234"))
        if method == "POST":
            return self.json_answer(200 if parts[-1:] == ["pop"] else 201, self.certificate(1))
        self.json_answer(404, {"error": "general/Not Found", "message": f"No resource at {self.path}"})

    def mode_not_a_crl(self, method, n):
        if self.path_parts() == ["tenant", "currentTenant"]:
            return self.current_tenant()
        if method == "PUT":
            return self.json_answer(200, {})
        data = f"<html>maintenance{EVIL}</html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    p.add_argument("--key", required=True, help="server key (PEM)")
    p.add_argument("--mode", required=True,
                   choices=["endless", "huge", "slow", "cut", "pages", "redirect", "echo", "inject",
                            "absurd", "unproven", "not-a-crl"])
    p.add_argument("--size", type=int, default=1 << 30, help="body size for --mode huge")
    p.add_argument("--location", default="", help="redirect target for --mode redirect")
    p.add_argument("--log", required=True, help="JSON-lines file of every request")
    args = p.parse_args()

    def attach(server):
        server.args = args
        server.lock = threading.Lock()
        server.count = 0

    serve(Handler, args, attach)


if __name__ == "__main__":
    sys.exit(main())
