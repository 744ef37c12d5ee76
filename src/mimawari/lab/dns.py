"""The lab's authoritative DNS server: UDP and TCP on a loopback address, one port, many zones.

It answers like the recursive resolver a scanner normally talks to would, for the lab's zones only:
CNAME chains inside the lab are followed, NXDOMAIN and NODATA carry the zone's SOA, empty
non-terminals are NODATA, ``*`` wildcards work, and a UDP reply larger than the client's buffer
(512 bytes, or its EDNS payload size) is truncated so that the client must retry over TCP.
Names outside every lab zone get REFUSED; the lab never forwards anything to the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
from types import TracebackType
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.node
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from mimawari.errors import LabError
from mimawari.lab.zones import Behaviour, LabZones
from mimawari.observe.dns import Nameserver

log = logging.getLogger(__name__)

MAX_CNAME_HOPS = 8


class DnsLab:
    """An authoritative lab DNS server, as an async context manager::

    async with DnsLab(zones_from_yaml(text)) as lab:
        client = DnsClient([lab.nameserver])
    """

    def __init__(self, zones: LabZones, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise LabError(f"the lab only listens on loopback addresses, not {host}")
        if not zones.zones:
            raise LabError("the lab has no zones to serve")
        self.zones = zones
        self.host = host
        self._requested_port = port
        self._port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self.queries_received = 0
        # Longest origin first, so a child zone wins over its parent.
        self._ordered = sorted(zones.zones, key=lambda z: len(z.origin or dns.name.root), reverse=True)

    @property
    def nameserver(self) -> Nameserver:
        return Nameserver(self.host, self._port)

    async def __aenter__(self) -> DnsLab:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        last_error: OSError | None = None
        # UDP takes a free port first; TCP must then get the same one, which can race: retry.
        for _attempt in range(20):
            try:
                udp, _ = await loop.create_datagram_endpoint(
                    lambda: _UdpProtocol(self), local_addr=(self.host, self._requested_port), family=family
                )
            except OSError as exc:
                raise LabError(
                    f"lab DNS cannot listen on {self.host}:{self._requested_port}: {exc.strerror}"
                ) from None
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port, family=family)
            except OSError as exc:
                udp.close()
                last_error = exc
                if self._requested_port:
                    break
                continue
            self._udp, self._port = udp, port
            return
        raise LabError(f"lab DNS cannot listen on TCP {self.host}: {last_error}")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()

    async def serve_forever(self) -> None:
        if self._tcp is None:
            await self.start()
        assert self._tcp is not None
        await self._tcp.serve_forever()

    def respond(self, request: dns.message.Message) -> dns.message.Message | None:
        """The reply to ``request``, or None when the lab is told to stay silent."""
        self.queries_received += 1
        reply = dns.message.make_response(request)
        if len(request.question) != 1:
            reply.set_rcode(dns.rcode.FORMERR)
            return reply
        question = request.question[0]
        behaviour = self.zones.behaviour.get(question.name)
        if behaviour is Behaviour.DROP:
            return None
        if behaviour is not None:
            reply.set_rcode(dns.rcode.SERVFAIL if behaviour is Behaviour.SERVFAIL else dns.rcode.REFUSED)
            return reply
        self._resolve(reply, question.name, question.rdtype)
        return reply

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        return next((z for z in self._ordered if z.origin is not None and name.is_subdomain(z.origin)), None)

    def _resolve(
        self, reply: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> None:
        for hop in range(MAX_CNAME_HOPS):
            zone = self._zone_for(name)
            if zone is None:
                if hop == 0:
                    reply.set_rcode(dns.rcode.REFUSED)
                return
            reply.flags |= dns.flags.AA
            node = zone.get_node(name)
            if node is None:
                if _has_children(zone, name):  # an empty non-terminal exists: NODATA
                    _add_soa(reply, zone)
                    return
                node = _wildcard(zone, name)
            if node is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
                _add_soa(reply, zone)
                return
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                reply.answer.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                _add_soa(reply, zone)
                return
            reply.answer.append(dns.rrset.from_rdata_list(name, cname.ttl, list(cname)))
            name = next(iter(cname)).target

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self._reply_wire(await reader.readexactly(length), limit=65535)
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply_wire(self, wire: bytes, limit: int | None) -> bytes | None:
        """Wire reply to a wire request (None: stay silent). ``limit`` None means UDP: the client's size."""
        try:
            request = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not DNS: silence, as a real server would
        try:
            reply = self.respond(request)
        except Exception:
            log.exception("lab DNS failed to answer %s", request.question)
            reply = dns.message.make_response(request)
            reply.set_rcode(dns.rcode.SERVFAIL)
        if reply is None:
            return None
        if limit is None:
            limit = max(512, request.payload) if request.edns >= 0 else 512
        try:
            return reply.to_wire(max_size=limit)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(request)
            truncated.flags |= dns.flags.TC | (reply.flags & dns.flags.AA)
            return truncated.to_wire(max_size=limit)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, lab: DnsLab) -> None:
        self.lab = lab
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport does not derive from DatagramTransport at run time.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self.lab._reply_wire(data, limit=None)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


def _wildcard(zone: dns.zone.Zone, name: dns.name.Name) -> dns.node.Node | None:
    """The wildcard at ``name``'s closest encloser (RFC 4592 §3.3.1), if that encloser has one."""
    parent = name.parent()
    while zone.origin is not None and parent.is_subdomain(zone.origin):
        if zone.get_node(parent) is not None or _has_children(zone, parent):
            return zone.get_node(dns.name.Name(("*", *parent.labels)))
        parent = parent.parent()
    return None


def _has_children(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    return any(owner != name and owner.is_subdomain(name) for owner in zone.nodes)


def _add_soa(reply: dns.message.Message, zone: dns.zone.Zone) -> None:
    assert zone.origin is not None
    soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
    if soa is not None:
        reply.authority.append(dns.rrset.from_rdata_list(zone.origin, soa.ttl, list(soa)))
