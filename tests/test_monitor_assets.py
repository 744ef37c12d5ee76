"""Assets seen from outside, certificates per endpoint and the DMARC stance, from real lab scans.

The timeouts here are real ones: the lab's tarpit servers accept the connection and never say a word.
"""

from __future__ import annotations

from mimawari.checks import ALL_CHECKS
from mimawari.lab import Lab
from mimawari.model import Text
from mimawari.monitor.assets import (
    Asset,
    AssetKind,
    DmarcStance,
    assets_of,
    certificates_of,
    dmarc_stance,
    exposure_of,
    undetermined_of,
    vanished,
    weakened,
)
from mimawari.parse.dmarc import Policy
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from tests.helpers import recorded

CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name in ("dmarc", "mta", "mailbox")}
DMARC_CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name == "dmarc"}
ZONE = """
zones:
  watch.test:
    records:
      "@": {MX: [10 mx1.watch.test., 20 mx2.watch.test.]}
      mx1: {A: 203.0.113.61, AAAA: "2001:db8::61"}
      mx2: {A: 203.0.113.63}
      imap: {A: 203.0.113.62}
      _imap._tcp: {SRV: 0 1 143 imap.watch.test.}
      _imaps._tcp: {SRV: 0 1 993 imap.watch.test.}
      _pop3s._tcp: {SRV: 0 1 995 imap.watch.test.}
"""
ANSWERING = (
    ZONE
    + """
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61, "2001:db8::61"], smtp: {}}
    - {host: mx2.watch.test, addresses: [203.0.113.63], smtp: {starttls: false}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imap: {}, imaps: {}, pop3s: {}}
"""
)
SILENT = (
    ZONE
    + """
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61, "2001:db8::61"], smtp: {}}
    - {host: mx2.watch.test, addresses: [203.0.113.63], smtp: {stall: true}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imap: {stall: true}, imaps: {}}   # POP3S off
"""
)
MX1_V4 = "mx1.watch.test [203.0.113.61]:25 smtp"
MX1_V6 = "mx1.watch.test [2001:db8::61]:25 smtp"
MX2 = "mx2.watch.test [203.0.113.63]:25 smtp"
IMAP = "imap.watch.test [203.0.113.62]:143 imap"
IMAPS = "imap.watch.test [203.0.113.62]:993 imaps"
POP3S = "imap.watch.test [203.0.113.62]:995 pop3s"


async def scan(text: str) -> DomainReport:
    async with Lab.from_yaml(text) as lab:
        (report,) = await scan_domains(["watch.test"], lab.network(probe_timeout=0.5), CHECKS)
    return report


def service(name: str) -> Asset:
    return Asset(AssetKind.SERVICE, name)


def host(name: str) -> Asset:
    return Asset(AssetKind.MAIL_HOST, name)


async def test_assets_and_certificates_of_a_domain_whose_servers_answer() -> None:
    report = await scan(ANSWERING)
    certificates = certificates_of(report)
    assert [c.endpoint for c in certificates] == [IMAP, IMAPS, POP3S, MX1_V6, MX1_V4]  # sorted by name
    by_endpoint = {c.endpoint: c for c in certificates}
    # One lab key and certificate per host: both endpoints of a host show the same leaf.
    assert by_endpoint[IMAP].fingerprint == by_endpoint[IMAPS].fingerprint == by_endpoint[POP3S].fingerprint
    assert by_endpoint[MX1_V4].fingerprint == by_endpoint[MX1_V6].fingerprint
    assert by_endpoint[IMAPS].names == ("imap.watch.test",) and by_endpoint[MX1_V4].names == (
        "mx1.watch.test",
    )
    for seen in certificates:
        days = seen.days_left(report.snapshot.target.moment())
        assert days is not None and 29 < days <= 30  # the lab CA issues for 30 days
        assert len(seen.fingerprint) == 64 and seen.fingerprint in seen.asset.name
    assert assets_of(report) == {
        Asset(AssetKind.DOMAIN, "watch.test"),
        host("mx1.watch.test"),
        host("mx2.watch.test"),  # answers, without STARTTLS: no certificate
        host("imap.watch.test"),
        service(MX1_V4),
        service(MX1_V6),
        service(MX2),
        service(IMAP),
        service(IMAPS),
        service(POP3S),
        by_endpoint[IMAPS].asset,
        by_endpoint[MX1_V4].asset,
    }
    assert undetermined_of(report) == frozenset()
    assert by_endpoint[IMAPS].asset.label.startswith("certificate imap.watch.test (SHA-256 ")
    assert service(IMAPS).text.ja == f"サービス {IMAPS}"


async def test_servers_that_stay_silent_are_undetermined_never_gone() -> None:
    answering, silent = await scan(ANSWERING), await scan(SILENT)
    assert undetermined_of(silent) == {service(MX2), service(IMAP)}
    assert not undetermined_of(silent) & assets_of(silent)
    # mx2 is still named by the MX record: a mail host, whose service could not be decided.
    assert host("mx2.watch.test") in assets_of(silent) and host("imap.watch.test") in assets_of(silent)
    gone, untold = vanished(exposure_of(answering), exposure_of(silent))
    # Each lab run has its own CA: mx1 and IMAPS answered with reissued certificates. The old mx1 one is
    # settled gone; the old imap one was also on port 143, which said nothing this time: not settled.
    mx1_before = next(c.asset for c in certificates_of(answering) if c.endpoint == MX1_V4)
    imap_before = next(c.asset for c in certificates_of(answering) if c.endpoint == IMAPS)
    assert gone == tuple(sorted({mx1_before, service(POP3S)}))  # POP3S refused the connection
    assert untold == tuple(sorted({imap_before, service(IMAP), service(MX2)}))
    # A session that never spoke is a value in the snapshot, not an absence.
    (stalled,) = (s for s in silent.snapshot.services if s.request.port == 143)
    assert stalled.status.value == "timeout"


async def test_a_report_without_the_observations_settles_nothing() -> None:
    full = await scan(ANSWERING)
    dns_only = evaluate_snapshot(full.snapshot, DMARC_CHECKS)  # no MTA or mailbox observation in it
    assert assets_of(dns_only) == {Asset(AssetKind.DOMAIN, "watch.test")}
    gone, untold = vanished(exposure_of(full), exposure_of(dns_only))
    assert gone == () and set(untold) == assets_of(full) - assets_of(dns_only)


def stance(records: dict[str, str | list[str]], domain: str = "example.test") -> DmarcStance | None:
    answers = {f"_dmarc.{name} TXT": value for name, value in records.items()}
    return dmarc_stance(evaluate_snapshot(recorded(domain, answers), DMARC_CHECKS))


def test_dmarc_stance_as_receivers_read_it() -> None:
    reject = stance({"example.test": ["v=DMARC1; p=reject; rua=mailto:d@example.test"]})
    assert reject == DmarcStance(
        Policy.REJECT,
        Policy.REJECT,
        Policy.REJECT,
        record="v=DMARC1; p=reject; rua=mailto:d@example.test",
        location="_dmarc.example.test",
    )
    explicit = stance({"example.test": ["v=DMARC1; p=quarantine; sp=reject; np=none; pct=30; t=y"]})
    assert explicit is not None and (explicit.p, explicit.sp, explicit.np) == (
        Policy.QUARANTINE,
        Policy.REJECT,
        Policy.NONE,
    )
    assert (explicit.pct, explicit.testing) == (30, True)
    assert stance({"example.test": "NXDOMAIN"}) == DmarcStance(None)
    assert stance({"example.test": "timeout"}) is None  # undetermined, never "no record"
    assert stance({"example.test": "SERVFAIL"}) is None
    several = stance({"example.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]})
    assert several is not None and several.p is None  # more than one record: none applies
    # A subdomain with no record of its own gets the organisational domain's sp.
    inherited = stance(
        {"mail.example.test": "NXDOMAIN", "example.test": ["v=DMARC1; p=reject; sp=quarantine"]},
        "mail.example.test",
    )
    assert inherited is not None and inherited.p is Policy.QUARANTINE


def weakening(before: str, after: str | None) -> list[str]:
    old = stance({"example.test": [before]})
    new = stance({"example.test": [after] if after else "NXDOMAIN"})
    assert old is not None and new is not None
    texts: tuple[Text, ...] = weakened(old, new)
    assert all(t.ja and t.ja != t.en for t in texts)
    return [t.en for t in texts]


def test_each_weakening_is_listed_once() -> None:
    r = "v=DMARC1; p=reject"
    assert weakening(r, "v=DMARC1; p=quarantine") == ["DMARC policy weakened: p=reject → p=quarantine"]
    assert weakening(r, "v=DMARC1; p=reject; sp=none") == ["subdomain policy weakened: sp=reject → sp=none"]
    assert weakening(r, "v=DMARC1; p=reject; np=quarantine") == [
        "policy for non-existent subdomains weakened: np=reject → np=quarantine"
    ]
    assert weakening("v=DMARC1; p=quarantine; sp=reject", "v=DMARC1; p=none; sp=none") == [
        "DMARC policy weakened: p=quarantine → p=none",
        "subdomain policy weakened: sp=reject → sp=none",
    ]
    assert weakening(r, "v=DMARC1; p=reject; pct=25") == [
        "the policy now applies to 25% of failing mail (was 100%)"
    ]
    assert weakening(r, "v=DMARC1; p=reject; t=y") == [
        "testing mode t=y turned on: receivers apply the policy one level lower (RFC 9989 §4.7)"
    ]
    assert weakening(r, None) == [
        "no DMARC policy applies any more (before: p=reject; sp=reject; np=reject; pct=100; now: no DMARC record)"
    ]
    assert weakening("v=DMARC1; p=none", "v=DMARC1; p=reject") == []
    assert weakening("v=DMARC1; p=none; pct=50", "v=DMARC1; p=quarantine; pct=100") == []
    assert weakened(DmarcStance(None), DmarcStance(Policy.NONE, Policy.NONE, Policy.NONE)) == ()
