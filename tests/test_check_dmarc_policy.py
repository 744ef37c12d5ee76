"""email.dmarc.policy on recorded observations: grade, evidence, fix and after-fix."""

from __future__ import annotations

import pytest

from mimawari.model import Grade, Severity
from tests.helpers import finding, recorded

CHECK = "email.dmarc.policy"


def grade_of(answers: dict[str, str | list[str]], target: str = "example.test") -> Grade:
    return finding(recorded(target, answers), CHECK).grade


@pytest.mark.parametrize(
    ("record", "grade"),
    [
        ("v=DMARC1; p=reject", Grade.A),
        ("v=DMARC1; p=quarantine", Grade.B),
        ("v=DMARC1; p=none; rua=mailto:r@example.test", Grade.C),
        ("v=DMARC1; p=reject; pct=50", Grade.B),
        ("v=DMARC1; p=quarantine; pct=0", Grade.C),
        ("v=DMARC1; p=reject; t=y", Grade.B),
        ("v=DMARC1; p=reject; pct=100", Grade.A),
        ("v=DMARC1; p=none; pct=10", Grade.C),  # pct does not weaken p=none any further
        ("v=DMARC1; p=bogus; rua=mailto:r@example.test", Grade.C),
        ("v=DMARC1; p=bogus", Grade.E),
    ],
)
def test_policy_grades(record: str, grade: Grade) -> None:
    assert grade_of({"_dmarc.example.test TXT": [record]}) is grade


def test_reject_has_no_fix() -> None:
    result = finding(recorded("example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=reject"]}), CHECK)
    assert (result.grade, result.severity, result.fix, result.after_fix) == (
        Grade.A,
        Severity.INFO,
        None,
        None,
    )


def test_missing_record_grades_e_with_a_publishable_fix() -> None:
    result = finding(recorded("example.test", {"_dmarc.example.test TXT": "NXDOMAIN"}), CHECK)
    assert (result.grade, result.severity) == (Grade.E, Severity.HIGH)
    assert result.evidence[0].value == "NXDOMAIN"
    assert result.fix is not None
    assert result.fix.snippet == (
        '_dmarc.example.test. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test"'
    )
    assert result.after_fix is not None and result.after_fix.grade is Grade.C
    assert "example.test" in result.summary.ja


def test_nodata_and_non_dmarc_txt_are_absent() -> None:
    assert grade_of({"_dmarc.example.test TXT": "NODATA"}) is Grade.E
    assert grade_of({"_dmarc.example.test TXT": ["v=spf1 -all", "hello"]}) is Grade.E


def test_timeout_is_unknown_never_missing() -> None:
    result = finding(recorded("example.test", {"_dmarc.example.test TXT": "timeout"}), CHECK)
    assert result.grade is Grade.UNKNOWN
    assert result.fix is None
    assert "timeout" in result.summary.en
    assert "does not mean DMARC is missing" in result.summary.en


def test_servfail_is_unknown() -> None:
    assert grade_of({"_dmarc.example.test TXT": "SERVFAIL"}) is Grade.UNKNOWN


def test_unrecorded_query_is_unknown() -> None:
    assert grade_of({}) is Grade.UNKNOWN


def test_subdomain_inherits_the_organisational_policy() -> None:
    answers: dict[str, str | list[str]] = {
        "_dmarc.mail.example.test TXT": "NXDOMAIN",
        "_dmarc.example.test TXT": ["v=DMARC1; p=reject; sp=none"],
    }
    result = finding(recorded("mail.example.test", answers), CHECK)
    assert result.grade is Grade.C  # sp=none governs subdomains
    assert result.evidence[-1].source == "policy source"
    assert result.fix is not None and result.fix.snippet is not None
    assert "sp=quarantine" in result.fix.snippet and result.fix.snippet.startswith("_dmarc.example.test.")


def test_subdomain_timeout_does_not_fall_back_to_the_organisational_domain() -> None:
    answers: dict[str, str | list[str]] = {
        "_dmarc.mail.example.test TXT": "timeout",
        "_dmarc.example.test TXT": ["v=DMARC1; p=reject"],
    }
    assert grade_of(answers, "mail.example.test") is Grade.UNKNOWN


def test_multiple_records_apply_none() -> None:
    answers: dict[str, str | list[str]] = {
        "_dmarc.example.test TXT": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]
    }
    result = finding(recorded("example.test", answers), CHECK)
    assert result.grade is Grade.E
    assert "2 DMARC records" in result.summary.en
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


@pytest.mark.parametrize(
    ("record", "after", "fixed"),
    [
        (
            "v=DMARC1; p=none; rua=mailto:r@example.test",
            Grade.B,
            "v=DMARC1; p=quarantine; rua=mailto:r@example.test",
        ),
        ("v=DMARC1; p=quarantine", Grade.A, "v=DMARC1; p=reject"),
        ("v=DMARC1; p=reject; pct=25", Grade.A, "v=DMARC1; p=reject"),
        ("v=DMARC1; p=quarantine; t=y", Grade.B, "v=DMARC1; p=quarantine"),
        ("v=DMARC1; p=bogus", Grade.C, "v=DMARC1; p=none"),
    ],
)
def test_fix_is_the_next_step_and_after_fix_is_its_real_grade(record: str, after: Grade, fixed: str) -> None:
    result = finding(recorded("example.test", {"_dmarc.example.test TXT": [record]}), CHECK)
    assert result.fix is not None and result.after_fix is not None
    assert result.fix.snippet == f'_dmarc.example.test. IN TXT "{fixed}"'
    assert result.after_fix.grade is after
    # The fix really is worth what after_fix says: evaluate the fixed record.
    assert grade_of({"_dmarc.example.test TXT": [fixed]}) is after


def test_every_text_exists_in_japanese() -> None:
    result = finding(recorded("example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=none"]}), CHECK)
    assert result.fix is not None and result.after_fix is not None
    for text in (result.title, result.summary, result.fix.action, result.after_fix.effect):
        assert text.ja and text.ja != text.en
