"""MTA-server checks on recorded scans: every grade of every check, timeouts as unknown, no MX as N/A."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimawari.checks.email.mta import dane as dane_check
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Response, Snapshot
from mimawari.model import Finding, Grade, Severity, Status, Target
from mimawari.observations.dane import DaneObservation, MxTlsa, parse_tlsa
from mimawari.observations.dnssec import Validation
from mimawari.observations.mta import MTA
from mimawari.observe import DnsClient, Network, ProbeClient, run_plan
from mimawari.parse.dnssec import Security
from mimawari.probes import (
    ProbeRequest,
    ProbeResult,
    ServiceRequest,
    ServiceSession,
    SmugglingProbe,
    TlsScan,
    VersionSupport,
)
from mimawari.scan import evaluate_snapshot
from tests.mta_sessions import (
    INTRUSIVE,
    MTA_CHECKS,
    MX1,
    MX2,
    D,
    answers,
    certificate,
    chain_of,
    check,
    handshake,
    observe,
    ok,
    policy_fetch,
    refused,
    reverse_name,
    scan,
    session,
    sts_answers,
    timed_out,
)

GOOD = (session(MX1), session(MX2), scan(MX1), scan(MX2))
ALL_IDS = tuple(MTA_CHECKS)


def grades(result: Finding) -> tuple[Grade, Grade | None]:
    return result.grade, result.after_fix.grade if result.after_fix else None


def snippet_of(result: Finding) -> str:
    assert result.fix is not None and result.fix.snippet is not None
    return result.fix.snippet


def evidence_of(result: Finding) -> str:
    return " | ".join(f"{e.source}: {e.value}" for e in result.evidence)


# --- every check: not applicable, unknown, texts ---------------------------------------------------


@pytest.mark.parametrize("check_id", ALL_IDS)
def test_no_mail_servers_is_not_applicable(check_id: str) -> None:
    assert check(check_id, dns={f"{D} MX": ["0 ."]}).grade is Grade.NA
    assert check(check_id, dns={f"{D} MX": "NODATA"}).grade is Grade.NA


@pytest.mark.parametrize("check_id", ALL_IDS)
def test_mx_lookup_failure_is_unknown(check_id: str) -> None:
    result = check(check_id, dns={f"{D} MX": "timeout"})
    assert result.grade is Grade.UNKNOWN
    assert "timeout" in result.summary.en and result.fix is None


@pytest.mark.parametrize(
    "check_id", [i for i in ALL_IDS if i not in ("email.mta.dane", "email.mta.mta_sts_names")]
)
def test_servers_that_never_answer_are_unknown_never_missing(check_id: str) -> None:
    result = check(check_id, timed_out(MX1), timed_out(MX2))
    assert result.grade is Grade.UNKNOWN, result.summary.en
    assert result.fix is None
    assert "timeout" in result.summary.en and "not offered" not in result.summary.en


@pytest.mark.parametrize("check_id", ALL_IDS)
def test_mx_hosts_without_addresses(check_id: str) -> None:
    dns = {
        f"{D} MX": ["10 mx1.example.test."],
        "mx1.example.test A": "NXDOMAIN",
        "mx1.example.test AAAA": "NXDOMAIN",
    }
    assert check(check_id, dns=dns).grade is Grade.NA
    dns["mx1.example.test A"] = "timeout"
    assert check(check_id, dns=dns).grade is Grade.UNKNOWN


def test_healthy_servers_pass() -> None:
    passing = {i: check(i, *GOOD).grade for i in ALL_IDS}
    assert passing == {
        **dict.fromkeys(ALL_IDS, Grade.A),
        "email.mta.dane": Grade.NA,  # no DNSSEC-secure TLSA records in this snapshot
        "email.mta.mta_sts_names": Grade.UNKNOWN,  # the _mta-sts lookup was not recorded
        "email.mta.smtp_smuggling": Grade.UNKNOWN,  # "ESMTP Postfix": no version, not tested actively
    }
    result = check("email.mta.starttls", *GOOD)
    assert result.evidence[0].source == "mx1.example.test 192.0.2.25:25"
    assert "STARTTLS" in result.evidence[0].value


def test_every_failing_verdict_has_japanese_text_a_fix_and_an_after_fix() -> None:
    failing = [
        check("email.mta.reachable", refused(MX1), session(MX2)),
        check("email.mta.starttls", session(starttls_offered=False, capabilities=("SIZE 1",))),
        check("email.mta.open_relay", session(relay_rcpt=ok(250, "2.1.5 Ok"))),
        check("email.mta.latency", session(greeting_ms=20_000.0)),
        check("email.mta.software", session(greeting=ok(220, "mx1.example.test ESMTP Exim 4.92"))),
    ]
    for result in failing:
        assert result.summary.ja and result.summary.ja != result.summary.en
        assert result.fix is not None and result.fix.action.ja
        assert (
            result.after_fix is not None and result.after_fix.grade is Grade.A and result.after_fix.effect.ja
        )


# --- email.mta.reachable -----------------------------------------------------------------------------


def test_reachable_grades() -> None:
    some = check("email.mta.reachable", refused(MX1), session(MX2))
    assert grades(some) == (Grade.C, Grade.A)
    assert "mx1.example.test 192.0.2.25:25" in some.summary.en and "mx2" not in some.summary.en
    assert "inet_interfaces = all" in snippet_of(some)
    none = check("email.mta.reachable", refused(MX1), refused(MX2))
    assert (none.grade, none.severity) == (Grade.E, Severity.CRITICAL)
    assert check("email.mta.reachable", refused(MX1), timed_out(MX2)).grade is Grade.D
    greeting_554 = session(greeting=ok(554, "5.7.1 no SMTP service here"), starttls_offered=None)
    result = check("email.mta.reachable", greeting_554, session(MX2))
    assert result.grade is Grade.C and "554 5.7.1 no SMTP service here" in evidence_of(result)
    timeouts = check("email.mta.reachable", timed_out(MX1), session(MX2))
    assert timeouts.grade is Grade.A and "no connection within 10 s" in evidence_of(timeouts)
    assert "Not seen for mx1.example.test 192.0.2.25:25" in timeouts.summary.en


def test_out_of_scope_address_is_left_out() -> None:
    out = refused(MX1, "out of scope: 192.0.2.25 is a private address")
    assert check("email.mta.reachable", out, refused(MX2, out.detail)).grade is Grade.NA
    assert check("email.mta.reachable", out, session(MX2)).grade is Grade.A


# --- STARTTLS and the handshake ----------------------------------------------------------------------


def test_starttls_not_offered_is_e() -> None:
    plain = session(
        MX2, starttls_offered=False, capabilities=("PIPELINING", "SIZE 1"), starttls=None, tls=None
    )
    result = check("email.mta.starttls", session(MX1), plain)
    assert grades(result) == (Grade.E, Grade.A)
    assert "clear text" in result.summary.en and "mx2.example.test" in result.summary.en
    assert "smtpd_tls_security_level = may" in snippet_of(result)
    assert "/etc/letsencrypt/live/mx2.example.test/" in snippet_of(result)
    assert "Enable-ExchangeCertificate" in snippet_of(result)
    # A session that stopped before EHLO tells nothing about STARTTLS.
    early = session(MX2, starttls_offered=None, capabilities=(), detail="the session ended early")
    assert check("email.mta.starttls", session(MX1), early).grade is Grade.A
    assert check("email.mta.starttls", early, timed_out(MX1)).grade is Grade.UNKNOWN


def test_tls_handshake_grades() -> None:
    refused_tls = session(starttls=ok(454, "4.7.0 TLS not available due to local problem"), tls=None)
    result = check("email.mta.tls_handshake", refused_tls, session(MX2))
    assert grades(result) == (Grade.D, Grade.A)
    assert "454 4.7.0 TLS not available" in evidence_of(result)
    broken = session(tls=handshake(MX1[0], status=Status.ERROR, detail="sslv3 alert handshake failure"))
    result = check("email.mta.tls_handshake", broken)
    assert result.grade is Grade.D and "sslv3 alert handshake failure" in evidence_of(result)
    assert "openssl s_client -starttls smtp -connect mx1.example.test:25" in snippet_of(result)
    slow = session(tls=handshake(MX1[0], status=Status.TIMEOUT, detail="no TLS handshake within 10 s"))
    assert check("email.mta.tls_handshake", slow).grade is Grade.UNKNOWN
    plain = session(starttls_offered=False, starttls=None, tls=None)
    assert check("email.mta.tls_handshake", plain, dns=answers(MX1)).grade is Grade.NA
    assert check("email.mta.tls_handshake", plain).grade is Grade.UNKNOWN  # MX2 was not recorded: timeout
    assert "TLSv1.3 TLS_AES_256_GCM_SHA384" in evidence_of(check("email.mta.tls_handshake", *GOOD))


# --- the shared TLS verdicts ---------------------------------------------------------------------------


def test_tls_wrappers_use_the_shared_grading() -> None:
    untrusted = session(tls=handshake(MX1[0], trusted=False, trust_detail="unable to get local issuer"))
    result = check("email.mta.certificate", untrusted, scan(MX1))
    assert result.grade is Grade.C  # opportunistic senders still deliver: C, not the mailbox category's E
    weak = scan(MX1, versions=(VersionSupport("TLSv1.0", Status.PRESENT, ("TLS_RSA_WITH_AES_128_CBC_SHA",)),))
    assert (
        check("email.mta.tls_versions", session(tls=handshake(MX1[0], version="TLSv1.0")), weak).grade
        is Grade.C
    )
    for check_id in ("email.mta.tls_versions", "email.mta.tls_ciphers", "email.mta.tls_key_exchange"):
        # No scan recorded (it timed out): could not be examined, never "no TLS".
        assert check(check_id, session(MX1)).grade is Grade.UNKNOWN, check_id
    plain = session(starttls_offered=False, starttls=None, tls=None)
    assert check("email.mta.certificate", plain, dns=answers(MX1)).grade is Grade.NA
    assert check("email.mta.certificate_key", session(MX1), timed_out(MX2)).grade is Grade.A


# --- DANE ----------------------------------------------------------------------------------------------


def spki_hash(der: bytes) -> str:
    key = x509.load_der_x509_certificate(der).public_key()
    return hashlib.sha256(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


def validation(name: str, rdtype: str, records: tuple[str, ...], security: Security) -> Validation:
    status = Status.PRESENT if records else Status.ABSENT
    return Validation(name, rdtype, security, D, (), status, records)


def dane_of(host: str, *records: str, security: Security = Security.SECURE) -> DaneObservation:
    tlsa = MxTlsa(
        host,
        validation(host, "A", ("192.0.2.25",), Security.SECURE),
        validation(f"_25._tcp.{host}", "TLSA", records, security),
        tuple(map(parse_tlsa, records)),
    )
    return DaneObservation(D, validation(D, "MX", (f"10 {host}.",), Security.SECURE), (tlsa,))


def dane_verdict(
    *records: str, server: ServiceSession | None = None, security: Security = Security.SECURE
) -> Finding:
    observation = observe(server if server is not None else session(MX1), dns=answers(MX1))
    with_dane = replace(observation, dane=dane_of(MX1[0], *records, security=security))
    return dane_check.CHECK.finding(D, with_dane)


def test_dane_ee_and_ta_matches_pass() -> None:
    leaf, ca = certificate(MX1[0])
    assert dane_verdict(f"3 1 1 {spki_hash(leaf)}").grade is Grade.A
    assert dane_verdict(f"2 0 1 {hashlib.sha256(ca).hexdigest()}").grade is Grade.A


def test_dane_mismatch_is_critical_with_the_record_to_publish() -> None:
    leaf, _ca = certificate(MX1[0])
    result = dane_verdict(f"3 1 1 {'ab' * 32}")
    assert (result.grade, result.severity) == (Grade.E, Severity.CRITICAL)
    assert snippet_of(result) == f"_25._tcp.{MX1[0]}. IN TLSA 3 1 1 {spki_hash(leaf)}"
    assert "defer" in result.summary.en


def test_dane_ta_needs_the_host_name() -> None:
    wrong = session(tls=handshake(MX1[0], chain=chain_of("other.example.net")))
    _leaf, ca = certificate("other.example.net")
    result = dane_verdict(f"2 0 1 {hashlib.sha256(ca).hexdigest()}", server=wrong)
    assert result.grade is Grade.E and "not mx1.example.test" in evidence_of(result)


def test_dane_without_starttls_or_secure_records() -> None:
    digest = f"3 1 1 {'ab' * 32}"
    no_tls = session(starttls_offered=False, starttls=None, tls=None)
    assert dane_verdict(digest, server=no_tls).grade is Grade.E
    assert dane_verdict(digest, security=Security.INSECURE).grade is Grade.NA
    refused_tls = session(starttls=ok(454, "4.7.0 TLS not available"), tls=None)
    assert dane_verdict(digest, server=refused_tls).grade is Grade.E
    failed = session(tls=handshake(MX1[0], status=Status.ERROR, detail="no shared cipher", chain=()))
    assert dane_verdict(digest, server=failed).grade is Grade.E
    no_chain = session(tls=handshake(MX1[0], chain=()))
    assert "no certificate presented" in evidence_of(dane_verdict(digest, server=no_chain))
    slow = session(tls=handshake(MX1[0], status=Status.TIMEOUT))
    assert dane_verdict(digest, server=slow).grade is Grade.UNKNOWN
    assert dane_verdict(digest, server=timed_out(MX1)).grade is Grade.UNKNOWN


LAB_LEAF, _LAB_CA = certificate("mx.dane.example")
LAB_YAML = f"""
zones:
  example:
    dnssec: {{}}
  dane.example:
    dnssec: {{}}
    records:
      "@": {{MX: 10 mx.dane.example.}}
      mx: {{A: 192.0.2.10}}
      _25._tcp.mx: {{TLSA: 3 1 1 {spki_hash(LAB_LEAF)}}}
"""


class RecordedProbes(ProbeClient):
    """Answers probe requests from prepared sessions, the way a lab MX would have."""

    def __init__(self, host: str, chain: tuple[str, ...]) -> None:
        super().__init__()
        self.host, self.chain = host, chain

    async def probe(self, request: ProbeRequest) -> ProbeResult:
        if not isinstance(request, ServiceRequest):
            return TlsScan(request, Status.TIMEOUT, detail="not scanned in this test")
        found = session((request.host, request.address), tls=handshake(request.host, chain=self.chain))
        return replace(found, request=request)


@pytest.fixture
async def signed_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB_YAML)) as lab:
        yield lab


async def test_dane_end_to_end_with_a_signed_lab_zone(signed_lab: DnsLab) -> None:
    # The lab signs its zones now, so the scan's moment is now (signatures are judged at it).
    target = Target("dane.example", trust_anchors=signed_lab.trust_anchors, observed_at=int(time.time()))
    for chain, expected in ((chain_of("mx.dane.example"), Grade.A), (chain_of("mx.other.example"), Grade.E)):
        network = Network(DnsClient([signed_lab.nameserver], timeout=1.0), probes=RecordedProbes("mx", chain))
        recorded: list[Response] = []
        await run_plan(MTA.plan(target), network, recorded)
        report = evaluate_snapshot(Snapshot.of(target, recorded), {"email.mta.dane": dane_check.CHECK})
        (result,) = report.findings
        assert result.grade is expected, result.summary.en


# --- MTA-STS -------------------------------------------------------------------------------------------

POLICY = "version: STSv1\nmode: {mode}\nmx: mx1.example.test\nmx: mx2.example.test\nmax_age: 604800\n"


def sts(*probes: ServiceSession, mode: str = "enforce", body: str | None = None) -> Finding:
    fetched = policy_fetch(body if body is not None else POLICY.format(mode=mode))
    return check("email.mta.mta_sts_names", *probes, fetched, dns=sts_answers())


def test_mta_sts_names_pass_and_not_applicable() -> None:
    assert sts(session(MX1), session(MX2)).grade is Grade.A
    dns = {**answers(), f"_mta-sts.{D} TXT": "NODATA"}
    assert check("email.mta.mta_sts_names", *GOOD, dns=dns).grade is Grade.NA
    dns[f"_mta-sts.{D} TXT"] = "timeout"
    assert check("email.mta.mta_sts_names", *GOOD, dns=dns).grade is Grade.UNKNOWN
    assert sts(session(MX1), session(MX2), mode="none").grade is Grade.NA
    slow = replace(policy_fetch(""), status=Status.TIMEOUT, http_status=None, detail="no answer within 5 s")
    result = check("email.mta.mta_sts_names", *GOOD, slow, dns=sts_answers())
    assert result.grade is Grade.UNKNOWN and "no answer within 5 s" in result.summary.en


def test_mta_sts_uncovered_host_in_enforce_mode() -> None:
    body = "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 604800\n"
    result = sts(session(MX1), session(MX2), body=body)
    assert grades(result) == (Grade.E, Grade.A)
    assert "mx: mx2.example.test" in snippet_of(result) and "matches no mx pattern" in evidence_of(result)


def test_mta_sts_certificate_problems() -> None:
    untrusted = session(MX2, tls=handshake(MX2[0], trusted=False, trust_detail="self-signed certificate"))
    testing = sts(session(MX1), untrusted, mode="testing")
    assert (testing.grade, testing.severity) == (Grade.C, Severity.MEDIUM)
    assert "self-signed certificate" in evidence_of(testing)
    wrong_name = session(MX2, tls=handshake(MX2[0], chain=chain_of("mail.hoster.example")))
    result = sts(session(MX1), wrong_name)
    assert result.grade is Grade.E and "names mail.hoster.example, not mx2.example.test" in evidence_of(
        result
    )
    assert "certbot certonly -d mx2.example.test" in snippet_of(result)
    assert sts(session(MX1), session(MX2, starttls_offered=False, tls=None, starttls=None)).grade is Grade.E
    assert sts(session(MX1), timed_out(MX2)).grade is Grade.A  # the timed-out server is left out


# --- the probes in clear text --------------------------------------------------------------------------


def test_open_relay_is_critical_with_the_conversation() -> None:
    result = check("email.mta.open_relay", session(relay_rcpt=ok(250, "2.1.5 Ok")), session(MX2))
    assert (result.grade, result.severity) == (Grade.E, Severity.CRITICAL)
    assert "MAIL FROM:<relay-test@mimawari-probe.example>" in evidence_of(result)
    assert "RCPT TO:<relay-test@relay-target.example> → 250 2.1.5 Ok; RSET" in evidence_of(result)
    assert "reject_unauth_destination" in snippet_of(result)


def test_open_relay_that_could_not_be_tested_is_unknown() -> None:
    refused_mail = session(relay_mail=ok(554, "5.7.1 Client host rejected"), relay_rcpt=None)
    result = check("email.mta.open_relay", refused_mail)
    assert result.grade is Grade.UNKNOWN and "before RCPT" in result.summary.en
    greylisted = session(relay_rcpt=ok(450, "4.7.1 Greylisted"))
    assert check("email.mta.open_relay", greylisted).grade is Grade.UNKNOWN
    assert check("email.mta.open_relay", greylisted, session(MX2)).grade is Grade.A


def test_vrfy_and_expn() -> None:
    result = check("email.mta.vrfy_expn", session(vrfy=ok(250, "2.0.0 <postmaster@example.test>")))
    assert grades(result) == (Grade.C, Grade.A)
    assert "disable_vrfy_command = yes" in snippet_of(result)
    assert check("email.mta.vrfy_expn", session(expn=ok(250, "2.1.5 root"))).grade is Grade.C
    assert check("email.mta.vrfy_expn", session(vrfy=ok(502, "5.5.1 VRFY disabled"))).grade is Grade.A
    assert check("email.mta.vrfy_expn", session(vrfy=None, expn=None)).grade is Grade.UNKNOWN


def test_auth_before_tls() -> None:
    plain = session(capabilities=("STARTTLS", "AUTH PLAIN LOGIN"))
    result = check("email.mta.auth_before_tls", plain)
    assert grades(result) == (Grade.D, Grade.A)
    assert "smtpd_tls_auth_only = yes" in snippet_of(result)
    assert check("email.mta.auth_before_tls", session(capabilities=("AUTH=LOGIN",))).grade is Grade.D
    assert check("email.mta.auth_before_tls", session(capabilities=("AUTH CRAM-MD5",))).grade is Grade.C
    after = check("email.mta.auth_before_tls", session())  # AUTH only in capabilities_tls
    assert after.grade is Grade.A and "after: AUTH PLAIN LOGIN" in evidence_of(after)
    assert check("email.mta.auth_before_tls", session(starttls_offered=None)).grade is Grade.UNKNOWN


def test_unknown_recipient() -> None:
    accepted = check("email.mta.unknown_recipient", session(unknown_rcpt=ok(250, "2.1.5 Ok")))
    assert grades(accepted) == (Grade.C, Grade.A)
    assert "smtpd_reject_unlisted_recipient = yes" in snippet_of(accepted)
    assert "RCPT TO:<mimawari-" in evidence_of(accepted) and "@example.test>" in evidence_of(accepted)
    assert (
        check("email.mta.unknown_recipient", session(unknown_rcpt=ok(450, "4.2.0 Greylisted"))).grade
        is Grade.B
    )
    assert check("email.mta.unknown_recipient", session(unknown_rcpt=None)).grade is Grade.UNKNOWN


# --- banner, reverse DNS, latency ----------------------------------------------------------------------


def test_banner_and_ptr() -> None:
    other = session(greeting=ok(220, "smtp.hoster.example ESMTP"))
    result = check("email.mta.banner_ptr", other, dns=answers(MX1))
    assert grades(result) == (Grade.C, Grade.A)
    assert "myhostname = mx1.example.test" in snippet_of(result)
    assert f"{reverse_name(MX1[1])}. IN PTR mx1.example.test." in snippet_of(result)
    no_ptr = answers(MX1, ptr={MX1[1]: "NXDOMAIN"})
    assert check("email.mta.banner_ptr", session(), dns=no_ptr).grade is Grade.D
    unconfirmed = answers(MX1, ptr={MX1[1]: ["host-25.isp.example."]})
    unconfirmed["host-25.isp.example A"] = ["203.0.113.9"]
    result = check(
        "email.mta.banner_ptr", session(greeting=ok(220, "host-25.isp.example ESMTP")), dns=unconfirmed
    )
    assert result.grade is Grade.C and "does not resolve back" in evidence_of(result)
    nameless = session(greeting=ok(220, "ESMTP ready"))
    assert check("email.mta.banner_ptr", nameless, dns=answers(MX1)).grade is Grade.B
    slow_ptr = answers(MX1, ptr={MX1[1]: "timeout"})
    assert check("email.mta.banner_ptr", session(), dns=slow_ptr).grade is Grade.UNKNOWN
    private = ("mx1.example.test", "10.0.0.25")
    dns = {
        f"{D} MX": ["10 mx1.example.test."],
        "mx1.example.test A": ["10.0.0.25"],
        "mx1.example.test AAAA": "NODATA",
    }
    assert check("email.mta.banner_ptr", session(private), dns=dns).grade is Grade.NA


@pytest.mark.parametrize(
    ("greeting_ms", "grade"),
    [(100.0, Grade.A), (3_000.0, Grade.B), (6_000.0, Grade.C), (20_000.0, Grade.D)],
)
def test_latency_thresholds(greeting_ms: float, grade: Grade) -> None:
    result = check("email.mta.latency", session(greeting_ms=greeting_ms), session(MX2))
    assert result.grade is grade
    if grade is not Grade.A:
        assert (
            "postscreen_greet_wait" in result.summary.en
        )  # the greeting dominates: say it may be deliberate
        assert "mx1.example.test" in result.summary.en and "mx2" not in result.summary.en


def test_latency_without_timings_is_unknown_and_slow_connect_has_no_note() -> None:
    assert check("email.mta.latency", session(capabilities_ms=None)).grade is Grade.UNKNOWN
    result = check("email.mta.latency", session(connect_ms=4_000.0))
    assert result.grade is Grade.B and "postscreen" not in result.summary.en


# --- software and SMTP smuggling ------------------------------------------------------------------------


def banner(text: str) -> ServiceSession:
    return session(greeting=ok(220, f"mx1.example.test ESMTP {text}"))


@pytest.mark.parametrize(
    ("text", "grade", "severity"),
    [
        ("Postfix (Debian/GNU)", Grade.A, Severity.INFO),
        ("", Grade.A, Severity.INFO),
        ("Exim 4.98 Thu, 01 Jan 2026", Grade.B, Severity.LOW),
        ("Postfix 3.8.3", Grade.B, Severity.LOW),  # SMTP smuggling is the smuggling check's
        ("Exim 4.96 Thu, 01 Jan 2026", Grade.D, Severity.HIGH),  # CVE-2023-42115 needs EXTERNAL: D
        ("Exim 4.92 Thu, 01 Jan 2026", Grade.E, Severity.CRITICAL),  # 21Nails
        ("OpenSMTPD 6.6.1", Grade.E, Severity.CRITICAL),
    ],
)
def test_software(text: str, grade: Grade, severity: Severity) -> None:
    result = check("email.mta.software", banner(text))
    assert (result.grade, result.severity) == (grade, severity)
    if grade in (Grade.D, Grade.E):
        assert "CVE-" in result.summary.en and "fixed in" in evidence_of(result)
        assert "smtpd_banner = $myhostname ESMTP" in snippet_of(result)


def test_software_summary_abbreviates_long_cve_lists() -> None:
    result = check("email.mta.software", banner("Exim 4.92"))
    assert "(21 CVEs)" in result.summary.en and "CVE-2020-28026" in evidence_of(result)


def probes(*accepted: bool | None) -> tuple[SmugglingProbe, ...]:
    sequences = ("\\n.\\n", "\\n.\\r\\n", "\\r.\\r\\n")
    return tuple(
        SmugglingProbe(seq, Status.PRESENT if a is not None else Status.ERROR, a, "250 2.0.0 Ok" if a else "")
        for seq, a in zip(sequences, accepted, strict=False)
    )


def intrusive(**changes: Any) -> ServiceSession:
    return session(target=INTRUSIVE, **changes)


def smuggling(*servers: ServiceSession) -> Finding:
    return check("email.mta.smtp_smuggling", *servers, target=INTRUSIVE)


def test_smuggling_active_probe_decides() -> None:
    exposed = smuggling(intrusive(smuggling=probes(False, True, False)))
    assert (exposed.grade, exposed.severity) == (Grade.E, Severity.HIGH)
    assert "accepted \\n.\\r\\n as the end of DATA" in evidence_of(exposed)
    assert "smtpd_forbid_bare_newline = normalize" in snippet_of(exposed)
    safe = smuggling(intrusive(smuggling=probes(False, False, False)))
    assert safe.grade is Grade.A and "--intrusive" in safe.summary.en and "confirmed" in safe.summary.en
    # An inconclusive probe (DATA refused) falls back to the version, and says so.
    inconclusive = smuggling(intrusive(smuggling=probes(None, None, None)))
    assert inconclusive.grade is Grade.UNKNOWN and "inconclusive" in evidence_of(inconclusive)


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Postfix 3.8.3", Grade.C),  # affected
        ("Postfix 3.8.5", Grade.C),  # fixed, but smtpd_forbid_bare_newline is off before 3.9
        ("Postfix 3.9.1", Grade.A),
        ("Sendmail 8.17.1/8.17.1;", Grade.C),
        ("Exim 4.97.1", Grade.A),
        ("Postfix", Grade.UNKNOWN),
        ("Haraka/3.0.3 ready", Grade.UNKNOWN),  # not in the table: nothing known
    ],
)
def test_smuggling_by_version(text: str, grade: Grade) -> None:
    result = check("email.mta.smtp_smuggling", banner(text))
    assert result.grade is grade, evidence_of(result)
    assert "--intrusive" in result.summary.en
    if grade is Grade.C:
        assert result.severity is Severity.MEDIUM and "possibly exposed" in result.summary.en
    if grade is Grade.UNKNOWN:
        assert "not tested actively" in result.summary.en


def test_observation_round_trip_of_recorded_sessions() -> None:
    observation = observe(*GOOD)
    assert observation.status is Status.PRESENT and len(observation.servers) == 2
    assert all(s.session.request.unknown_recipient.startswith("mimawari-") for s in observation.servers)
    assert observe(*GOOD, target=INTRUSIVE).intrusive


def test_postfix_default_deferred_relay_refusal_is_a_refusal() -> None:
    # Postfix's default smtpd_relay_restrictions end in defer_unauth_destination: 454, on purpose.
    deferred = session(relay_rcpt=ok(454, "4.7.1 <relay-test@relay-target.example>: Relay access denied"))
    assert check("email.mta.open_relay", deferred).grade is Grade.A
