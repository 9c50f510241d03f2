#!/usr/bin/env python3
"""A misbehaving EST server for pki's end-to-end tests (`tests/e2e/est_client.rs` starts it).

Where `pki est serve` is the honest server, this one answers an enrolment with what a client
must survive: refusals of every status with a reason full of terminal control characters, a
body that is not base64, a PKCS#7 cut in half, a body far too large, certificates that are not
the device's. HTTPS on 127.0.0.1 with the certificate it is given; only the Python standard
library and the fake tenant's HTTP and TLS plumbing (`serve`, `QuietHandler`).

  GET  .../cacerts         200 application/pkcs7-mime, the body of --cacerts (base64 of a
                           certs-only PKCS#7) as it is
  POST .../simpleenroll    (and simplereenroll) answered as --enroll says:
       status:CODE         CODE, text/plain, the reason --reason (default: one full of control
                           characters), Retry-After: 60 for 202, 429 and 503
       garbage             200 application/pkcs7-mime, a body that is not base64
       truncated           200 application/pkcs7-mime, the base64 of the first half of
                           --cacerts' PKCS#7
       huge                200 application/pkcs7-mime, Content-Length 1 GiB, all of it sent
       foreign             200 application/pkcs7-mime, --cacerts' body: certificates that do not
                           carry the request's key

Every request is appended to --log as one JSON line (method, path, headers, body) before it is
answered. On start it prints `READY <port>` on stdout.
"""

import argparse
import sys
import threading

# The HTTP and TLS plumbing is the fake tenant's (this file's folder is on sys.path); no bytecode
# cache is written into the source tree.
sys.dont_write_bytecode = True
from c8y_server import QuietHandler, append_log, serve  # noqa: E402

CHUNK = 64 * 1024

# What a hostile server would like a terminal to do: clear the screen, set the title, ring the
# bell, return the carriage, start a line of its own, and CSI in its one-byte C1 form.
EVIL = "no\x1b[2J\x1b]0;pwned\x07\rFAKE\nFAKE LINE\x9b31m"

REASONS = {
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Handler(QuietHandler):
    server_version = "HostileEst/1.0"

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            append_log(
                self.server.args.log,
                {
                    "method": method,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("latin-1"),
                },
            )
        cacerts = self.server.cacerts
        if method == "GET" and self.path.endswith("/cacerts"):
            return self.answer(200, "application/pkcs7-mime", cacerts)
        if method != "POST" or not self.path.endswith("enroll"):
            return self.answer(404, "text/plain", b"not here\n")
        mode = self.server.args.enroll
        if mode.startswith("status:"):
            code = int(mode.split(":", 1)[1])
            extra = {"Retry-After": "60"} if code in (202, 429, 503) else {}
            reason = self.server.args.reason.encode("utf-8")
            return self.answer(code, "text/plain", reason, extra)
        if mode == "garbage":
            return self.answer(200, "application/pkcs7-mime", b"<html>not base64 at all!</html>")
        if mode == "truncated":
            # Valid base64 (whole groups of four), of half the DER.
            flat = b"".join(cacerts.split())
            return self.answer(200, "application/pkcs7-mime", flat[: len(flat) // 8 * 4])
        if mode == "foreign":
            return self.answer(200, "application/pkcs7-mime", cacerts)
        if mode == "huge":
            size = 1 << 30
            self.send_response(200)
            self.send_header("Content-Type", "application/pkcs7-mime")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"A" * CHUNK
            try:
                for _ in range(size // CHUNK):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return None
        return self.answer(500, "text/plain", b"unknown mode\n")

    def answer(self, code, content_type, body, extra=None):
        self.send_response(code, REASONS.get(code))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Transfer-Encoding", "base64")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--cacerts", required=True)
    p.add_argument("--enroll", required=True)
    p.add_argument("--reason", default=EVIL)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    with open(args.cacerts, "rb") as f:
        cacerts = f.read()

    def attach(server):
        server.args = args
        server.cacerts = cacerts
        server.lock = threading.Lock()

    serve(Handler, args, attach)


if __name__ == "__main__":
    main()
