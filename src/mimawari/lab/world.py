"""The whole lab from one YAML document: authoritative DNS, HTTPS and mail together, and a scan network for it.

Lab zones give "public" hosts documentation addresses (RFC 5737 / RFC 3849: 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), as a real organisation's records would give public
ones, while the lab's HTTPS server listens on one loopback address. ``Lab.network()`` bridges the two
without changing what a scan sees: plans resolve names through the lab DNS and choose an address as
always; the HTTP client checks that address against ``LabScope`` (documentation prefixes and loopback
allowed, private networks still refused, as on the internet), then connects to the lab listener in its
place (``address_map``) and on the lab's port (``port_map``). Snapshots keep the documentation address.
The lab's mail servers (``lab.mail``) listen once per (address, port) they stand for; ``mail_endpoints``
maps one to the other for the scan's probe client. HTTPS and mail certificates come from one lab CA.

    async with Lab.from_yaml(text) as lab:
        reports = await scan_domains(["kuroneko.example"], lab.network())
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

import dns.rdatatype
import yaml

from mimawari.errors import InputError, ZoneError
from mimawari.lab.ca import LabCa
from mimawari.lab.dns import DnsLab
from mimawari.lab.mail import MailLab, MailServers, mail_from_document
from mimawari.lab.web import HttpsSites, WebLab, sites_from_document
from mimawari.lab.zones import LabZones, load_zone_file, zones_from_yaml
from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, ProbeClient, Scope
from mimawari.serial import from_json

DOCUMENTATION_PREFIXES = tuple(
    ipaddress.ip_network(prefix)
    for prefix in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


@dataclass(frozen=True)
class LabScope(Scope):
    """The scope of a lab scan: loopback and the documentation prefixes the lab's records use."""

    allow_loopback: bool = True

    def refusal(self, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return super().refusal(address)
        if any(ip.version == net.version and ip in net for net in DOCUMENTATION_PREFIXES):
            return None
        return super().refusal(address)


class Lab:
    """Lab DNS, lab HTTPS and lab mail as one async context manager."""

    def __init__(
        self,
        zones: LabZones,
        sites: HttpsSites | None = None,
        *,
        mail: MailServers | None = None,
        host: str = "127.0.0.1",
        dns_port: int = 0,
    ) -> None:
        self.zones = zones
        self.dns = DnsLab(zones, host=host, port=dns_port)
        self.web = WebLab(sites or HttpsSites(), host=host)
        self.mail = MailLab(mail or MailServers(), host=host)
        self._running = contextlib.AsyncExitStack()

    @classmethod
    def from_yaml(cls, text: str, *, host: str = "127.0.0.1", dns_port: int = 0) -> Lab:
        """A lab from one YAML document holding ``zones:`` (and ``behaviour:``), ``https:`` and ``mail:``."""
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ZoneError(f"lab YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(document, dict):
            raise ZoneError("lab YAML: expected a mapping")
        return cls(
            zones_from_yaml(text),
            sites_from_document(document),
            mail=mail_from_document(document),
            host=host,
            dns_port=dns_port,
        )

    async def __aenter__(self) -> Lab:
        # One CA for HTTPS and mail, so the one ca_file of the connection trusts both.
        ca = LabCa()
        self.web = WebLab(self.web.sites, host=self.web.host, ca=ca)
        self.mail = MailLab(self.mail.servers, host=self.mail.host, ca=ca)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(ca.close)
            for server in (self.dns, self.web, self.mail):
                await server.start()
                stack.push_async_callback(server.stop)
            self._running = stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._running.aclose()

    @property
    def nameserver(self) -> Nameserver:
        return self.dns.nameserver

    @property
    def https_port(self) -> int:
        return self.web.port

    @property
    def ca_file(self) -> str:
        return self.web.ca_file

    def address_map(self) -> dict[str, str]:
        """Every A and AAAA address in the lab's zones, mapped to the lab's HTTPS listener."""
        addresses: dict[str, str] = {}
        for zone in self.zones.zones:
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                for _name, _ttl, rdata in zone.iterate_rdatas(rdtype):
                    addresses[str(ipaddress.ip_address(rdata.to_text()))] = self.web.host
        return addresses

    def connection(self) -> LabConnection:
        """What a scan needs to reach this lab, also from another process (see ``mimawari lab up``)."""
        return LabConnection(
            nameserver=str(self.nameserver),
            https_port=self.https_port,
            ca_file=self.ca_file,
            address_map=self.address_map(),
            trust_anchors=tuple(self.dns.trust_anchors),
            mail_endpoints=self.mail.endpoints,
        )

    def network(
        self,
        *,
        timeout: float = 1.0,
        attempts: int = 2,
        http_timeout: float = 5.0,
        probe_timeout: float = 2.0,
    ) -> Network:
        """A scan network for this lab: its DNS server, its CA, its HTTPS and mail listeners, ``LabScope``."""
        return self.connection().network(
            timeout=timeout, attempts=attempts, http_timeout=http_timeout, probe_timeout=probe_timeout
        )


@dataclass(frozen=True)
class LabConnection:
    """How to reach a running lab: written by ``mimawari lab up``, read by ``mimawari scan --lab``."""

    nameserver: str
    https_port: int
    ca_file: str
    address_map: dict[str, str]
    trust_anchors: tuple[str, ...] = ()
    mail_endpoints: dict[str, str] = field(default_factory=dict)
    """``"203.0.113.25:25" -> "127.0.0.1:40123"``: where the lab's mail servers really listen."""

    def network(
        self,
        *,
        timeout: float = 1.0,
        attempts: int = 2,
        http_timeout: float = 5.0,
        probe_timeout: float = 2.0,
    ) -> Network:
        """Mail ports the lab does not serve are closed (``closed_unmapped``): a probe never leaves loopback."""
        return Network(
            DnsClient([Nameserver.parse(self.nameserver)], timeout=timeout, attempts=attempts),
            HttpClient(
                scope=LabScope(),
                ca_file=self.ca_file,
                port_map={443: self.https_port},
                address_map=self.address_map,
                timeout=http_timeout,
            ),
            ProbeClient(
                scope=LabScope(),
                ca_file=self.ca_file,
                endpoint_map=self.mail_endpoints,
                closed_unmapped=True,
                timeout=probe_timeout,
            ),
        )


def read_lab_connection(path: str) -> LabConnection:
    """A connection file written by ``mimawari lab up``; ``InputError`` in one line when unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return from_json(LabConnection, handle.read())
    except OSError as exc:
        raise InputError(f"cannot read lab connection file {path}: {exc.strerror}") from None
    except ValueError:
        raise InputError(f"{path} is not a lab connection file written by 'mimawari lab up'") from None


def load_lab_files(paths: Sequence[str], *, host: str = "127.0.0.1", dns_port: int = 0) -> Lab:
    """A lab from zone files and lab YAML files (whose ``https:`` sites and ``mail:`` servers are served too)."""
    zones, sites, mail = LabZones(()), HttpsSites(), MailServers()
    for path in paths:
        if path.endswith((".yaml", ".yml")):
            part = Lab.from_yaml(_read(path), host=host)
            zones, sites, mail = zones + part.zones, sites + part.web.sites, mail + part.mail.servers
        else:
            zones = zones + load_zone_file(path)
    return Lab(zones, sites, mail=mail, host=host, dns_port=dns_port)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ZoneError(f"cannot read lab file {path}: {exc.strerror}") from None
