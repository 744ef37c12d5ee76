"""TLS-RPT (RFC 8460): record parsing, and email.tlsrpt.record on recorded observations and in the lab."""

from __future__ import annotations

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lab.world import Lab
from mimawari.model import Finding, Grade, Severity
from mimawari.parse.tlsrpt import is_tlsrpt_record, parse_tlsrpt
from mimawari.scan import scan_domains
from tests.helpers import finding, recorded

Answers = dict[str, str | list[str]]
CHECK = "email.tlsrpt.record"


@pytest.mark.parametrize(
    "text",
    [
        "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
        "v=TLSRPTv1;rua=mailto:a@example.com,https://reports.example.com/v1/tlsrpt",
        "v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.net;",
        "v=TLSRPTv1; rua=mailto:a%2Cb@example.com; ext=1",
    ],
)
def test_valid_records(text: str) -> None:
    assert is_tlsrpt_record(text)
    record = parse_tlsrpt(text)
    assert record.valid, record.problems
    assert all(uri.startswith(("mailto:", "https:")) for uri in record.rua)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=TLSRPTv1", "required field rua is missing"),
        ("v=TLSRPTv1; rua=", "names no report destination"),
        ("v=TLSRPTv1; rua=http://example.com/r", "must be a mailto: or https: URI"),
        ("v=TLSRPTv1; rua=tlsrpt@example.com", "must be a mailto: or https: URI"),
        ("v=TLSRPTv1; rua=mailto:nobody", "is not a mailto: address"),
        ("v=TLSRPTv1; rua=https://", "has no valid host"),
        ("rua=mailto:a@example.com; v=TLSRPTv1", "must begin with v=TLSRPTv1"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "appears more than once"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; junk", "not a name=value field"),
    ],
)
def test_invalid_records(text: str, problem: str) -> None:
    record = parse_tlsrpt(text)
    assert any(problem in p for p in record.problems), record.problems


def test_hostile_input_does_not_raise() -> None:
    parse_tlsrpt("v=TLSRPTv1; rua=" + ",".join(["mailto:%ZZ@" + "a" * 300] * 100) + ";" * 500)
    assert not is_tlsrpt_record("v=TLSRPTv10; rua=mailto:a@example.com")


def answers(tlsrpt: str | list[str], **more: str | list[str]) -> Answers:
    base: Answers = {
        "_smtp._tls.example.test TXT": [tlsrpt]
        if isinstance(tlsrpt, str) and tlsrpt.startswith("v=")
        else tlsrpt,
        "_mta-sts.example.test TXT": "NXDOMAIN",
        "example.test MX": ["10 mx1.example.test.", "20 mx2.example.test."],
        "_25._tcp.mx1.example.test TLSA": "NXDOMAIN",
        "_25._tcp.mx2.example.test TLSA": "NXDOMAIN",
    }
    base.update(more)
    return base


def check(given: Answers) -> Finding:
    return finding(recorded("example.test", given), CHECK)


def test_valid_record_grades_a() -> None:
    result = check(answers("v=TLSRPTv1; rua=mailto:tls@example.test"))
    assert (result.grade, result.fix) == (Grade.A, None)
    assert "mailto:tls@example.test" in result.summary.en


def test_missing_record_grades_c_with_a_fix() -> None:
    result = check(answers("NXDOMAIN"))
    assert (result.grade, result.severity) == (Grade.C, Severity.LOW)
    assert result.fix is not None
    assert (
        result.fix.snippet == '_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"'
    )
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


@pytest.mark.parametrize(
    ("more", "what"),
    [
        ({"_mta-sts.example.test TXT": ["v=STSv1; id=1"]}, "MTA-STS"),
        ({"_25._tcp.mx2.example.test TLSA": ["3 1 1 " + "ab" * 32]}, "DANE"),
    ],
)
def test_missing_record_with_mta_sts_or_dane_grades_d(more: Answers, what: str) -> None:
    result = check(answers("NODATA", **more))
    assert (result.grade, result.severity) == (Grade.D, Severity.MEDIUM)
    assert f"although {what} is deployed" in result.summary.en
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_dane_lookup_failure_is_said_not_hidden() -> None:
    result = check(answers("NXDOMAIN", **{"_25._tcp.mx1.example.test TLSA": "timeout"}))
    assert result.grade is Grade.C
    assert "could not be fully checked: _25._tcp.mx1.example.test TLSA timeout" in result.summary.en


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_failed_lookup_is_unknown(outcome: str) -> None:
    result = check(answers(outcome))
    assert (result.grade, result.fix) == (Grade.UNKNOWN, None)


def test_failed_mx_lookup_without_mta_sts_is_unknown() -> None:
    assert check(answers("NXDOMAIN", **{"example.test MX": "timeout"})).grade is Grade.UNKNOWN


def test_domain_without_mail_is_not_applicable() -> None:
    assert check(answers("NXDOMAIN", **{"example.test MX": ["0 ."]})).grade is Grade.NA


def test_multiple_and_invalid_records_grade_d() -> None:
    two = check(answers(["v=TLSRPTv1; rua=mailto:a@example.test", "v=TLSRPTv1; rua=mailto:b@example.test"]))
    assert two.grade is Grade.D and "2 TLS-RPT records" in two.summary.en
    assert (
        two.fix is not None
        and two.fix.snippet == '_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:a@example.test"'
    )
    bad = check(answers("v=TLSRPTv1; rua=mailto:ok@example.test,ftp://x.example.test"))
    assert bad.grade is Grade.D and "ftp://x.example.test" in bad.summary.en
    assert (
        bad.fix is not None
        and bad.fix.snippet == '_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:ok@example.test"'
    )
    assert bad.after_fix is not None and bad.after_fix.grade is Grade.A


LAB_YAML = """
zones:
  sts.test:
    records:
      "@": {MX: 10 mx.sts.test.}
      _mta-sts: {TXT: "v=STSv1; id=1"}
  dane.test:
    records:
      "@": {MX: 10 mx.dane.test.}
      _25._tcp.mx: {TLSA: "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  good.test:
    records:
      "@": {MX: 10 mx.good.test.}
      _smtp._tls: {TXT: "v=TLSRPTv1; rua=mailto:tls@good.test"}
  plain.test:
    records:
      "@": {MX: 10 mx.plain.test.}
  slow.test:
    records:
      "@": {MX: 10 mx.slow.test.}
behaviour:
  _smtp._tls.slow.test: drop
"""


async def test_tlsrpt_end_to_end() -> None:
    async with Lab.from_yaml(LAB_YAML) as lab:
        reports = await scan_domains(
            ["sts.test", "dane.test", "good.test", "plain.test", "slow.test"],
            lab.network(),
            {CHECK: ALL_CHECKS[CHECK]},
        )
    assert {r.domain: r.findings[0].grade for r in reports} == {
        "sts.test": Grade.D,
        "dane.test": Grade.D,
        "good.test": Grade.A,
        "plain.test": Grade.C,
        "slow.test": Grade.UNKNOWN,
    }
    assert reports[1].observations["tlsrpt"].dane_hosts == ("mx.dane.test",)
