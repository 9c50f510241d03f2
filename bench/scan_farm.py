#!/usr/bin/env python3
"""A farm of TLS gateways on loopback for bench/scan.sh: N listeners on 127.0.0.1, each serving
CERT (with its chain) and KEY after a delay of RTT before the TLS handshake (a round trip a real
network would add), DEAD of them accepting connections and never answering. Writes the hosts
file (one `127.0.0.1:PORT servername=NAME` a line, the dead ones spread through it) to HOSTS,
then prints `ready` and serves until killed.

Usage: scan_farm.py N DEAD RTT_MS CERT_CHAIN KEY NAME HOSTS
"""

import asyncio
import random
import resource
import socket
import ssl
import sys


async def main():
    n, dead, rtt_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    chain, key, name, hosts = sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(chain, key)
    rtt = rtt_ms / 1000.0
    held = []

    loop = asyncio.get_running_loop()

    class Gateway(asyncio.Protocol):
        """Reads nothing until RTT has passed (the ClientHello waits in the kernel), then
        answers the TLS handshake; closes when the client does."""

        def connection_made(self, transport):
            transport.pause_reading()
            loop.create_task(self.handshake(transport))

        async def handshake(self, transport):
            await asyncio.sleep(rtt)
            try:
                tls = await loop.start_tls(transport, self, ctx, server_side=True)
                loop.call_later(30, tls.close)
            except Exception:
                transport.close()

        def data_received(self, data):
            pass

    class Silent(asyncio.Protocol):
        """Accepts and never answers."""

        def connection_made(self, transport):
            held.append(transport)

    rng = random.Random(7)
    dead_ports = set(rng.sample(range(n), dead))
    lines = []
    servers = []
    for i in range(n):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        factory = Silent if i in dead_ports else Gateway
        servers.append(await loop.create_server(factory, sock=sock, backlog=64))
        lines.append(f"127.0.0.1:{port} servername={name}\n")
    with open(hosts, "w") as f:
        f.writelines(lines)
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
