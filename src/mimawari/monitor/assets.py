"""What a domain shows from outside, per scan report, for the monitor's diffs (pure: no I/O).

Assets: the domain, its mail hosts (MX exchanges; mailbox hosts with a service that answered), the
services that answered on them and the leaf certificates they presented. A timeout must never read as a
removal (DESIGN rule 3), so each sighting keeps the *path* of decisions that led to it (observation, host,
address family, endpoint, TLS, certificate) and a report's ``Exposure`` records the decisions it could not
make (``unsettled``) and the lists it saw only part of (``partial``: probing limits, failed discovery
lookups). A later scan *settles* a path when it followed it until it ended where that scan decided nothing
is there: the MX no longer names the host, the host lost the address, the port refused, the handshake
showed another certificate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from mimawari.model import Status, Text
from mimawari.observations.dmarc import DmarcObservation
from mimawari.observations.hosts import AddressLookup
from mimawari.observations.mailbox import MailboxObservation
from mimawari.observations.mailbox_discovery import Discovery
from mimawari.observations.mta import MAX_ADDRESSES_PER_FAMILY, MAX_MX_HOSTS, MtaObservation
from mimawari.parse.dmarc import Policy
from mimawari.parse.x509 import describe_certificate
from mimawari.probes import ServiceSession
from mimawari.scan import DomainReport

MTA, MAILBOX, DMARC = "mta", "mailbox", "dmarc"
"""The observer names these observations are kept under in ``DomainReport.observations``."""
Path = tuple[str, ...]


class AssetKind(StrEnum):
    DOMAIN = "domain"
    MAIL_HOST = "mail-host"
    SERVICE = "service"
    CERTIFICATE = "certificate"


_NOUNS = {
    AssetKind.DOMAIN: Text(en="domain", ja="ドメイン"),
    AssetKind.MAIL_HOST: Text(en="mail host", ja="メールホスト"),
    AssetKind.SERVICE: Text(en="service", ja="サービス"),
    AssetKind.CERTIFICATE: Text(en="certificate", ja="証明書"),
}
_FINGERPRINT = " SHA-256:"


@dataclass(frozen=True, order=True)
class Asset:
    """``name``: the domain or host; a service as ``mx1.example [192.0.2.25]:25 smtp``; a certificate as
    its names and fingerprint, ``mx1.example SHA-256:<hex>`` (the fingerprint identifies it)."""

    kind: AssetKind
    name: str

    @property
    def text(self) -> Text:
        names, found, fingerprint = self.name.rpartition(_FINGERPRINT)
        shown = f"{names} (SHA-256 {fingerprint[:16]}…)" if found else self.name
        return Text(en=f"{_NOUNS[self.kind].en} {shown}", ja=f"{_NOUNS[self.kind].ja} {shown}")

    @property
    def label(self) -> str:
        return self.text.en


@dataclass(frozen=True)
class CertificateSeen:
    """The leaf certificate one TLS endpoint presented."""

    endpoint: str
    """The service's name: ``mx1.example [192.0.2.25]:25 smtp``."""
    host: str
    fingerprint: str
    """SHA-256 of the DER, lower-case hex."""
    names: tuple[str, ...] = ()
    """The DNS names a client matches (SANs, else the subject CN)."""
    not_after: int | None = None
    """End of validity, Unix seconds; None when the certificate could not be read (``problem``)."""
    problem: str = ""

    def days_left(self, moment: int) -> float | None:
        """Days from ``moment`` to the end of validity, negative once expired."""
        return None if self.not_after is None else (self.not_after - moment) / 86400

    @property
    def asset(self) -> Asset:
        names = ", ".join(self.names) or "(unnamed)"
        return Asset(AssetKind.CERTIFICATE, f"{names}{_FINGERPRINT}{self.fingerprint}")


@dataclass(frozen=True)
class _Endpoint:
    path: Path
    """source, host, address family, service name."""
    service: Asset
    session: ServiceSession
    exposed: bool

    @classmethod
    def of(cls, source: str, host: str, session: ServiceSession, protocol: str, exposed: bool) -> _Endpoint:
        address, port = session.request.address, session.request.port
        service = Asset(AssetKind.SERVICE, f"{host} [{address}]:{port} {protocol}")
        return cls((source, host, "AAAA" if ":" in address else "A", service.name), service, session, exposed)


def _endpoints(report: DomainReport) -> Iterator[_Endpoint]:
    mta, mailbox = report.observations.get(MTA), report.observations.get(MAILBOX)
    if isinstance(mta, MtaObservation):
        for s in mta.servers:
            yield _Endpoint.of(MTA, s.host, s.session, "smtp", s.session.status is Status.PRESENT)
    if isinstance(mailbox, MailboxObservation):
        # ``present``: an implicit-TLS port whose handshake fails is listening, with broken TLS.
        for b in mailbox.services:
            yield _Endpoint.of(MAILBOX, b.host, b.session, b.service.value, b.present)


def _leaf(endpoint: _Endpoint) -> CertificateSeen | None:
    tls, name, host = endpoint.session.tls, endpoint.service.name, endpoint.path[1]
    if not endpoint.exposed or tls is None or tls.status is not Status.PRESENT or not tls.chain:
        return None
    try:
        der = tls.chain_der[0]
    except ValueError:  # a hand-edited snapshot: not base64
        return CertificateSeen(name, host, "", problem="the certificate is not base64")
    facts, fingerprint = describe_certificate(der), hashlib.sha256(der).hexdigest()
    if isinstance(facts, str):
        return CertificateSeen(name, host, fingerprint, problem=facts)
    return CertificateSeen(name, host, fingerprint, facts.names, facts.not_after)


def certificates_of(report: DomainReport) -> tuple[CertificateSeen, ...]:
    """Every leaf certificate seen, one per (endpoint, certificate), ordered by endpoint."""
    seen = {(c.endpoint, c.fingerprint): c for c in map(_leaf, _endpoints(report)) if c is not None}
    return tuple(seen[key] for key in sorted(seen))


@dataclass(frozen=True)
class Sighting:
    asset: Asset
    path: Path


@dataclass(frozen=True)
class Exposure:
    """One report's view from outside: what it saw, by which path, and what it could not decide."""

    sightings: tuple[Sighting, ...]
    undetermined: frozenset[Asset]
    """Assets whose presence could not be decided (a service that timed out, a host with no answer)."""
    reached: frozenset[Path]
    unsettled: frozenset[Path]
    partial: frozenset[Path]

    @property
    def assets(self) -> frozenset[Asset]:
        return frozenset(s.asset for s in self.sightings)

    def settles(self, path: Path) -> bool:
        """True when this report decided what is at the end of ``path``: seen, or nothing any more."""
        for depth in range(1, len(path) + 1):
            if path[:depth] in self.unsettled:
                return False
            if path[:depth] not in self.reached:
                return depth > 1 and path[: depth - 1] not in self.partial
        return True


def vanished(earlier: Exposure, later: Exposure) -> tuple[tuple[Asset, ...], tuple[Asset, ...]]:
    """The assets of ``earlier`` that ``later`` does not show, sorted: (those ``later`` settled as gone,
    those it could not tell about)."""
    gone: list[Asset] = []
    untold: list[Asset] = []
    for asset in sorted(earlier.assets - later.assets):
        paths = [s.path for s in earlier.sightings if s.asset == asset]
        (gone if all(map(later.settles, paths)) else untold).append(asset)
    return tuple(gone), tuple(untold)


@dataclass
class _Survey:
    sightings: list[Sighting] = field(default_factory=list)
    undetermined: set[Asset] = field(default_factory=set)
    reached: set[Path] = field(default_factory=set)
    unsettled: set[Path] = field(default_factory=set)
    partial: set[Path] = field(default_factory=set)

    def see(self, path: Path, asset: Asset) -> None:
        self.reached.add(path)
        self.sightings.append(Sighting(asset, path))

    def undecided(self, path: Path, asset: Asset | None = None) -> None:
        self.unsettled.add(path)
        if asset is not None:
            self.undetermined.add(asset)

    def family(self, node: Path, lookup: AddressLookup | None, probed: int) -> bool:
        """An address lookup's node; True when it answered."""
        if lookup is None or not lookup.status.answered:
            self.undecided(node)
            return False
        self.reached.add(node)
        if len(lookup.addresses) > probed:  # the addresses beyond the probing limit were never asked
            self.partial.add(node)
        return True

    def mta(self, mta: object) -> None:
        if not isinstance(mta, MtaObservation) or mta.status in (Status.TIMEOUT, Status.ERROR):
            self.undecided((MTA,))
            return
        self.reached.add((MTA,))
        for rank, host in enumerate(mta.mx.mail_hosts):
            self.see((MTA, host.exchange), Asset(AssetKind.MAIL_HOST, host.exchange))
            if rank >= MAX_MX_HOSTS:  # listed, never probed
                self.partial.add((MTA, host.exchange))
                continue
            for rdtype, lookup in (("A", host.ipv4), ("AAAA", host.ipv6)):
                self.family((MTA, host.exchange, rdtype), lookup, MAX_ADDRESSES_PER_FAMILY)

    def mailbox(self, box: object) -> None:
        if not isinstance(box, MailboxObservation):
            self.undecided((MAILBOX,))
            return
        self.reached.add((MAILBOX,))
        if Discovery(box.srv, box.common_names, box.autoconfig, box.hosts).failure() or box.dropped:
            self.partial.add((MAILBOX,))  # the host list may lack names
        # An address and port is probed once, under the first name that leads to it; that session speaks
        # for every name leading there, but names its service after the first.
        by_port = {(s.address, s.port): s for s in box.services}
        for host in box.hosts:
            self.reached.add((MAILBOX, host.name))
            found = [by_port.get((a, c.port)) for a in host.probe_addresses for c in host.candidates]
            undecided = any(s is None or s.session.status is Status.TIMEOUT for s in found)
            for rdtype, lookup in (("A", host.ipv4), ("AAAA", host.ipv6)):
                node = (MAILBOX, host.name, rdtype)
                if not self.family(node, lookup, 1):
                    undecided = True
                elif lookup is not None and lookup.addresses:
                    first = lookup.addresses[0].address
                    if any(
                        getattr(by_port.get((first, c.port)), "host", "") != host.name
                        for c in host.candidates
                    ):
                        self.partial.add(node)
            node, asset = (MAILBOX, host.name, "host"), Asset(AssetKind.MAIL_HOST, host.name)
            if any(s is not None and s.present for s in found):
                self.see(node, asset)
            elif undecided:
                self.undecided(node, asset)
            else:
                self.reached.add(node)

    def endpoint(self, endpoint: _Endpoint) -> None:
        session = endpoint.session
        if not endpoint.exposed:
            if session.status is Status.TIMEOUT:
                self.undecided(endpoint.path, endpoint.service)
            else:  # refused, or closed before a greeting: decided, nothing is offered there
                self.reached.add(endpoint.path)
            return
        self.see(endpoint.path, endpoint.service)
        node, tls, leaf = (*endpoint.path, "tls"), session.tls, _leaf(endpoint)
        if tls is None and session.starttls_offered is not None:
            self.reached.add(node)  # no TLS offered: decided, no certificate there
        elif tls is None or tls.status is not Status.PRESENT:
            self.undecided(node)
        else:
            self.reached.add(node)
            if leaf is not None:
                self.see((*node, leaf.asset.name), leaf.asset)


def exposure_of(report: DomainReport) -> Exposure:
    survey = _Survey()
    survey.see(("domain",), Asset(AssetKind.DOMAIN, report.domain))
    survey.mta(report.observations.get(MTA))
    survey.mailbox(report.observations.get(MAILBOX))
    for endpoint in _endpoints(report):
        survey.endpoint(endpoint)
    sets = (survey.reached, survey.unsettled, survey.partial)
    return Exposure(tuple(survey.sightings), frozenset(survey.undetermined), *map(frozenset, sets))


def assets_of(report: DomainReport) -> frozenset[Asset]:
    return exposure_of(report).assets


def undetermined_of(report: DomainReport) -> frozenset[Asset]:
    """Assets whose presence the report could not decide: a diff never calls them removed."""
    return exposure_of(report).undetermined


# --- DMARC stance -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DmarcStance:
    """The DMARC policy receivers apply to the domain's mail. ``p`` None: none applies (no record, several
    records, or one receivers ignore). ``sp``/``np`` are as receivers read them: sp defaults to p, np to
    sp (RFC 9989 §4.7); for a domain inheriting its organisational domain's record, ``p`` is that
    record's ``sp`` (RFC 7489 §6.6.3)."""

    p: Policy | None
    sp: Policy | None = None
    np: Policy | None = None
    pct: int = 100
    testing: bool = False
    """``t=y``: receivers apply one level less (RFC 9989 §4.7)."""
    record: str = ""
    location: str = ""

    def describe(self) -> str:
        if self.p is None or self.sp is None or self.np is None:
            return f"no DMARC policy ({self.record})" if self.record else "no DMARC record"
        testing = "; t=y" if self.testing else ""
        return f"p={self.p.value}; sp={self.sp.value}; np={self.np.value}; pct={self.pct}{testing}"


def dmarc_stance(report: DomainReport) -> DmarcStance | None:
    """The stance the DMARC observation shows; None when it could not be determined (timeout, error, or
    a report without the observation)."""
    observation = report.observations.get(DMARC)
    if not isinstance(observation, DmarcObservation) or not observation.status.answered:
        return None
    if observation.status is Status.ABSENT:
        return DmarcStance(None)
    text, location = " | ".join(observation.records), observation.location or ""
    record = observation.record
    p = record.effective_policy(subdomain=observation.inherited) if record is not None else None
    if record is None or p is None:
        return DmarcStance(None, record=text, location=location)
    sp = record.effective_policy(subdomain=True) or p
    np = record.effective_policy(subdomain=True, nonexistent=True) or sp
    pct = record.pct if record.pct is not None else 100
    return DmarcStance(p, sp, np, pct, record.testing, text, location)


_WEAKER = {
    "gone": Text(
        en="no DMARC policy applies any more (before: {old}; now: {new})",
        ja="DMARC ポリシーが適用されなくなりました（以前: {old}、現在: {new}）",
    ),
    "p": Text(
        en="DMARC policy weakened: p={old} → p={new}", ja="DMARC ポリシーが弱まりました: p={old} → p={new}"
    ),
    "sp": Text(
        en="subdomain policy weakened: sp={old} → sp={new}",
        ja="サブドメインのポリシーが弱まりました: sp={old} → sp={new}",
    ),
    "np": Text(
        en="policy for non-existent subdomains weakened: np={old} → np={new}",
        ja="存在しないサブドメインのポリシーが弱まりました: np={old} → np={new}",
    ),
    "pct": Text(
        en="the policy now applies to {new}% of failing mail (was {old}%)",
        ja="ポリシーの適用率が {old}% から {new}% に下がりました",
    ),
    "t": Text(
        en="testing mode t=y turned on: receivers apply the policy one level lower (RFC 9989 §4.7)",
        ja="テストモード t=y が有効になりました: 受信側はポリシーを 1 段階弱めて適用します（RFC 9989 §4.7）",
    ),
}


def weakened(before: DmarcStance, after: DmarcStance) -> tuple[Text, ...]:
    """Each way ``after`` protects less than ``before`` (reject → quarantine → none → no record; a weaker
    sp or np; a lower pct; testing mode turned on); empty when it is not weaker."""
    if before.p is None:
        return ()
    if after.p is None:
        return (_WEAKER["gone"].format(old=before.describe(), new=after.describe()),)
    # sp and np are listed only when they did not merely follow p (or sp) down: one change, one line.
    tags = (("p", before.p, after.p, True),
            ("sp", before.sp, after.sp, (before.sp, after.sp) != (before.p, after.p)),
            ("np", before.np, after.np, (before.np, after.np) != (before.sp, after.sp)))  # fmt: skip
    changes = [
        _WEAKER[tag].format(old=old.value, new=new.value)
        for tag, old, new, own in tags
        if own and old is not None and new is not None and new.strength < old.strength
    ]
    if after.pct < before.pct:
        changes.append(_WEAKER["pct"].format(old=before.pct, new=after.pct))
    if after.testing and not before.testing:
        changes.append(_WEAKER["t"])
    return tuple(changes)
