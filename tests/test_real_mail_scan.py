"""mimawari's own MTA and mailbox probes against a real Postfix and Dovecot (Debian's packages) on loopback.

The lab DNS gives ``real.example`` an MX and a ``mail.`` host at the servers' loopback address; the
probe client's port map sends the well-known ports to the servers' free ports. Skipped, with the reason,
where the servers cannot run (see ``tests/realmail.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lab.ca import LabCa
from mimawari.model import Finding, Grade, Status, Target
from mimawari.observe import DnsClient, HttpClient, Network, ProbeClient, Scope
from mimawari.probes import ServiceSession
from mimawari.scan import DomainReport, scan_domains
from tests.realmail import (
    DOMAIN,
    SERVER_ADDRESS,
    RealDovecot,
    RealPostfix,
    postfix_skip_reason,
    running_postfix,
)

ZONE = f"""
zones:
  {DOMAIN}:
    records:
      "@": {{MX: 10 mx.{DOMAIN}.}}
      mx: {{A: {SERVER_ADDRESS}}}
      mail: {{A: {SERVER_ADDRESS}}}
"""
MAIL_CHECKS = {k: c for k, c in ALL_CHECKS.items() if k.startswith(("email.mta.", "email.mailbox."))}


async def _scan(postfix: RealPostfix, dovecot: RealDovecot, target: Target) -> DomainReport:
    scope = Scope(allow_loopback=True)
    ports = {
        25: postfix.smtp_port,
        587: postfix.submission_port,
        465: postfix.submissions_port,
        143: dovecot.imap_port,
        993: dovecot.imaps_port,
        110: dovecot.pop3_port,
        995: dovecot.pop3s_port,
    }
    async with DnsLab(zones_from_yaml(ZONE)) as lab:
        network = Network(
            DnsClient([lab.nameserver], timeout=1.0, attempts=1),
            HttpClient(scope=scope, timeout=1.0),
            ProbeClient(scope=scope, ca_file=postfix.ca_file, port_map=ports, timeout=2.0),
        )
        (report,) = await scan_domains([target], network, MAIL_CHECKS)
    return report


def _grades(report: DomainReport) -> dict[str, Grade]:
    return {f.check_id: f.grade for f in report.findings}


def _finding(report: DomainReport, check_id: str) -> Finding:
    return next(f for f in report.findings if f.check_id == check_id)


async def test_scan_of_a_real_postfix_and_dovecot(
    real_postfix: RealPostfix, real_dovecot: RealDovecot
) -> None:
    report = await _scan(real_postfix, real_dovecot, Target(DOMAIN))
    grades = _grades(report)
    for check_id in (
        "email.mta.reachable",
        "email.mta.starttls",
        "email.mta.tls_handshake",
        "email.mta.certificate",
        "email.mta.open_relay",  # Postfix's default: 454 Relay access denied
        "email.mta.vrfy_expn",
        "email.mta.unknown_recipient",
        "email.mailbox.discovered",
        "email.mailbox.tls_offered",
        "email.mailbox.cleartext_login",  # LOGINDISABLED before STARTTLS, no USER before STLS
    ):
        assert grades[check_id] is Grade.A, (check_id, _finding(report, check_id).summary.en)
    # A true finding of this set-up: submission (Postfix) on mail.real.example shows the MX's certificate.
    certificate = _finding(report, "email.mailbox.certificate")
    assert certificate.grade is Grade.E
    assert "does not name the host, only: mx.real.example" in certificate.summary.en
    assert ":587" in certificate.summary.en and ":993" not in certificate.summary.en
    (session,) = (s for s in report.snapshot.services if s.request.port == 25)
    assert session.greeting is not None and session.greeting.code == 220
    assert session.tls is not None and session.tls.status is Status.PRESENT
    assert session.tls.trusted is True and session.tls.version in ("TLSv1.2", "TLSv1.3")
    assert session.relay_rcpt is not None and not session.relay_rcpt.positive
    assert session.unknown_rcpt is not None and session.unknown_rcpt.code == 550
    scans = {s.request.port: s for s in report.snapshot.tls}
    assert scans[25].status is Status.PRESENT
    accepted = {v.version for v in scans[25].accepted()}
    assert "TLSv1.2" in accepted and "SSLv3" not in accepted
    imap = _session(report, 143)
    assert imap.starttls_offered and "LOGINDISABLED" in imap.capabilities
    assert "LOGINDISABLED" not in imap.capabilities_tls
    # Every probe ended before DATA: Postfix queued nothing (its cleanup service never ran).
    assert "cleanup" not in Path(real_postfix.log_file).read_text(errors="replace")


def _session(report: DomainReport, port: int) -> ServiceSession:
    return next(s for s in report.snapshot.services if s.request.port == port)


async def test_intrusive_smuggling_probe_against_a_real_postfix(
    real_postfix: RealPostfix, real_dovecot: RealDovecot
) -> None:
    # Debian 12's Postfix 3.7.11 has the CVE-2023-51764 fix, but off by default
    # (smtpd_forbid_bare_newline = no): the probe shows it ends DATA at a bare LF.
    report = await _scan(real_postfix, real_dovecot, Target(DOMAIN, smuggling_recipient=f"alice@{DOMAIN}"))
    accepted = {probe.sequence: probe.accepted for probe in _session(report, 25).smuggling}
    assert accepted == {"\\n.\\n": True, "\\n.\\r\\n": True, "\\r.\\r\\n": False}
    finding = _finding(report, "email.mta.smtp_smuggling")
    assert finding.grade is Grade.E
    assert finding.fix is not None and "smtpd_forbid_bare_newline = normalize" in (finding.fix.snippet or "")
    # Only this --intrusive scan sent messages: Postfix queued them (and discarded them, local_transport).
    assert "cleanup" in Path(real_postfix.log_file).read_text(errors="replace")


async def test_smuggling_probe_passes_once_postfix_normalizes_bare_newlines(
    real_ca: LabCa, real_dovecot: RealDovecot
) -> None:
    if reason := postfix_skip_reason():
        pytest.skip(reason)
    with running_postfix(real_ca, extra={"smtpd_forbid_bare_newline": "normalize"}) as fixed:
        report = await _scan(fixed, real_dovecot, Target(DOMAIN, smuggling_recipient=f"alice@{DOMAIN}"))
    assert not any(probe.accepted for probe in _session(report, 25).smuggling)
    assert _finding(report, "email.mta.smtp_smuggling").grade is Grade.A
