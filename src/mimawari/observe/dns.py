"""Asynchronous DNS observation on dnspython: every query ends as a ``DnsAnswer``, never an exception.

One ``DnsClient`` serves one scan: it holds the scan's cache (a query asked twice goes out once, even
when the two askers overlap in time) and a semaphore bounding the queries in flight. Each attempt goes
to the nameservers in turn over UDP with EDNS (payload 1232, the 2020 DNS flag day value) and is retried
over TCP when the reply is truncated (``dns_wire``). SERVFAIL or REFUSED from one server moves on to the next; only when
every server and attempt is spent does the answer become ``timeout`` (nobody answered) or ``error``.

A ``Query`` with ``dnssec`` set goes out with DO (send the RRSIGs, RFC 4035 §3.2.1) and CD (do not
validate for us, §3.2.2): mimawari validates itself, and must see a bogus answer to call it bogus rather
than receive a SERVFAIL. The answer then carries the RRSIGs over its RRset and, when it is NXDOMAIN or
NODATA, the signed NSEC/NSEC3 records of the authority section.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from mimawari.errors import InvalidNameserverError, NameserverUnreachableError
from mimawari.lookup import DnsAnswer, Query
from mimawari.model import Status
from mimawari.observe.dns_wire import MalformedReply, exchange

MAX_CNAME_HOPS = 16


@dataclass(frozen=True)
class Nameserver:
    """A resolver to ask: an IP address and a port."""

    host: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """``HOST[:PORT]`` with HOST an IPv4 or IPv6 address; IPv6 with a port is ``[::1]:5353``."""
        host, port = text.strip(), "53"
        if host.startswith("["):
            host, sep, rest = host[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise InvalidNameserverError(f"nameserver {text!r}: expected [IPv6]:PORT")
            port = rest[1:] or port
        elif host.count(":") == 1:
            host, port = host.split(":")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise InvalidNameserverError(
                f"nameserver {text!r}: HOST must be an IP address (e.g. 127.0.0.1:5353 or [::1]:53)"
            ) from None
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidNameserverError(f"nameserver {text!r}: port must be a number from 1 to 65535")
        return cls(str(address), int(port))

    @classmethod
    def system(cls) -> tuple[Nameserver, ...]:
        """The system's resolvers (``/etc/resolv.conf``)."""
        try:
            resolver = dns.resolver.Resolver()
        except dns.exception.DNSException as exc:
            raise InvalidNameserverError(f"no system resolver configured ({exc}); use --nameserver") from None
        return tuple(cls(str(ns), resolver.port) for ns in resolver.nameservers)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class DnsClient:
    """A scan's DNS client: cached, bounded, and total (every query yields a ``DnsAnswer``)."""

    def __init__(
        self,
        nameservers: Sequence[Nameserver] | None = None,
        *,
        timeout: float = 2.0,
        attempts: int = 2,
        concurrency: int = 64,
        max_cached: int = 20_000,
    ) -> None:
        self.nameservers = tuple(nameservers) if nameservers else Nameserver.system()
        if not self.nameservers:
            raise InvalidNameserverError("no nameserver to ask; use --nameserver HOST[:PORT]")
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self.max_cached = max_cached
        self._cache: OrderedDict[Query, asyncio.Task[DnsAnswer]] = OrderedDict()
        self.queries_sent = 0

    async def query(self, query: Query) -> DnsAnswer:
        task = self._cache.get(query)
        if task is None:
            task = asyncio.ensure_future(self._resolve(query))
            self._cache[query] = task
            if len(self._cache) > self.max_cached:
                # Least recently used first; whoever awaits an evicted task still holds it.
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(query)
        return await asyncio.shield(task)

    async def ensure_reachable(self) -> None:
        """Raise ``NameserverUnreachableError`` unless at least one nameserver answers at all."""
        problems = []
        for server in self.nameservers:
            try:
                await exchange(
                    dns.name.root, dns.rdatatype.NS, server.host, server.port, self.timeout, dnssec=False
                )
                return
            except TimeoutError:
                problems.append(f"{server}: no answer within {self.timeout:g} s")
            except (MalformedReply, dns.exception.DNSException, OSError) as exc:
                problems.append(f"{server}: {_describe(exc)}")
        raise NameserverUnreachableError("nameserver unreachable: " + "; ".join(problems))

    async def _resolve(self, query: Query) -> DnsAnswer:
        try:
            qname = dns.name.from_text(query.name)
            rdtype = dns.rdatatype.from_text(query.rdtype)
        except dns.exception.DNSException as exc:
            return DnsAnswer(query, Status.ERROR, detail=f"cannot ask: {_describe(exc)}")
        failures: list[DnsAnswer] = []
        async with self._limit:
            for _attempt in range(self.attempts):
                for server in self.nameservers:
                    answer = await self._ask(query, qname, rdtype, server)
                    if answer.status.answered:
                        return answer
                    failures.append(answer)
        # An error reply says more than silence: report SERVFAIL over a later timeout.
        errors = [f for f in failures if f.status is Status.ERROR]
        return (errors or failures)[-1]

    async def _ask(
        self, query: Query, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, server: Nameserver
    ) -> DnsAnswer:
        self.queries_sent += 1
        started = time.monotonic()
        try:
            reply, via_tcp = await exchange(
                qname, rdtype, server.host, server.port, self.timeout, dnssec=query.dnssec
            )
        except TimeoutError:
            return DnsAnswer(
                query,
                Status.TIMEOUT,
                nameserver=str(server),
                detail=f"no answer from {server} within {self.timeout:g} s",
            )
        except (MalformedReply, dns.exception.DNSException, OSError) as exc:
            return DnsAnswer(
                query, Status.ERROR, nameserver=str(server), detail=f"{server}: {_describe(exc)}"
            )
        elapsed_ms = round((time.monotonic() - started) * 1000)
        return _answer_from_reply(query, qname, rdtype, reply, via_tcp, server, elapsed_ms)


def _answer_from_reply(
    query: Query,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    reply: dns.message.Message,
    via_tcp: bool,
    server: Nameserver,
    elapsed_ms: int,
) -> DnsAnswer:
    rcode = dns.rcode.to_text(reply.rcode())
    make = partial(DnsAnswer, query, rcode=rcode, via_tcp=via_tcp, nameserver=str(server))
    if reply.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return make(Status.ERROR, detail=f"{rcode} from {server}")
    name, chain = qname, list[str]()
    for _hop in range(MAX_CNAME_HOPS):
        rrset = reply.get_rrset(reply.answer, name, dns.rdataclass.IN, rdtype)
        if rrset is not None:
            records = tuple(sorted(r.to_text() for r in rrset))
            return make(
                Status.PRESENT,
                records=records,
                ttl=rrset.ttl,
                cname_chain=tuple(chain),
                detail=f"{elapsed_ms} ms",
                signatures=_signatures(reply, name, rdtype) if query.dnssec else (),
            )
        cname = reply.get_rrset(reply.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            break
        name = cname[0].target
        chain.append(name.to_text(omit_final_dot=True).lower())
    denial = _denial(reply) if query.dnssec else ()
    return make(Status.ABSENT, cname_chain=tuple(chain), denial=denial)


def _signatures(
    reply: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> tuple[str, ...]:
    rrsigs = reply.get_rrset(reply.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG, covers=rdtype)
    return tuple(sorted(r.to_text() for r in rrsigs)) if rrsigs is not None else ()


DENIAL_TYPES = (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)


def _denial(reply: dns.message.Message) -> tuple[str, ...]:
    """The authority section's NSEC/NSEC3 records and their RRSIGs, one zone-file line each."""
    lines = [
        line
        for rrset in reply.authority
        if rrset.rdtype in DENIAL_TYPES
        or (rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers in DENIAL_TYPES)
        for line in rrset.to_text().splitlines()
    ]
    return tuple(sorted(lines))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        text = "connection refused"
    return text.splitlines()[0]
