"""The MTA-server checks end to end against the lab's SMTP servers: lab YAML → scan → graded findings.

Each domain of ``LAB`` has one MX (``mx.<domain>``) whose lab server shows one fact; every test asserts
the grade and the fact as the scan observed it (``report.snapshot.services`` / ``.tls``). Only the MTA
checks run, so the scans stay fast; servers answer on loopback in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from mimawari.checks import ALL_CHECKS
from mimawari.lab import Lab
from mimawari.lab.ca import WRONG_NAME, lab_tlsa
from mimawari.lookup import Snapshot
from mimawari.model import Finding, Grade, Severity, Status, Target
from mimawari.observations.mta import MtaObservation
from mimawari.observe.probe import SESSION_STEPS
from mimawari.parse.mta_sts import StsMode
from mimawari.parse.x509 import CertificateFacts, describe_certificate
from mimawari.probes import ServiceSession, TlsHandshake, TlsScan
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.serial import from_json, to_json

MTA_CHECKS = {k: c for k, c in ALL_CHECKS.items() if k.startswith("email.mta.")}
POLICY = "version: STSv1\\nmode: enforce\\nmx: mx.{0}\\nmax_age: 86400\\n"

LAB = f"""
zones:
  good.test:
    records:
      "@": {{MX: 10 mx.good.test.}}
      mx: {{A: 203.0.113.10, AAAA: "2001:db8::10"}}
      _mta-sts: {{TXT: "v=STSv1; id=1"}}
      mta-sts: {{A: 203.0.113.200}}
  plain.test: {{records: {{"@": {{MX: 10 mx.plain.test.}}, mx: {{A: 203.0.113.11}}}}}}
  handshake.test: {{records: {{"@": {{MX: 10 mx.handshake.test.}}, mx: {{A: 203.0.113.12}}}}}}
  selfsigned.test: {{records: {{"@": {{MX: 10 mx.selfsigned.test.}}, mx: {{A: 203.0.113.13}}}}}}
  expired.test: {{records: {{"@": {{MX: 10 mx.expired.test.}}, mx: {{A: 203.0.113.14}}}}}}
  wrongname.test:
    records:
      "@": {{MX: 10 mx.wrongname.test.}}
      mx: {{A: 203.0.113.15}}
      _mta-sts: {{TXT: "v=STSv1; id=1"}}
      mta-sts: {{A: 203.0.113.200}}
  tls10.test: {{records: {{"@": {{MX: 10 mx.tls10.test.}}, mx: {{A: 203.0.113.16}}}}}}
  weakcipher.test: {{records: {{"@": {{MX: 10 mx.weakcipher.test.}}, mx: {{A: 203.0.113.17}}}}}}
  rsa1024.test: {{records: {{"@": {{MX: 10 mx.rsa1024.test.}}, mx: {{A: 203.0.113.18}}}}}}
  dane.test:
    dnssec: {{}}
    records:
      "@": {{MX: 10 mx.dane.test.}}
      mx: {{A: 203.0.113.19}}
      _25._tcp.mx: {{TLSA: {lab_tlsa("mx.dane.test")}}}
  danebad.test:
    dnssec: {{}}
    records:
      "@": {{MX: 10 mx.danebad.test.}}
      mx: {{A: 203.0.113.20}}
      _25._tcp.mx: {{TLSA: {lab_tlsa("mx.dane.test")}}}     # another host's key
  relay.test: {{records: {{"@": {{MX: 10 mx.relay.test.}}, mx: {{A: 203.0.113.21}}}}}}
  vrfy.test: {{records: {{"@": {{MX: 10 mx.vrfy.test.}}, mx: {{A: 203.0.113.22}}}}}}
  auth.test: {{records: {{"@": {{MX: 10 mx.auth.test.}}, mx: {{A: 203.0.113.23}}}}}}
  bounce.test: {{records: {{"@": {{MX: 10 mx.bounce.test.}}, mx: {{A: 203.0.113.24}}}}}}
  ptr.test: {{records: {{"@": {{MX: 10 mx.ptr.test.}}, mx: {{A: 203.0.113.25}}}}}}
  isp.test: {{records: {{host25: {{A: 203.0.113.25}}}}}}
  postfix.test: {{records: {{"@": {{MX: 10 mx.postfix.test.}}, mx: {{A: 203.0.113.26}}}}}}
  smuggle.test: {{records: {{"@": {{MX: 10 mx.smuggle.test.}}, mx: {{A: 203.0.113.27}}}}}}
  strict.test: {{records: {{"@": {{MX: 10 mx.strict.test.}}, mx: {{A: 203.0.113.28}}}}}}
  113.0.203.in-addr.arpa:
    records:
      "10": {{PTR: mx.good.test.}}
      "25": {{PTR: host25.isp.test.}}
  8.b.d.0.1.0.0.2.ip6.arpa:
    records:
      0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: {{PTR: mx.good.test.}}
https:
  sites:
    mta-sts.good.test: {{paths: {{/.well-known/mta-sts.txt: {{body: "{POLICY.format("good.test")}"}}}}}}
    mta-sts.wrongname.test: {{paths: {{/.well-known/mta-sts.txt: {{body: "{POLICY.format("wrongname.test")}"}}}}}}
mail:
  servers:
    - host: mx.good.test
      addresses: [203.0.113.10, "2001:db8::10"]
      smtp: {{ciphers: "ECDHE+AESGCM:ECDHE+CHACHA20", curve: X25519}}
    - {{host: mx.plain.test, addresses: [203.0.113.11], smtp: {{starttls: false}}}}
    - host: mx.handshake.test                 # no cipher a client offers: the handshake fails
      addresses: [203.0.113.12]
      smtp: {{tls: [TLSv1.2], ciphers: "NULL-SHA256:@SECLEVEL=0"}}
    - {{host: mx.selfsigned.test, addresses: [203.0.113.13], smtp: {{cert: self-signed}}}}
    - {{host: mx.expired.test, addresses: [203.0.113.14], smtp: {{cert: expired}}}}
    - {{host: mx.wrongname.test, addresses: [203.0.113.15], smtp: {{cert: wrong-name}}}}
    - {{host: mx.tls10.test, addresses: [203.0.113.16], smtp: {{tls: [TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3]}}}}
    - {{host: mx.weakcipher.test, addresses: [203.0.113.17], smtp: {{tls: [TLSv1.2], ciphers: AES128-SHA, key: rsa2048}}}}
    - {{host: mx.rsa1024.test, addresses: [203.0.113.18], smtp: {{key: rsa1024}}}}
    - {{host: mx.dane.test, addresses: [203.0.113.19], smtp: {{}}}}
    - {{host: mx.danebad.test, addresses: [203.0.113.20], smtp: {{}}}}
    - {{host: mx.relay.test, addresses: [203.0.113.21], smtp: {{open_relay: true, smuggling: true, users: [info]}}}}
    - {{host: mx.vrfy.test, addresses: [203.0.113.22], smtp: {{vrfy: true, expn: true}}}}
    - {{host: mx.auth.test, addresses: [203.0.113.23], smtp: {{auth: before-tls}}}}
    - {{host: mx.bounce.test, addresses: [203.0.113.24], smtp: {{accept_unknown: true}}}}
    - {{host: mx.ptr.test, addresses: [203.0.113.25], smtp: {{}}}}
    - {{host: mx.postfix.test, addresses: [203.0.113.26], smtp: {{banner: mx.postfix.test ESMTP Postfix 3.5.6}}}}
    - {{host: mx.smuggle.test, addresses: [203.0.113.27], smtp: {{smuggling: true, users: [info]}}}}
    - {{host: mx.strict.test, addresses: [203.0.113.28], smtp: {{users: [info]}}}}
"""
STALLING_LAB = """
zones:
  tarpit.test: {records: {"@": {MX: 10 mx.tarpit.test.}, mx: {A: 203.0.113.30}}}
  mixed.test: {records: {"@": {MX: [10 mx.mixed.test., 20 mx.tarpit.test.]}, mx: {A: 203.0.113.31}}}
  slow.test: {records: {"@": {MX: 10 mx.slow.test.}, mx: {A: 203.0.113.32}}}
mail:
  servers:
    - {host: mx.tarpit.test, addresses: [203.0.113.30], smtp: {stall: true}}
    - {host: mx.mixed.test, addresses: [203.0.113.31], smtp: {}}
    - {host: mx.slow.test, addresses: [203.0.113.32], smtp: {slow: 2.1, starttls: false}}
"""


async def scan(
    lab: Lab, domains: Iterable[str], *, timeout: float = 1.0, recipient: str = ""
) -> dict[str, DomainReport]:
    """Scan ``domains`` with the MTA checks only; ``recipient`` (``{domain}`` filled in) is --intrusive."""
    anchors = lab.connection().trust_anchors
    targets = [
        Target(d, trust_anchors=anchors, smuggling_recipient=recipient.format(domain=d)) for d in domains
    ]
    reports = await scan_domains(targets, lab.network(probe_timeout=timeout), MTA_CHECKS)
    return {r.domain: r for r in reports}


def finding(report: DomainReport, check_id: str) -> Finding:
    return next(f for f in report.findings if f.check_id == check_id)


def grade(report: DomainReport, check_id: str) -> Grade:
    return finding(report, check_id).grade


def session(report: DomainReport, address: str | None = None) -> ServiceSession:
    """The domain's one SMTP session (or the one with ``address``), as recorded in the snapshot."""
    sessions = [s for s in report.snapshot.services if address in (None, s.request.address)]
    assert len(sessions) == 1, sessions
    return sessions[0]


def mta(report: DomainReport) -> MtaObservation:
    observation = report.observations["mta"]
    assert isinstance(observation, MtaObservation)
    return observation


def handshake(report: DomainReport, address: str | None = None) -> TlsHandshake:
    tls = session(report, address).tls
    assert tls is not None
    return tls


def leaf(report: DomainReport, address: str | None = None) -> CertificateFacts:
    facts = describe_certificate(handshake(report, address).chain_der[0])
    assert isinstance(facts, CertificateFacts)
    return facts


def tls_scan(report: DomainReport, address: str | None = None) -> TlsScan:
    (scanned,) = (s for s in report.snapshot.tls if address in (None, s.request.address))
    return scanned


def accepted(scanned: TlsScan) -> dict[str, tuple[str, ...]]:
    return {v.version: v.ciphers for v in scanned.accepted()}


GOOD_V4, GOOD_V6 = "203.0.113.10", "2001:db8::10"
SMTP_PROBES = (
    "email.mta.open_relay",
    "email.mta.vrfy_expn",
    "email.mta.auth_before_tls",
    "email.mta.unknown_recipient",
)
THREE_FACTS = ("email.mta.starttls", "email.mta.tls_handshake", "email.mta.certificate")


async def test_starttls_handshake_and_certificate_are_three_separate_facts() -> None:
    expected = {
        "good.test": (Grade.A, Grade.A, Grade.A),
        "plain.test": (Grade.E, Grade.NA, Grade.NA),  # no STARTTLS: graded once, by the STARTTLS check
        "handshake.test": (Grade.A, Grade.D, Grade.UNKNOWN),  # offered, then broken: no certificate seen
        "selfsigned.test": (Grade.A, Grade.A, Grade.C),
        "expired.test": (Grade.A, Grade.A, Grade.D),  # expired: the untrusted grade, but at least D
        "wrongname.test": (Grade.A, Grade.A, Grade.C),
    }
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, expected)
    assert {d: tuple(grade(reports[d], c) for c in THREE_FACTS) for d in expected} == expected
    plain = session(reports["plain.test"])
    assert plain.status is Status.PRESENT and plain.starttls_offered is False and plain.tls is None
    assert not reports["plain.test"].snapshot.tls
    broken = session(reports["handshake.test"])
    assert broken.starttls_offered is True and broken.starttls is not None and broken.starttls.code == 220
    assert broken.tls is not None and broken.tls.status is Status.ERROR
    assert not reports["handshake.test"].snapshot.tls  # nothing to scan without a working handshake
    selfsigned = handshake(reports["selfsigned.test"])
    assert selfsigned.status is Status.PRESENT and selfsigned.trusted is False
    assert leaf(reports["selfsigned.test"]).self_signed
    expired = handshake(reports["expired.test"])
    assert expired.status is Status.PRESENT and expired.trusted is False
    assert leaf(reports["expired.test"]).not_after < reports["expired.test"].snapshot.target.moment()
    # Issued by the lab CA for another name: the chain is trusted, the name is wrong.
    assert handshake(reports["wrongname.test"]).trusted is True
    assert leaf(reports["wrongname.test"]).names == (WRONG_NAME,)
    good = handshake(reports["good.test"], GOOD_V4)
    assert good.trusted is True and good.version == "TLSv1.3"
    assert leaf(reports["good.test"], GOOD_V4).names == ("mx.good.test",)


async def test_tls_versions_ciphers_and_keys_are_graded_by_the_profile() -> None:
    domains = ("good.test", "tls10.test", "weakcipher.test", "rsa1024.test")
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, domains)
    checks = ("email.mta.tls_versions", "email.mta.tls_ciphers", "email.mta.certificate_key")
    grades = {d: tuple(grade(reports[d], c) for c in checks) for d in domains}
    assert grades["good.test"] == (Grade.A, Grade.A, Grade.A)
    assert grades["tls10.test"][0] is Grade.C  # TLS 1.0 and 1.1: phase out
    # RSA key transport: phase out, and no forward secrecy; TLS 1.2 alone lacks TLS 1.3 (B).
    assert grades["weakcipher.test"] == (Grade.B, Grade.C, Grade.A)
    assert grade(reports["weakcipher.test"], "email.mta.tls_key_exchange") is Grade.C
    assert grades["rsa1024.test"][2] is Grade.E  # an RSA key under 2048 bits: insufficient
    good = tls_scan(reports["good.test"], GOOD_V4)
    assert set(accepted(good)) == {"TLSv1.2", "TLSv1.3"}
    assert {g.group for g in good.groups if g.status is Status.PRESENT} == {"x25519"}
    assert set(accepted(tls_scan(reports["tls10.test"]))) == {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
    assert {v.version: v.status for v in tls_scan(reports["tls10.test"]).versions}["SSLv3"] is Status.ABSENT
    assert accepted(tls_scan(reports["weakcipher.test"])) == {"TLSv1.2": ("TLS_RSA_WITH_AES_128_CBC_SHA",)}
    assert "TLS_RSA_WITH_AES_128_CBC_SHA" in finding(reports["weakcipher.test"], checks[1]).summary.en
    key = leaf(reports["rsa1024.test"])
    assert (key.key_type, key.key_bits) == ("RSA", 1024)
    assert grade(reports["rsa1024.test"], "email.mta.certificate") is Grade.A  # the key, not the chain


async def test_dane_match_and_mismatch() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("dane.test", "danebad.test"))
        (unanchored,) = await scan_domains(["danebad.test"], lab.network(probe_timeout=1.0), MTA_CHECKS)
    assert grade(reports["dane.test"], "email.mta.dane") is Grade.A
    mismatch = finding(reports["danebad.test"], "email.mta.dane")
    assert mismatch.grade is Grade.E and mismatch.severity is Severity.CRITICAL
    # The fix publishes the key the server presents, which is the lab's key for that host.
    digest = lab_tlsa("mx.danebad.test")
    assert mismatch.fix is not None and mismatch.fix.snippet == f"_25._tcp.mx.danebad.test. IN TLSA {digest}"
    assert digest.split()[-1] in " ".join(e.value for e in mismatch.evidence)
    dane = mta(reports["danebad.test"]).dane
    assert dane is not None and [h.secure for h in dane.hosts] == [True]
    assert handshake(reports["danebad.test"]).status is Status.PRESENT  # DANE fails, TLS itself works
    # Without the lab's trust anchor the TLSA records are not DNSSEC-secure: no sender uses DANE there.
    assert grade(unanchored, "email.mta.dane") is Grade.NA


async def test_mta_sts_policy_against_the_certificate_names() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("good.test", "wrongname.test", "plain.test"))
    assert grade(reports["good.test"], "email.mta.mta_sts_names") is Grade.A
    wrong = finding(reports["wrongname.test"], "email.mta.mta_sts_names")
    assert wrong.grade is Grade.E  # enforce mode: senders refuse to deliver there
    assert f"names {WRONG_NAME}, not mx.wrongname.test" in wrong.evidence[0].value
    sts = mta(reports["wrongname.test"]).mta_sts
    assert sts is not None and sts.policy is not None
    assert sts.policy.mode is StsMode.ENFORCE and sts.policy.mx == ("mx.wrongname.test",)
    assert grade(reports["plain.test"], "email.mta.mta_sts_names") is Grade.NA  # no policy published


async def test_relay_vrfy_auth_and_recipient_probes() -> None:
    expected = {
        "good.test": (Grade.A, Grade.A, Grade.A, Grade.A),
        "relay.test": (Grade.E, Grade.A, Grade.A, Grade.A),
        "vrfy.test": (Grade.A, Grade.C, Grade.A, Grade.A),
        "auth.test": (Grade.A, Grade.A, Grade.D, Grade.A),
        "bounce.test": (Grade.A, Grade.A, Grade.A, Grade.C),
    }
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, expected)
    assert {d: tuple(grade(reports[d], c) for c in SMTP_PROBES) for d in expected} == expected
    assert finding(reports["relay.test"], "email.mta.open_relay").severity is Severity.CRITICAL
    relay, good = session(reports["relay.test"]), session(reports["good.test"], GOOD_V4)
    assert relay.relay_rcpt is not None and relay.relay_rcpt.code == 250
    assert good.relay_rcpt is not None and good.relay_rcpt.code == 554
    vrfy = session(reports["vrfy.test"])
    assert vrfy.vrfy is not None and vrfy.vrfy.code == 252 and vrfy.expn is not None and vrfy.expn.code == 250
    assert good.vrfy is not None and good.vrfy.code == 502
    assert "AUTH PLAIN LOGIN" in session(reports["auth.test"]).capabilities
    assert not any(c.startswith("AUTH") for c in good.capabilities)
    bounce = session(reports["bounce.test"])
    assert bounce.unknown_rcpt is not None and bounce.unknown_rcpt.code == 250
    assert good.unknown_rcpt is not None and good.unknown_rcpt.code == 550


async def test_banner_against_reverse_dns() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("good.test", "ptr.test", "plain.test"))
    assert grade(reports["good.test"], "email.mta.banner_ptr") is Grade.A  # both addresses confirmed
    assert grade(reports["ptr.test"], "email.mta.banner_ptr") is Grade.C  # PTR names another host
    assert grade(reports["plain.test"], "email.mta.banner_ptr") is Grade.D  # no PTR at all
    reverse = {r.address: r for r in mta(reports["ptr.test"]).mx.reverse}
    assert reverse["203.0.113.25"].names == ("host25.isp.test",)
    greeting = session(reports["ptr.test"]).greeting
    assert greeting is not None and greeting.lines == ("mx.ptr.test ESMTP",)


async def test_software_and_smuggling_exposure_from_the_banner() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("postfix.test", "good.test"))
    postfix = reports["postfix.test"]
    assert grade(postfix, "email.mta.software") is Grade.B  # a version shown, no known general issue
    smuggling = finding(postfix, "email.mta.smtp_smuggling")
    assert smuggling.grade is Grade.C and "CVE-2023-51764" in smuggling.summary.en
    greeting = session(postfix).greeting
    assert greeting is not None and greeting.describe() == "220 mx.postfix.test ESMTP Postfix 3.5.6"
    assert not session(postfix).smuggling  # judged from the version: no message was sent
    assert grade(reports["good.test"], "email.mta.software") is Grade.A
    assert grade(reports["good.test"], "email.mta.smtp_smuggling") is Grade.UNKNOWN  # nothing to judge by


async def test_every_address_of_an_mx_is_probed_ipv4_and_ipv6() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("good.test",))
    report = reports["good.test"]
    assert {s.request.address for s in report.snapshot.services} == {GOOD_V4, GOOD_V6}
    for address in (GOOD_V4, GOOD_V6):
        probed = session(report, address)
        assert probed.status is Status.PRESENT and probed.tls is not None and probed.tls.trusted is True
    assert {s.request.address for s in report.snapshot.tls} == {GOOD_V4, GOOD_V6}
    labels = {e.source for e in finding(report, "email.mta.starttls").evidence}
    assert labels == {"mx.good.test 203.0.113.10:25", "mx.good.test [2001:db8::10]:25"}


async def test_no_probe_sends_data_without_intrusive() -> None:
    async with Lab.from_yaml(LAB) as lab:
        hosts = {server.host for server in lab.mail.servers.servers}
        reports = await scan(lab, (host.removeprefix("mx.") for host in hosts))
        assert lab.mail.messages == []
    assert {s.request.host for r in reports.values() for s in r.snapshot.services} == hosts
    for report in reports.values():
        assert not mta(report).intrusive
        assert all(s.request.smuggling_recipient == "" and not s.smuggling for s in report.snapshot.services)
    # The open relay accepted the outside recipient, and still got no DATA: the test stops at RCPT.
    relay = session(reports["relay.test"])
    assert relay.relay_rcpt is not None and relay.relay_rcpt.code == 250


async def test_intrusive_smuggling_probe_writes_only_to_the_named_recipient() -> None:
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, ("smuggle.test", "strict.test"), timeout=0.75, recipient="info@{domain}")
        messages = list(lab.mail.messages)
    exposed = finding(reports["smuggle.test"], "email.mta.smtp_smuggling")
    assert exposed.grade is Grade.E
    assert grade(reports["strict.test"], "email.mta.smtp_smuggling") is Grade.A
    assert mta(reports["smuggle.test"]).intrusive
    probes = {p.sequence: p.accepted for p in session(reports["smuggle.test"]).smuggling}
    assert probes == {"\\n.\\n": True, "\\n.\\r\\n": True, "\\r.\\r\\n": False}
    assert [p.accepted for p in session(reports["strict.test"]).smuggling] == [False, False, False]
    assert messages, "the intrusive probe sends test messages"
    assert {(m.host, m.rcpt_tos) for m in messages} == {
        ("mx.smuggle.test", ("info@smuggle.test",)),
        ("mx.strict.test", ("info@strict.test",)),
    }


async def test_tarpit_is_unknown_never_missing_and_ends_within_the_timeout() -> None:
    timeout = 0.5
    async with Lab.from_yaml(STALLING_LAB) as lab:
        started = time.perf_counter()
        reports = await scan(lab, ("tarpit.test", "mixed.test"), timeout=timeout)
        elapsed = time.perf_counter() - started
    assert elapsed < SESSION_STEPS * timeout + 5
    tarpit = reports["tarpit.test"]
    stalled = session(tarpit)
    assert stalled.status is Status.TIMEOUT and stalled.greeting is None and stalled.starttls_offered is None
    assert not tarpit.snapshot.tls
    grades = {f.check_id: f.grade for f in tarpit.findings}
    no_policy = {"email.mta.dane", "email.mta.mta_sts_names"}  # decided by DNS alone: none published
    no_reports = {"email.mta.tls_reports"}  # the scan was given no TLS reports
    undecided = {k: g for k, g in grades.items() if k not in no_policy | no_reports}
    assert set(undecided.values()) == {Grade.UNKNOWN}, undecided
    assert grades["email.mta.dane"] is Grade.NA and grades["email.mta.mta_sts_names"] is Grade.NA
    assert grades["email.mta.tls_reports"] is Grade.NA
    # Beside a server that answers, the tarpit is left out of the grade and named as not seen.
    mixed = finding(reports["mixed.test"], "email.mta.starttls")
    assert mixed.grade is Grade.A and "mx.tarpit.test 203.0.113.30:25" in mixed.summary.en
    assert session(reports["mixed.test"], "203.0.113.30").status is Status.TIMEOUT
    # The timeouts are data too: the snapshot replays to the same findings.
    for report in reports.values():
        replayed = evaluate_snapshot(from_json(Snapshot, to_json(report.snapshot)), MTA_CHECKS)
        assert replayed.findings == report.findings


async def test_slow_greeting_within_the_timeout_is_answered_and_its_latency_graded() -> None:
    async with Lab.from_yaml(STALLING_LAB) as lab:
        reports = await scan(lab, ("slow.test",), timeout=3.0)
    slow = session(reports["slow.test"])
    assert slow.status is Status.PRESENT and slow.greeting is not None and slow.greeting.code == 220
    assert slow.greeting_ms is not None and slow.greeting_ms >= 2000
    assert grade(reports["slow.test"], "email.mta.reachable") is Grade.A
    assert grade(reports["slow.test"], "email.mta.latency") is Grade.B  # 2 to 5 seconds


async def test_snapshot_round_trips_through_json_to_the_same_findings() -> None:
    domains = ("good.test", "plain.test", "handshake.test", "selfsigned.test", "dane.test", "relay.test")
    async with Lab.from_yaml(LAB) as lab:
        reports = await scan(lab, domains)
    for report in reports.values():
        snapshot = from_json(Snapshot, to_json(report.snapshot))
        assert snapshot == report.snapshot
        assert evaluate_snapshot(snapshot, MTA_CHECKS).findings == report.findings
