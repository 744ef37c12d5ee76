"""The Mailbox-server checks end to end against the lab's IMAP, POP3 and submission servers.

Every domain of ``LAB`` advertises its services with SRV records (RFC 6186, RFC 8314 §5.1), served by lab
hosts that each show one fact; every test asserts the grade and the fact as the scan observed it
(``report.snapshot.services`` / ``.tls``). Only the mailbox checks run, so the scans stay fast.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from mimawari.checks import ALL_CHECKS
from mimawari.lab import Lab
from mimawari.lab.ca import WRONG_NAME
from mimawari.lookup import Snapshot
from mimawari.model import Finding, Grade, Severity, Status
from mimawari.observations.mailbox import MailboxObservation, Reach
from mimawari.observe.probe import SESSION_STEPS
from mimawari.parse.x509 import CertificateFacts, describe_certificate
from mimawari.probes import ServiceSession
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json

MAILBOX_CHECKS = {k: c for k, c in ALL_CHECKS.items() if k.startswith("email.mailbox.")}
TLS_CHECKS = tuple(
    f"email.mailbox.{name}"
    for name in ("tls_versions", "tls_ciphers", "tls_key_exchange", "certificate", "certificate_key")
)

LAB = """
zones:
  good.test:
    records:
      imap: {A: 198.51.100.10}
      smtp: {A: 198.51.100.11}
      _imaps._tcp: {SRV: 0 1 993 imap.good.test.}
      _imap._tcp: {SRV: 0 1 143 imap.good.test.}
      _submissions._tcp: {SRV: 0 1 465 smtp.good.test.}
      _submission._tcp: {SRV: 0 1 587 smtp.good.test.}
  clear.test:
    records:
      box: {A: 198.51.100.20}
      _imap._tcp: {SRV: 0 1 143 box.clear.test.}
      _pop3._tcp: {SRV: 0 1 110 box.clear.test.}
      _submission._tcp: {SRV: 0 1 587 box.clear.test.}
  notls.test:
    records:
      box: {A: 198.51.100.30}
      _imap._tcp: {SRV: 0 1 143 box.notls.test.}
      _pop3._tcp: {SRV: 0 1 110 box.notls.test.}
  implicit.test: {records: {box: {A: 198.51.100.40}, _imaps._tcp: {SRV: 0 1 993 box.implicit.test.}}}
  starttls.test: {records: {box: {A: 198.51.100.50}, _imap._tcp: {SRV: 0 1 143 box.starttls.test.}}}
  wrongname.test: {records: {box: {A: 198.51.100.60}, _imaps._tcp: {SRV: 0 1 993 box.wrongname.test.}}}
  stall.test: {records: {box: {A: 198.51.100.70}, _imap._tcp: {SRV: 0 1 143 box.stall.test.}}}
  mixed.test:
    records:
      box: {A: 198.51.100.80}
      slow: {A: 198.51.100.81}
      _imaps._tcp: {SRV: 0 1 993 box.mixed.test.}
      _imap._tcp: {SRV: 0 1 143 slow.mixed.test.}
  none.test: {records: {www: {A: 198.51.100.90}}}
mail:
  servers:
    - {host: imap.good.test, addresses: [198.51.100.10], imap: {}, imaps: {}}
    - {host: smtp.good.test, addresses: [198.51.100.11], submission: {}, submissions: {}}
    - host: box.clear.test
      addresses: [198.51.100.20]
      imap: {login_before_tls: true}          # no LOGINDISABLED before STARTTLS
      pop3: {user_before_tls: true}           # USER before STLS
      submission: {auth: before-tls}          # AUTH PLAIN LOGIN before STARTTLS
    - host: box.notls.test
      addresses: [198.51.100.30]
      imap: {starttls: false}
      pop3: {stls: false, user_before_tls: true}
    - {host: box.implicit.test, addresses: [198.51.100.40], imaps: {}}
    - {host: box.starttls.test, addresses: [198.51.100.50], imap: {}}
    - {host: box.wrongname.test, addresses: [198.51.100.60], imaps: {cert: wrong-name}}
    - {host: box.stall.test, addresses: [198.51.100.70], imap: {stall: true}}
    - {host: box.mixed.test, addresses: [198.51.100.80], imaps: {}}
    - {host: slow.mixed.test, addresses: [198.51.100.81], imap: {stall: true}}
"""


async def scan(lab: Lab, domains: Iterable[str], *, timeout: float = 1.0) -> dict[str, DomainReport]:
    reports = await scan_domains(list(domains), lab.network(probe_timeout=timeout), MAILBOX_CHECKS)
    return {r.domain: r for r in reports}


def finding(report: DomainReport, check_id: str) -> Finding:
    return next(f for f in report.findings if f.check_id == check_id)


def grade(report: DomainReport, check_id: str) -> Grade:
    return finding(report, check_id).grade


def session(report: DomainReport, port: int) -> ServiceSession:
    """The session with the domain's advertised host on ``port``, as recorded in the snapshot."""
    (found,) = (
        s for s in report.snapshot.services if s.request.port == port and s.status is not Status.ERROR
    )
    return found


def mailbox(report: DomainReport) -> MailboxObservation:
    observation = report.observations["mailbox"]
    assert isinstance(observation, MailboxObservation)
    return observation


async def test_password_login_before_tls_and_logindisabled() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("clear.test", "good.test"))
    clear = reports["clear.test"]
    exposed = finding(clear, "email.mailbox.cleartext_login")
    assert exposed.grade is Grade.D  # offered beside STARTTLS: a stripped STARTTLS exposes the password
    assert {s.service.value for s in mailbox(clear).present} == {"imap", "pop3", "submission"}
    assert all(s.advertised for s in mailbox(clear).present)
    assert "LOGINDISABLED" not in session(clear, 143).capabilities
    assert "USER" in session(clear, 110).capabilities
    assert "AUTH PLAIN LOGIN" in session(clear, 587).capabilities
    for port in (143, 110, 587):
        assert session(clear, port).starttls_offered is True
        assert f":{port} " in exposed.summary.en
    good = reports["good.test"]
    assert grade(good, "email.mailbox.cleartext_login") is Grade.A
    imap = session(good, 143)
    assert "LOGINDISABLED" in imap.capabilities and "AUTH=PLAIN" not in imap.capabilities
    assert "AUTH=PLAIN" in imap.capabilities_tls  # the login is offered once TLS protects it
    assert not any(c.startswith("AUTH") for c in session(good, 587).capabilities)
    assert grade(good, "email.mailbox.tls_offered") is Grade.A


async def test_no_starttls_on_the_cleartext_ports() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("notls.test",))
    report = reports["notls.test"]
    offered = finding(report, "email.mailbox.tls_offered")
    assert offered.grade is Grade.E and offered.severity is Severity.CRITICAL
    for port in (143, 110):
        bare = session(report, port)
        assert bare.status is Status.PRESENT and bare.starttls_offered is False and bare.tls is None
    # POP3 takes USER with no TLS to switch to: every password in clear text.
    login = finding(report, "email.mailbox.cleartext_login")
    assert login.grade is Grade.E and "box.notls.test 198.51.100.30:110 (pop3)" in login.summary.en
    assert not report.snapshot.tls


async def test_implicit_tls_only_and_starttls_only() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("implicit.test", "starttls.test", "good.test"))
    assert grade(reports["implicit.test"], "email.mailbox.implicit_tls") is Grade.A
    assert grade(reports["implicit.test"], "email.mailbox.cleartext_login") is Grade.A  # no cleartext port
    implicit = session(reports["implicit.test"], 993)
    assert (
        implicit.request.implicit_tls and implicit.tls is not None and implicit.tls.status is Status.PRESENT
    )
    assert implicit.starttls_offered is None  # TLS from the first byte: nothing to offer
    starttls_only = finding(reports["starttls.test"], "email.mailbox.implicit_tls")
    assert starttls_only.grade is Grade.B and starttls_only.after_fix is not None
    assert starttls_only.after_fix.grade is Grade.A
    assert [s.request.port for s in reports["starttls.test"].snapshot.services] == [143]
    # Both beside each other (993 and 143, 465 and 587): implicit TLS is there, A.
    assert grade(reports["good.test"], "email.mailbox.implicit_tls") is Grade.A
    answered = {s.port for s in mailbox(reports["good.test"]).present}
    assert answered == {143, 993, 465, 587}
    scanned = {(s.request.port, s.request.starttls.value) for s in reports["good.test"].snapshot.tls}
    assert scanned == {(993, ""), (143, "imap"), (465, ""), (587, "smtp")}


async def test_wrong_name_certificate_on_a_mailbox_server() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("wrongname.test",))
    report = reports["wrongname.test"]
    # A mail client refuses the connection (or teaches its user to click through): E, not the MTA's C.
    assert grade(report, "email.mailbox.certificate") is Grade.E
    assert grade(report, "email.mailbox.tls_offered") is Grade.A  # TLS itself works
    tls = session(report, 993).tls
    assert tls is not None and tls.status is Status.PRESENT and tls.trusted is True
    facts = describe_certificate(tls.chain_der[0])
    assert isinstance(facts, CertificateFacts) and facts.names == (WRONG_NAME,)


async def test_stalled_advertised_service_is_unknown_within_the_timeout() -> None:
    timeout = 0.5
    async with Lab.from_yaml(LAB) as lab:
        started = time.perf_counter()
        reports = await scan(lab, ("stall.test", "mixed.test"), timeout=timeout)
        elapsed = time.perf_counter() - started
    assert elapsed < SESSION_STEPS * timeout + 5
    stall = reports["stall.test"]
    assert {f.check_id: f.grade for f in stall.findings} == dict.fromkeys(MAILBOX_CHECKS, Grade.UNKNOWN)
    assert mailbox(stall).status is Status.TIMEOUT
    (stalled,) = mailbox(stall).services
    assert stalled.reach is Reach.UNKNOWN and stalled.session.status is Status.TIMEOUT
    # Beside a service that answers, what depends on the silent one stays unknown, never "not offered".
    mixed = reports["mixed.test"]
    assert grade(mixed, "email.mailbox.discovered") is Grade.A
    assert "slow.mixed.test 198.51.100.81:143 (imap)" in finding(mixed, "email.mailbox.discovered").summary.en
    for check_id in ("tls_offered", "cleartext_login", "implicit_tls"):
        assert grade(mixed, f"email.mailbox.{check_id}") is Grade.UNKNOWN
    for report in reports.values():  # timeouts are data too: the snapshot replays to the same findings
        replayed = evaluate_snapshot(from_json(Snapshot, to_json(report.snapshot)), MAILBOX_CHECKS)
        assert replayed.findings == report.findings


async def test_tls_verdicts_name_the_advertised_service_they_could_not_examine() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("mixed.test",), timeout=0.5)
    for check_id in TLS_CHECKS:
        verdict = finding(reports["mixed.test"], check_id)
        assert "slow.mixed.test 198.51.100.81:143" in {e.source for e in verdict.evidence}, check_id
        assert "slow.mixed.test" in verdict.summary.en, check_id


async def test_nothing_found_is_not_applicable() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("none.test",))
    report = reports["none.test"]
    assert {f.check_id: f.grade for f in report.findings} == dict.fromkeys(MAILBOX_CHECKS, Grade.NA)
    assert mailbox(report).status is Status.NOT_APPLICABLE
    assert not report.snapshot.services and not report.snapshot.tls


async def test_snapshot_round_trips_through_json_to_the_same_findings() -> None:
    domains = ("good.test", "clear.test", "notls.test", "implicit.test", "wrongname.test", "none.test")
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, domains)
        assert lab.mail.messages == []  # submission servers are greeted, never sent a message
    for report in reports.values():
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert snapshot == report.snapshot
        assert evaluate_snapshot(snapshot, MAILBOX_CHECKS).findings == report.findings
