"""Discovery of a domain's mailbox and submission hosts: SRV records, the autoconfig hint, common names.

* SRV records of RFC 6186 as updated by RFC 8314 §5.1: ``_imaps._tcp``, ``_imap._tcp``, ``_pop3s._tcp``,
  ``_pop3._tcp``, ``_submissions._tcp``, ``_submission._tcp``. A single record with target ``.`` says the
  service is decidedly not offered (RFC 2782); it is kept as such and its target never probed.
* The Thunderbird autoconfig document at ``https://autoconfig.<domain>/mail/config-v1.1.xml``, fetched
  from an address the plan resolved and parsed without entity expansion (``parse.autoconfig``).
* The common names ``imap.``, ``pop.``, ``pop3.``, ``mail.`` and ``smtp.`` of the domain (A and AAAA).

SRV and autoconfig hosts are *advertised*: clients are told to use them, wherever they are, and the
ports they name are their candidates. Common names are *guessed*, always inside the domain, and get all
six standard ports: IMAP 143 (STARTTLS) and 993 (implicit TLS), POP3 110 (STLS) and 995, submission 587
(STARTTLS) and 465 (implicit TLS). At most ``MAX_HOSTS`` hosts are kept, advertised ones first; the rest,
and names that are not host names are listed in ``dropped``. Addresses are not judged here: the probe
client's scope decides which may be contacted (an out-of-scope address is a refused connection, with
the reason in the evidence), as for MX hosts.
The SRV, common-name and autoconfig-host lookups go out together (``together``), the autoconfig fetch
follows, and one more round resolves the advertised hosts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.IN.SRV import SRV

from mimawari.lookup import DnsAnswer, Plan, Query, ask
from mimawari.model import Evidence, Status
from mimawari.observations.dnssec import together
from mimawari.observations.hosts import AddressLookup, ResolvedHost, resolve_hosts
from mimawari.observations.mta_sts import HttpsFetch, Retrieval, fetch_https
from mimawari.parse.autoconfig import AutoconfigServer, host_name, parse_autoconfig
from mimawari.probes import MailProtocol, StartTls

COMMON_NAMES = ("imap", "pop", "pop3", "mail", "smtp")
MAX_HOSTS = 6
MAX_PORTS_PER_HOST = 8
"""Advertised ports probed per host; a hostile zone may name hundreds."""
AUTOCONFIG_PATH = "/mail/config-v1.1.xml"


class MailService(StrEnum):
    """The six services, named as their SRV labels (RFC 6186 §3, RFC 8314 §5.1), implicit TLS first."""

    IMAPS = "imaps"
    IMAP = "imap"
    POP3S = "pop3s"
    POP3 = "pop3"
    SUBMISSIONS = "submissions"
    SUBMISSION = "submission"

    @property
    def protocol(self) -> MailProtocol:
        return _PROTOCOL[self]

    @property
    def implicit_tls(self) -> bool:
        return self in (MailService.IMAPS, MailService.POP3S, MailService.SUBMISSIONS)

    @property
    def port(self) -> int:
        """The standard port (RFC 8314 §3, §7)."""
        return _PORT[self]

    @property
    def family(self) -> str:
        """``IMAP``, ``POP3`` or ``submission``: the service whatever its TLS mode."""
        return _FAMILY[self.protocol]

    @property
    def starttls(self) -> StartTls:
        return StartTls.NONE if self.implicit_tls else StartTls(self.protocol.value)

    def srv_name(self, domain: str) -> str:
        return f"_{self.value}._tcp.{domain}"


_PROTOCOL = {
    MailService.IMAPS: MailProtocol.IMAP,
    MailService.IMAP: MailProtocol.IMAP,
    MailService.POP3S: MailProtocol.POP3,
    MailService.POP3: MailProtocol.POP3,
    MailService.SUBMISSIONS: MailProtocol.SMTP,
    MailService.SUBMISSION: MailProtocol.SMTP,
}
_PORT = {
    MailService.IMAPS: 993,
    MailService.IMAP: 143,
    MailService.POP3S: 995,
    MailService.POP3: 110,
    MailService.SUBMISSIONS: 465,
    MailService.SUBMISSION: 587,
}
_FAMILY = {MailProtocol.IMAP: "IMAP", MailProtocol.POP3: "POP3", MailProtocol.SMTP: "submission"}


def service_of(server_type: str, socket_type: str) -> MailService:
    """The service an autoconfig entry describes (``SSL`` is implicit TLS; STARTTLS and plain are not)."""
    implicit = socket_type == "SSL"
    by_type = {
        "imap": (MailService.IMAPS, MailService.IMAP),
        "pop3": (MailService.POP3S, MailService.POP3),
        "smtp": (MailService.SUBMISSIONS, MailService.SUBMISSION),
    }
    tls, clear = by_type[server_type]
    return tls if implicit else clear


@dataclass(frozen=True)
class SrvTarget:
    priority: int
    weight: int
    port: int
    target: str
    """Lower case without the trailing dot; ``.`` for the root."""


def parse_srv(record: str) -> SrvTarget | None:
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SRV, record)
    except (dns.exception.DNSException, ValueError):
        return None
    assert isinstance(rdata, SRV)
    target = rdata.target.to_text(omit_final_dot=True).lower() or "."
    return SrvTarget(rdata.priority, rdata.weight, rdata.port, target)


@dataclass(frozen=True)
class SrvLookup:
    service: MailService
    answer: DnsAnswer
    targets: tuple[SrvTarget, ...] = ()

    @property
    def declined(self) -> bool:
        """RFC 2782: one record with target ``.`` means the service is decidedly not available."""
        return len(self.targets) == 1 and self.targets[0].target == "."

    @property
    def hosts(self) -> tuple[SrvTarget, ...]:
        """The usable targets, in the order a client tries them (lowest priority, then highest weight)."""
        usable = (t for t in self.targets if t.target != "." and t.port)
        return tuple(sorted(usable, key=lambda t: (t.priority, -t.weight, t.target)))

    def evidence(self) -> Evidence:
        value = 'not offered (target ".", RFC 2782)' if self.declined else self.answer.describe()
        return Evidence(str(self.answer.query), value)


@dataclass(frozen=True)
class Autoconfig:
    """The autoconfig document as fetched, and the servers it names."""

    fetch: HttpsFetch
    servers: tuple[AutoconfigServer, ...] = ()
    problems: tuple[str, ...] = ()

    def evidence(self) -> Evidence:
        response = self.fetch.response
        if self.servers:
            value = ", ".join(
                f"{s.server_type} {s.hostname}:{s.port or '?'} {s.socket_type}".rstrip() for s in self.servers
            )
        elif self.problems:
            value = "; ".join(self.problems)
        elif response is not None:
            value = self.fetch.problem or response.describe()
        else:
            value = self.fetch.problem or self.fetch.retrieval.value
        return Evidence(f"autoconfig {self.fetch.url}", value)


class Origin(StrEnum):
    SRV = "srv"
    AUTOCONFIG = "autoconfig"
    COMMON_NAME = "common-name"


@dataclass(frozen=True, order=True)
class Candidate:
    """A service a host may offer on a port; ``advertised`` when SRV or autoconfig names it there."""

    service: MailService
    port: int
    advertised: bool


@dataclass(frozen=True)
class MailboxHost(ResolvedHost):
    name: str
    origins: tuple[Origin, ...]
    candidates: tuple[Candidate, ...] = ()
    ipv4: AddressLookup | None = None
    ipv6: AddressLookup | None = None

    @property
    def advertised(self) -> bool:
        return Origin.SRV in self.origins or Origin.AUTOCONFIG in self.origins

    @property
    def probe_addresses(self) -> tuple[str, ...]:
        """The first address of each family."""
        return tuple(lookup.addresses[0].address for lookup in self.lookups if lookup.addresses)


@dataclass(frozen=True)
class DroppedHost:
    name: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """What discovery found: the lookups behind it, the hosts to probe and the names left out."""

    srv: tuple[SrvLookup, ...] = ()
    common_names: tuple[AddressLookup, ...] = ()
    """A and AAAA of every common name, in pairs."""
    autoconfig: Autoconfig | None = None
    hosts: tuple[MailboxHost, ...] = ()
    dropped: tuple[DroppedHost, ...] = ()

    def failure(self) -> tuple[Status, str] | None:
        """The first discovery lookup that did not answer, as (status, ``source: outcome``)."""
        for lookup in self.srv:
            if not lookup.answer.status.answered:
                return lookup.answer.status, f"{lookup.answer.query}: {lookup.answer.outcome}"
        failed = [lookup for lookup in self.common_names if not lookup.status.answered]
        failed += [
            lookup
            for host in self.hosts
            if host.advertised and host.resolution in (Status.TIMEOUT, Status.ERROR)
            for lookup in host.lookups
            if not lookup.status.answered
        ]
        if failed:
            return failed[0].status, f"{failed[0].name} {failed[0].rdtype}: {failed[0].outcome}"
        autoconfig = self.autoconfig
        if autoconfig is not None and autoconfig.fetch.retrieval is Retrieval.UNKNOWN:
            return Status.TIMEOUT, f"autoconfig {autoconfig.fetch.url}: {autoconfig.fetch.problem}"
        return None


def _srv_part(domain: str) -> Plan[Discovery]:
    answers = yield from ask(*(Query.of(service.srv_name(domain), "SRV") for service in MailService))
    lookups = tuple(
        SrvLookup(service, answer, tuple(t for t in map(parse_srv, answer.records) if t is not None))
        for service, answer in zip(MailService, answers, strict=True)
    )
    return Discovery(srv=lookups)


def _names_part(domain: str) -> Plan[Discovery]:
    resolved = yield from resolve_hosts(f"{label}.{domain}" for label in COMMON_NAMES)
    return Discovery(common_names=tuple(lookup for pair in resolved.values() for lookup in pair))


def _autoconfig_part(domain: str) -> Plan[Discovery]:
    fetched = yield from fetch_https(f"https://autoconfig.{domain}{AUTOCONFIG_PATH}")
    if not fetched.body:
        return Discovery(autoconfig=Autoconfig(fetched))
    document = parse_autoconfig(fetched.body, domain)
    return Discovery(autoconfig=Autoconfig(fetched, document.servers, document.problems))


def _advertised(found: Discovery) -> Iterable[tuple[str, Origin, Candidate | str]]:
    """(name, origin, candidate) for every advertised service; a str instead of a candidate says why
    the name cannot be used."""
    for lookup in found.srv:
        for target in lookup.hosts:
            name = host_name(target.target, "")
            if name is None:
                yield target.target, Origin.SRV, "not a host name"
            else:
                yield name, Origin.SRV, Candidate(lookup.service, target.port, True)
    if found.autoconfig is not None:
        for server in found.autoconfig.servers:
            service = service_of(server.server_type, server.socket_type)
            yield server.hostname, Origin.AUTOCONFIG, Candidate(service, server.port or service.port, True)


def choose_hosts(found: Discovery) -> tuple[tuple[MailboxHost, ...], tuple[DroppedHost, ...]]:
    """The hosts to probe, advertised ones first, capped; and the names left out with the reason."""
    origins: dict[str, list[Origin]] = {}
    candidates: dict[str, dict[int, Candidate]] = {}
    dropped: list[DroppedHost] = []
    for name, origin, candidate in _advertised(found):
        if isinstance(candidate, str):
            dropped.append(DroppedHost(name, candidate))
            continue
        if origin not in origins.setdefault(name, []):
            origins[name].append(origin)
        ports = candidates.setdefault(name, {})
        if candidate.port not in ports and len(ports) >= MAX_PORTS_PER_HOST:
            dropped.append(DroppedHost(f"{name}:{candidate.port}", f"more than {MAX_PORTS_PER_HOST} ports"))
            continue
        ports.setdefault(candidate.port, candidate)
    for name in dict.fromkeys(lookup.name for lookup in found.common_names if lookup.addresses):
        origins.setdefault(name, []).append(Origin.COMMON_NAME)
        ports = candidates.setdefault(name, {})
        for service in MailService:
            ports.setdefault(service.port, Candidate(service, service.port, False))
    names = list(origins)
    dropped += [DroppedHost(name, f"more than {MAX_HOSTS} hosts") for name in names[MAX_HOSTS:]]
    hosts = tuple(
        MailboxHost(name, tuple(origins[name]), tuple(candidates[name].values()))
        for name in names[:MAX_HOSTS]
    )
    return hosts, tuple(dropped)


def discovery_plan(domain: str) -> Plan[Discovery]:
    srv, names, autoconfig = yield from together(
        _srv_part(domain), _names_part(domain), _autoconfig_part(domain)
    )
    found = Discovery(srv.srv, names.common_names, autoconfig.autoconfig)
    hosts, dropped = choose_hosts(found)
    lookups = found.common_names
    pairs = {lookups[i].name: (lookups[i], lookups[i + 1]) for i in range(0, len(lookups) - 1, 2)}
    pairs |= yield from resolve_hosts(h.name for h in hosts if h.name not in pairs)
    hosts = tuple(
        replace(h, ipv4=pairs[h.name][0], ipv6=pairs[h.name][1]) if h.name in pairs else h for h in hosts
    )
    return replace(found, hosts=hosts, dropped=dropped)
