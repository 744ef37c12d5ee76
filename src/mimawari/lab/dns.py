"""The lab's authoritative DNS server: UDP and TCP on a loopback address, one port, many zones.

It answers like the recursive resolver a scanner normally talks to would, for the lab's zones only:
CNAME chains inside the lab are followed, NXDOMAIN and NODATA carry the zone's SOA, empty
non-terminals are NODATA, ``*`` wildcards work, and a UDP reply larger than the client's buffer
(512 bytes, or its EDNS payload size) is truncated so that the client must retry over TCP.
Names outside every lab zone get REFUSED; the lab never forwards anything to the internet.

Zones the lab YAML marks ``dnssec`` are signed when the lab is made (``sign_lab_zones``). A query with
the DO bit then gets the RRSIGs of every RRset it is sent, and NXDOMAIN or NODATA carries the signed NSEC
records that prove it (RFC 4035 §3.1). A DS query is answered from the parent side of a zone cut (RFC
4035 §3.1.4.1), as a recursive resolver would. ``trust_anchors`` holds the DS of the lab's top signed
zones: the lab's stand-in for the root key.
"""

from __future__ import annotations

import asyncio
import bisect
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
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

from mimawari.errors import LabError
from mimawari.lab.zones import Behaviour, LabZones, sign_lab_zones
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
        signed = sign_lab_zones(zones)
        self.trust_anchors = signed.trust_anchors
        """DS records of the lab's top signed zones, for ``Target.trust_anchors`` or ``--trust-anchor``."""
        self.trust_anchor_text = signed.trust_anchor_text
        # By origin, so that finding a name's zone is a walk up its labels, not a scan of every zone.
        self._by_origin: dict[dns.name.Name, dns.zone.Zone] = {}
        for zone in signed.zones:
            if zone.origin is not None:
                self._by_origin.setdefault(zone.origin, zone)
        self._nsec_owners = {
            origin: sorted(n for n, node in z.nodes.items() if node.get_rdataset(_IN, dns.rdatatype.NSEC))
            for origin, z in self._by_origin.items()
        }

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
        dnssec = request.edns >= 0 and bool(request.ednsflags & dns.flags.DO)
        self._resolve(reply, question.name, question.rdtype, dnssec)
        return reply

    def _zone_for(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType | None = None
    ) -> dns.zone.Zone | None:
        """The deepest lab zone holding ``name``: the child wins over its parent."""
        apex: dns.zone.Zone | None = None
        owner = name
        while True:
            zone = self._by_origin.get(owner)
            if zone is not None:
                # The DS of a zone lives on the parent side of the cut (RFC 4035 §2.4): answer it from
                # the parent zone if the lab has one, else from the zone itself.
                if rdtype != dns.rdatatype.DS or owner != name:
                    return zone
                apex = zone
            if len(owner) <= 1:  # the root, or a relative name's last label
                return apex
            owner = owner.parent()

    def _resolve(
        self, reply: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, dnssec: bool
    ) -> None:
        for hop in range(MAX_CNAME_HOPS):
            zone = self._zone_for(name, rdtype)
            if zone is None:
                if hop == 0:
                    reply.set_rcode(dns.rcode.REFUSED)
                return
            reply.flags |= dns.flags.AA
            node = zone.get_node(name)
            if node is None:
                if _has_children(zone, name):  # an empty non-terminal exists: NODATA
                    self._deny(reply, zone, name, dnssec)
                    return
                node = _wildcard(zone, name)
            if node is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
                self._deny(reply, zone, name, dnssec, nxdomain=True)
                return
            rdataset = node.get_rdataset(_IN, rdtype)
            if rdataset is not None:
                _add_rrset(reply.answer, name, node, rdataset, dnssec)
                return
            cname = node.get_rdataset(_IN, dns.rdatatype.CNAME)
            if cname is None:
                self._deny(reply, zone, name, dnssec, node=node)
                return
            _add_rrset(reply.answer, name, node, cname, dnssec)
            name = next(iter(cname)).target

    def _deny(
        self,
        reply: dns.message.Message,
        zone: dns.zone.Zone,
        name: dns.name.Name,
        dnssec: bool,
        *,
        node: dns.node.Node | None = None,
        nxdomain: bool = False,
    ) -> None:
        """SOA in the authority section and, with DO in a signed zone, the NSEC proof (RFC 4035 §3.1.3)."""
        assert zone.origin is not None
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        apex = zone.get_node(zone.origin)
        if soa is not None and apex is not None:
            _add_rrset(reply.authority, zone.origin, apex, soa, dnssec)
        owners = self._nsec_owners.get(zone.origin, [])
        if not dnssec or not owners:
            return
        proofs = [name] if node is not None and node.get_rdataset(_IN, dns.rdatatype.NSEC) else []
        if not proofs:
            proofs.append(_covering(owners, name))
            if nxdomain:  # and no wildcard at the closest encloser could have answered instead
                proofs.append(_covering(owners, dns.name.Name(("*", *_closest_encloser(zone, name).labels))))
        for owner in dict.fromkeys(proofs):
            proof_node = zone.get_node(owner)
            nsec = proof_node.get_rdataset(_IN, dns.rdatatype.NSEC) if proof_node is not None else None
            if proof_node is not None and nsec is not None:
                _add_rrset(reply.authority, owner, proof_node, nsec, dnssec)

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


_IN = dns.rdataclass.IN


def _add_rrset(
    section: list[dns.rrset.RRset],
    name: dns.name.Name,
    node: dns.node.Node,
    rdataset: dns.rdataset.Rdataset,
    dnssec: bool,
) -> None:
    """``rdataset`` under ``name`` (a wildcard's data takes the query name), with its RRSIGs under DO."""
    section.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
    rrsigs = node.get_rdataset(_IN, dns.rdatatype.RRSIG, rdataset.rdtype) if dnssec else None
    if rrsigs is not None:
        section.append(dns.rrset.from_rdata_list(name, rrsigs.ttl, list(rrsigs)))


def _covering(owners: list[dns.name.Name], name: dns.name.Name) -> dns.name.Name:
    """The NSEC owner just before ``name`` in canonical order (RFC 4034 §6.1); the chain wraps around."""
    index = bisect.bisect_right(owners, name) - 1
    return owners[index]


def _closest_encloser(zone: dns.zone.Zone, name: dns.name.Name) -> dns.name.Name:
    assert zone.origin is not None
    parent = name.parent()
    while parent != zone.origin and zone.get_node(parent) is None and not _has_children(zone, parent):
        parent = parent.parent()
    return parent


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
