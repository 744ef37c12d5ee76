"""Sample messages end to end: signed with real keys, keys and policies in the lab DNS → observation →
the seven message checks → the same verdicts from the recorded snapshot."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import dkim  # type: ignore[import-untyped]
import pytest
from nacl.signing import SigningKey

from mimawari.check import Check
from mimawari.checks.email import other
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Snapshot
from mimawari.model import Finding, Grade, Status, Target
from mimawari.observations.message import MESSAGE, MessageObservation
from mimawari.observations.message_auth import AuthResult
from mimawari.observations.spf_eval import SpfResult
from mimawari.scan import DomainReport, evaluate_snapshot, scan_target
from mimawari.serial import from_json, to_json
from tests.helpers import lab_network
from tests.message_samples import (
    ESP,
    ESP_IP,
    ESP_SELECTOR,
    NO_PTR_IP,
    SHOP,
    SHOP_IP,
    SLOW_SELECTOR,
    sample_target,
    signed_message,
    signing_key,
    world_yaml,
)

pytestmark = pytest.mark.timeout(60)

CHECKS: dict[str, Check[object]] = {c.id: c for c in other.CHECKS if c.observer is MESSAGE}
SHORT = "old._domainkey"


@pytest.fixture
async def lab() -> AsyncIterator[DnsLab]:
    short = signing_key(1024, "short")
    extra = f"""  short.test:
    records:
      "@": {{TXT: v=spf1 ip4:{SHOP_IP} -all}}
      _dmarc: {{TXT: "v=DMARC1; p=quarantine; adkim=s"}}
      {SHORT}: {{TXT: "{short.record}"}}
"""
    async with DnsLab(zones_from_yaml(world_yaml(extra=extra))) as server:
        yield server


async def analyse(lab: DnsLab, target: Target) -> tuple[MessageObservation, dict[str, Finding], DomainReport]:
    report = await scan_target(target, lab_network(lab.nameserver, timeout=0.3, attempts=1), CHECKS)
    observation = report.observations["message"]
    assert isinstance(observation, MessageObservation)
    return observation, {f.check_id.removeprefix("email.other."): f for f in report.findings}, report


def grades(findings: dict[str, Finding]) -> dict[str, Grade]:
    return {name: finding.grade for name, finding in findings.items()}


def replayed(report: DomainReport) -> DomainReport:
    return evaluate_snapshot(from_json(Snapshot, to_json(report.snapshot)), CHECKS)


async def test_an_aligned_newsletter_passes_everything(lab: DnsLab) -> None:
    observation, findings, report = await analyse(lab, sample_target(signed_message()))
    assert grades(findings) == {
        "message_dkim": Grade.A,
        "message_alignment": Grade.A,
        "message_format": Grade.A,
        "message_unsubscribe": Grade.A,
        "dkim_replay": Grade.A,
        "message_tls": Grade.A,
        "message_arc": Grade.NA,
    }
    (signature,) = observation.signatures
    assert signature.result is AuthResult.PASS and signature.aligned and signature.covers_unsubscribe
    assert signature.key.bits == 2048
    assert observation.spf.result is SpfResult.PASS and observation.spf.aligned
    assert observation.dmarc_outcome is not None and observation.dmarc_outcome.result is AuthResult.PASS
    assert observation.dmarc_outcome.policy == "reject"
    assert observation.reverse is not None and observation.reverse.confirmation is Status.PRESENT
    assert (observation.sending_ip, observation.sending_ip_source) == (SHOP_IP, "guessed from Received #1")
    assert (observation.envelope_from, observation.envelope_source) == (f"bounce@{SHOP}", "from Return-Path")
    summary = findings["message_alignment"].summary.en
    assert summary == (
        f"The message passes DMARC: aligned with {SHOP} by DKIM d={SHOP}, SPF {SHOP} (policy p=reject at {SHOP})."
    )
    # The snapshot holds the message and every answer: a replay reaches the same observation and findings.
    again = replayed(report)
    assert again.observations["message"] == observation
    assert again.findings == report.findings


async def test_a_third_party_signature_and_envelope_fail_dmarc(lab: DnsLab) -> None:
    raw = signed_message(
        signing_key(2048, "esp"),
        ESP,
        ESP_SELECTOR,
        ip=ESP_IP,
        helo=f"out.{ESP}",
        return_path=f"b1@bounce.{ESP}",
    )
    observation, findings, _ = await analyse(lab, sample_target(raw))
    assert observation.signatures[0].result is AuthResult.PASS and not observation.signatures[0].aligned
    assert observation.spf.result is SpfResult.PASS and not observation.spf.aligned
    outcome = observation.dmarc_outcome
    assert outcome is not None and outcome.result is AuthResult.FAIL and outcome.policy == "reject"
    assert grades(findings)["message_dkim"] is Grade.D
    assert findings["message_dkim"].summary.en.startswith(f"Only signatures by {ESP} verify")
    alignment = findings["message_alignment"]
    assert alignment.grade is Grade.E and alignment.fix is not None and alignment.after_fix is not None
    assert f"bounce.{SHOP}. IN CNAME" in (alignment.fix.snippet or "")
    assert alignment.summary.ja.startswith("メッセージは DMARC に不合格です")
    # out.esp.test does not lead back to 198.51.100.7: reverse DNS is not forward-confirmed.
    assert observation.reverse is not None and observation.reverse.names == (f"out.{ESP}",)
    assert observation.reverse.confirmation is Status.ABSENT


async def test_unsubscribe_grades(lab: DnsLab) -> None:
    cases = {
        "missing": (signed_message(unsubscribe=False), Grade.D),
        "no one-click": (signed_message(one_click=False), Grade.C),
        "not signed": (signed_message(headers=("from", "to", "subject", "date")), Grade.C),
        "no visible link": (signed_message(visible_link=False), Grade.B),
    }
    for name, (raw, expected) in cases.items():
        _, findings, _ = await analyse(lab, sample_target(raw))
        assert findings["message_unsubscribe"].grade is expected, name
    _, findings, _ = await analyse(lab, sample_target(cases["not signed"][0]))
    assert (
        "no valid DKIM signature covers both fields (RFC 8058 §4)"
        in findings["message_unsubscribe"].summary.en
    )
    fix = findings["message_unsubscribe"].fix
    assert fix is not None and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in (fix.snippet or "")


async def test_replay_risk_grades(lab: DnsLab) -> None:
    for options, expected in (
        ({"l": True}, Grade.D),
        ({"oversign": False}, Grade.C),
        ({"x": None}, Grade.B),
    ):
        observation, findings, _ = await analyse(lab, sample_target(signed_message(**options)))
        assert observation.signatures[0].result is AuthResult.PASS
        assert findings["dkim_replay"].grade is expected, options
    _, findings, _ = await analyse(lab, sample_target(signed_message(oversign=False)))
    assert "does not oversign from, to, subject, date" in findings["dkim_replay"].summary.en


async def test_a_sending_ip_without_ptr_and_outside_spf(lab: DnsLab) -> None:
    raw = signed_message()
    observation, findings, _ = await analyse(lab, sample_target(raw, sending_ip=NO_PTR_IP))
    assert observation.sending_ip_source == "given"
    assert observation.reverse is not None and observation.reverse.status is Status.ABSENT
    assert observation.spf.result is SpfResult.FAIL
    # DKIM still aligns: DMARC passes.
    assert findings["message_alignment"].grade is Grade.A


async def test_a_key_lookup_timeout_is_temperror_never_fail(lab: DnsLab) -> None:
    raw = signed_message(selector=SLOW_SELECTOR)
    observation, findings, _ = await analyse(lab, sample_target(raw))
    (signature,) = observation.signatures
    assert signature.result is AuthResult.TEMPERROR and "timeout" in signature.detail
    assert findings["message_dkim"].grade is Grade.UNKNOWN
    assert findings["message_alignment"].grade is Grade.A  # SPF aligns
    observation, findings, _ = await analyse(lab, sample_target(raw, sending_ip=NO_PTR_IP))
    assert observation.dmarc_outcome is not None and observation.dmarc_outcome.result is AuthResult.TEMPERROR
    assert findings["message_alignment"].grade is Grade.UNKNOWN


async def test_a_changed_body_and_a_missing_key_fail(lab: DnsLab) -> None:
    tampered = signed_message().replace(b"New arrivals this week.", b"Buy cheap watches now!!")
    observation, findings, _ = await analyse(lab, sample_target(tampered))
    assert observation.signatures[0].result is AuthResult.FAIL
    assert observation.signatures[0].detail == "body hash mismatch: the body was changed after signing"
    assert findings["message_dkim"].grade is Grade.E
    observation, findings, _ = await analyse(lab, sample_target(signed_message(selector="gone")))
    assert observation.signatures[0].result is AuthResult.PERMERROR
    assert observation.signatures[0].detail.startswith(f"no key record at gone._domainkey.{SHOP} (NXDOMAIN")


async def test_a_short_key_and_strict_alignment(lab: DnsLab) -> None:
    raw = signed_message(
        signing_key(1024, "short"), "short.test", "old", from_addr="news@mail.short.test", return_path=None
    )
    observation, findings, _ = await analyse(lab, sample_target(raw, envelope_from="b@short.test"))
    (signature,) = observation.signatures
    assert signature.result is AuthResult.PASS and signature.key.bits == 1024
    # adkim=s: d=short.test does not align with mail.short.test; SPF (aspf relaxed) does.
    assert not signature.aligned and observation.spf.aligned
    assert findings["message_dkim"].grade is Grade.D
    assert findings["message_alignment"].grade is Grade.A
    raw = signed_message(signing_key(1024, "short"), "short.test", "old", from_addr="news@short.test")
    _, findings, _ = await analyse(lab, sample_target(raw))
    assert findings["message_dkim"].grade is Grade.B


async def test_no_received_no_ip_and_plain_hops(lab: DnsLab) -> None:
    observation, findings, _ = await analyse(lab, sample_target(signed_message(ip=None)))
    assert observation.spf.status is Status.NOT_APPLICABLE
    assert observation.spf.detail.startswith("needs the sending IP")
    assert observation.reverse is None
    assert findings["message_tls"].grade is Grade.UNKNOWN
    assert findings["message_alignment"].grade is Grade.A  # DKIM alone suffices
    unsigned_plain = signed_message(signing_key(2048, "esp"), ESP, ESP_SELECTOR, ip=None, tls=False)
    observation, findings, _ = await analyse(lab, sample_target(unsigned_plain))
    assert observation.dmarc_outcome is not None and observation.dmarc_outcome.result is AuthResult.NEUTRAL
    assert findings["message_alignment"].grade is Grade.UNKNOWN
    plain = signed_message(tls=False)
    _, findings, _ = await analyse(lab, sample_target(plain))
    assert findings["message_tls"].grade is Grade.E


async def test_broken_bytes_are_format_problems_not_a_traceback(lab: DnsLab) -> None:
    garbage = b"\x00\xff\r\nnot a header\r\nFrom: a@shop.test\r\nFrom: b@shop.test\r\n\r\n" + bytes(
        range(256)
    )
    observation, findings, report = await analyse(lab, sample_target(garbage))
    assert findings["message_format"].grade is Grade.E
    assert findings["message_dkim"].grade is Grade.E  # unsigned
    assert findings["message_alignment"].grade is Grade.E  # no single From domain
    assert observation.dmarc_outcome is not None and observation.dmarc_outcome.result is AuthResult.PERMERROR
    assert replayed(report).findings == report.findings


async def test_without_a_sample_every_check_says_what_it_needs(lab: DnsLab) -> None:
    observation, findings, report = await analyse(lab, Target(SHOP))
    assert observation.status is Status.NOT_APPLICABLE and report.snapshot.dns == ()
    assert set(grades(findings).values()) == {Grade.NA}
    assert all("mimawari scan DOMAIN --message FILE" in f.summary.en for f in findings.values())


async def test_a_forwarded_message_with_and_without_arc(lab: DnsLab) -> None:
    arc = (
        b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=list.test; s=a; b=AA==\r\n"
        b"ARC-Message-Signature: i=1; a=rsa-sha256; d=list.test; s=a; h=from; bh=AA==; b=AA==\r\n"
        b"ARC-Authentication-Results: i=1; list.test; dkim=pass\r\n"
    )
    _, findings, _ = await analyse(lab, sample_target(arc + signed_message()))
    assert findings["message_arc"].grade is Grade.A
    listed = signed_message(extra_headers=("List-Id: <news.shop.test>",))
    _, findings, _ = await analyse(lab, sample_target(listed))
    assert findings["message_arc"].grade is Grade.C
    assert findings["message_arc"].severity.value == "info"


async def test_an_ed25519_signature_verifies() -> None:
    # RFC 8463: an Ed25519-SHA256 signature beside the RSA one, verified with dkimpy's PyNaCl support.
    key = SigningKey.generate()
    record = f"v=DKIM1; k=ed25519; p={base64.b64encode(bytes(key.verify_key)).decode()}"
    raw = signed_message()
    start = raw.index(b"DKIM-Signature:")
    header = dkim.sign(
        raw[start:],
        b"ed",
        SHOP.encode(),
        base64.b64encode(bytes(key)),
        signature_algorithm=b"ed25519-sha256",
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    world = world_yaml().replace(
        f"      {SLOW_SELECTOR}._domainkey:",
        f'      ed._domainkey: {{TXT: "{record}"}}\n      {SLOW_SELECTOR}._domainkey:',
    )
    async with DnsLab(zones_from_yaml(world)) as server:
        observation, findings, _ = await analyse(server, sample_target(raw[:start] + header + raw[start:]))
    assert {s.signature.selector: s.result for s in observation.signatures} == {
        "ed": AuthResult.PASS,
        "s2026": AuthResult.PASS,
    }
    assert findings["message_dkim"].grade is Grade.A
