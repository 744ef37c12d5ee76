"""One DNS exchange on the wire: a query out, the matching reply back, over UDP and, if truncated, TCP.

Scans send tens of thousands of queries, so this avoids the general-purpose path where it costs and
gains nothing: the query message is packed by hand (header, question, an OPT record: RFC 1035 §4.1,
RFC 6891 §6.1), each query gets its own socket (a random source port, as RFC 5452 asks) made directly
rather than through ``getaddrinfo``, and sections a plain query never reads (authority, additional) are
not parsed. A reply counts only if its ID, QR bit and question match the query (RFC 5452 §9.1).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct

import dns.message
import dns.name
import dns.rdatatype

EDNS_PAYLOAD = 1232
RD, CD, QR, TC = 0x0100, 0x0010, 0x8000, 0x0200
DO = 0x8000  # in the OPT record's TTL field (RFC 3225)


class MalformedReply(Exception):
    """A reply that cannot be the answer to the query sent."""


def query_wire(qid: int, qname: dns.name.Name, rdtype: int, *, dnssec: bool) -> bytes:
    header = struct.pack("!HHHHHH", qid, RD | (CD if dnssec else 0), 1, 0, 0, 1)
    question = qname.to_wire() or b"\x00"
    opt = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, DO if dnssec else 0, 0)
    return header + question + struct.pack("!HH", rdtype, 1) + opt


class _Reply(asyncio.DatagramProtocol):
    def __init__(self, qid: int) -> None:
        self.qid = qid
        self.data: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        # Anything else on this port (a late or forged datagram) is ignored, as a resolver would.
        if len(data) >= 12 and int.from_bytes(data[:2], "big") == self.qid and not self.data.done():
            self.data.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.data.done():
            self.data.set_exception(exc)


async def _udp(wire: bytes, qid: int, host: str, port: int, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.connect((host, port))  # a connected UDP socket also hears ICMP "port unreachable"
        transport, protocol = await loop.create_datagram_endpoint(lambda: _Reply(qid), sock=sock)
    except BaseException:
        sock.close()
        raise
    try:
        transport.sendto(wire)
        return await asyncio.wait_for(protocol.data, timeout)
    finally:
        transport.close()


async def _tcp(wire: bytes, host: str, port: int, timeout: float) -> bytes:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            return await reader.readexactly(length)
        finally:
            writer.close()

    return await asyncio.wait_for(exchange(), timeout)


async def exchange(
    qname: dns.name.Name, rdtype: int, host: str, port: int, timeout: float, *, dnssec: bool
) -> tuple[dns.message.Message, bool]:
    """The reply to one query and whether it came over TCP. Raises ``TimeoutError``, ``MalformedReply``,
    ``dns.exception.DNSException`` (a reply dnspython cannot parse) or ``OSError``."""
    qid = secrets.randbelow(65536)
    wire = query_wire(qid, qname, rdtype, dnssec=dnssec)
    data = await _udp(wire, qid, host, port, timeout)
    via_tcp = bool(int.from_bytes(data[2:4], "big") & TC)
    if via_tcp:
        try:
            data = await _tcp(wire, host, port, timeout)
        except asyncio.IncompleteReadError:
            raise MalformedReply("the TCP reply was cut short") from None
    return _parse(data, qid, qname, rdtype, full=dnssec), via_tcp


def _parse(data: bytes, qid: int, qname: dns.name.Name, rdtype: int, *, full: bool) -> dns.message.Message:
    if not full and len(data) >= 12:
        data = data[:8] + b"\x00\x00\x00\x00" + data[12:]  # NSCOUNT = ARCOUNT = 0: parse up to the answers
    reply = dns.message.from_wire(data, ignore_trailing=True)
    question = reply.question[0] if reply.question else None
    if (
        reply.id != qid
        or not reply.flags & QR
        or question is None
        or question.name != qname
        or question.rdtype != rdtype
    ):
        raise MalformedReply("the reply does not match the query")
    return reply
