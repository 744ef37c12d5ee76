"""A DNS forwarder on loopback that delays every answer, to give the lab an internet-like round trip.

    python bench/latency_proxy.py --upstream 127.0.0.1:PORT --delay-ms 20

On loopback a query costs a fraction of a millisecond, so a scanner that asks one question at a time
looks as fast as one that keeps many in flight; on the internet each answer takes tens of milliseconds.
This forwards UDP datagrams and TCP streams to the lab unchanged and holds each answer back by the
delay, without blocking other queries. It prints ``proxy HOST:PORT`` once it listens; stdlib only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import sys


class _Upstream(asyncio.DatagramProtocol):
    """One query's socket to the lab: the answer goes back to the client after the delay."""

    def __init__(
        self, query: bytes, reply_to: tuple[str, int], server: asyncio.DatagramTransport, delay: float
    ):
        self.query, self.reply_to, self.server, self.delay = query, reply_to, server, delay
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.sendto(self.query)  # type: ignore[attr-defined]
        # An upstream that never answers: the client times out, as it would without the proxy.
        asyncio.get_running_loop().call_later(30, transport.close)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        asyncio.get_running_loop().call_later(self.delay, self.server.sendto, data, self.reply_to)
        if self.transport is not None:
            self.transport.close()


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        assert self.transport is not None
        server, reply_to = self.transport, (str(addr[0]), int(addr[1]))
        asyncio.get_running_loop().create_task(
            asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Upstream(data, reply_to, server, self.delay), remote_addr=self.upstream
            )
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            if delay:
                await asyncio.sleep(delay)
            writer.write(chunk)
            await writer.drain()
    writer.close()


async def serve(host: str, upstream: tuple[str, int], delay: float) -> None:
    loop = asyncio.get_running_loop()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            lab_reader, lab_writer = await asyncio.open_connection(*upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, lab_writer, 0), _pipe(lab_reader, writer, delay))

    # UDP takes a free port first and TCP must get the same one, which can race: retry as the lab does.
    for _attempt in range(20):
        udp, _ = await loop.create_datagram_endpoint(lambda: _Listener(upstream, delay), local_addr=(host, 0))
        port = udp.get_extra_info("sockname")[1]
        try:
            tcp = await asyncio.start_server(relay, host, port)
            break
        except OSError:
            udp.close()
    else:
        raise OSError(f"no port on {host} free for both UDP and TCP")
    print(f"proxy {host}:{port}", flush=True)
    async with tcp:
        await tcp.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description="Delay every DNS answer from an upstream on loopback.")
    parser.add_argument("--upstream", required=True, help="the lab, HOST:PORT (loopback)")
    parser.add_argument("--delay-ms", type=float, required=True, help="added to every answer")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if not ipaddress.ip_address(host).is_loopback or not ipaddress.ip_address(args.host).is_loopback:
        print("latency_proxy: upstream and listener must be loopback addresses", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, (host, int(port)), args.delay_ms / 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
