"""The DMARC record checks on recorded observations: syntax, tags, sp/np, alignment, reporting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from mimawari.model import Finding, Grade, Severity
from tests.helpers import finding, recorded

Answers = Mapping[str, str | Sequence[str]]


def result(
    check: str, record: str | None, target: str = "example.test", extra: Answers | None = None
) -> Finding:
    answers: dict[str, str | Sequence[str]] = {"_dmarc.test TXT": "NXDOMAIN"}
    answers[f"_dmarc.{target} TXT"] = [record] if record is not None else "NXDOMAIN"
    answers.update(extra or {})
    return finding(recorded(target, answers), check)


def assert_fix(found: Finding, record: str, after: Grade, owner: str = "_dmarc.example.test") -> None:
    assert found.fix is not None and found.after_fix is not None
    assert found.fix.snippet == f'{owner}. IN TXT "{record}"'
    assert found.after_fix.grade is after
    assert found.fix.action.ja and found.fix.action.ja != found.fix.action.en


ALL = [
    "email.dmarc.syntax",
    "email.dmarc.tags",
    "email.dmarc.subdomain_policy",
    "email.dmarc.alignment",
    "email.dmarc.reporting",
    "email.dmarc.report_authorization",
]


@pytest.mark.parametrize("check", ALL)
def test_timeout_is_unknown_and_absent_is_not_applicable(check: str) -> None:
    timeout = finding(recorded("example.test", {"_dmarc.example.test TXT": "timeout"}), check)
    assert (timeout.grade, timeout.fix) == (Grade.UNKNOWN, None)
    assert "does not mean DMARC is missing" in timeout.summary.en
    assert result(check, None).grade is Grade.NA
    several = finding(
        recorded("example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]}),
        check,
    )
    assert several.grade is Grade.NA


# --- syntax ---------------------------------------------------------------------------------------------


def test_syntax_clean_record() -> None:
    assert result("email.dmarc.syntax", "v=DMARC1; p=reject; rua=mailto:r@example.test").grade is Grade.A


@pytest.mark.parametrize(
    ("record", "grade", "fixed"),
    [
        ("v=DMARC1; p=reject; adkim=x", Grade.C, "v=DMARC1; p=reject"),
        ("v=DMARC1; p=reject; p=none", Grade.C, "v=DMARC1; p=reject"),
        (
            "v=DMARC1; p=reject; fo=0:1; ruf=mailto:f@example.test",
            Grade.C,
            "v=DMARC1; p=reject; ruf=mailto:f@example.test",
        ),
        (
            "v=DMARC1; p=rejected; rua=mailto:r@example.test",
            Grade.D,
            "v=DMARC1; p=none; rua=mailto:r@example.test",
        ),
        ("v=DMARC1; p=reject; sp=all", Grade.D, "v=DMARC1; p=reject"),
        ("v=DMARC1; rua=mailto:r@example.test", Grade.D, "v=DMARC1; p=none; rua=mailto:r@example.test"),
    ],
)
def test_syntax_problems(record: str, grade: Grade, fixed: str) -> None:
    found = result("email.dmarc.syntax", record)
    assert found.grade is grade
    assert_fix(found, fixed, Grade.A)
    assert any(e.source == "problem" for e in found.evidence)


def test_record_with_wrong_version_is_found_and_repaired() -> None:
    found = result("email.dmarc.syntax", "v=dmarc1; p=reject")
    assert (found.grade, found.severity) == (Grade.E, Severity.HIGH)
    assert_fix(found, "v=DMARC1; p=reject", Grade.A)
    policy = result("email.dmarc.policy", "v=dmarc1; p=reject")
    assert policy.grade is Grade.E  # receivers discard it: no policy at all
    assert any("ignored" in e.source for e in policy.evidence)


# --- unknown and removed tags ---------------------------------------------------------------------------


def test_tags_clean() -> None:
    assert result("email.dmarc.tags", "v=DMARC1; p=reject; np=reject; t=n; psd=n").grade is Grade.A


@pytest.mark.parametrize(
    ("record", "grade", "fixed"),
    [
        ("v=DMARC1; p=reject; pct=100", Grade.B, "v=DMARC1; p=reject"),
        ("v=DMARC1; p=quarantine; pct=0", Grade.B, "v=DMARC1; p=quarantine; t=y"),
        ("v=DMARC1; p=reject; rf=afrf; ri=86400", Grade.B, "v=DMARC1; p=reject"),
        (
            "v=DMARC1; p=reject; rau=mailto:r@example.test",
            Grade.C,
            "v=DMARC1; p=reject; rua=mailto:r@example.test",
        ),
        ("v=DMARC1; p=reject; foo=bar; ri=60", Grade.C, "v=DMARC1; p=reject"),
    ],
)
def test_unknown_and_removed_tags(record: str, grade: Grade, fixed: str) -> None:
    found = result("email.dmarc.tags", record)
    assert found.grade is grade
    assert_fix(found, fixed, Grade.A)


def test_removed_tag_evidence_names_the_replacement() -> None:
    found = result("email.dmarc.tags", "v=DMARC1; p=reject; pct=0")
    assert any(e.source == "removed tag pct" and "t=y" in e.value for e in found.evidence)
    assert "pct" in found.summary.ja


# --- sp and np ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "grade", "fixed", "after"),
    [
        ("v=DMARC1; p=reject", Grade.A, None, None),
        ("v=DMARC1; p=reject; sp=reject; np=reject", Grade.A, None, None),
        ("v=DMARC1; p=reject; sp=quarantine", Grade.B, "v=DMARC1; p=reject; np=reject", Grade.A),
        ("v=DMARC1; p=reject; sp=none", Grade.C, "v=DMARC1; p=reject; np=reject", Grade.A),
        ("v=DMARC1; p=reject; np=none", Grade.C, "v=DMARC1; p=reject; np=reject", Grade.A),
        ("v=DMARC1; p=quarantine", Grade.B, "v=DMARC1; p=quarantine; np=reject", Grade.A),
        (
            "v=DMARC1; p=none; rua=mailto:r@example.test",
            Grade.B,
            "v=DMARC1; p=none; rua=mailto:r@example.test; np=reject",
            Grade.A,
        ),
    ],
)
def test_subdomain_policies(record: str, grade: Grade, fixed: str | None, after: Grade | None) -> None:
    found = result("email.dmarc.subdomain_policy", record)
    assert found.grade is grade
    if fixed is None:
        assert found.fix is None
    else:
        assert after is not None
        assert_fix(found, fixed, after)


def test_sp_of_a_record_below_the_organisational_domain_governs_nothing() -> None:
    # With a record at example.test, RFC 7489 and RFC 9989 both make example.test the organisational domain.
    answers = {"_dmarc.example.test TXT": ["v=DMARC1; p=reject"]}
    found = result(
        "email.dmarc.subdomain_policy", "v=DMARC1; p=reject; sp=none", "mail.example.test", answers
    )
    assert found.grade is Grade.NA
    found = result(
        "email.dmarc.subdomain_policy", "v=DMARC1; p=reject; sp=none; psd=n", "mail.example.test", answers
    )
    assert found.grade is Grade.C
    # Without a parent record the RFC 9989 tree walk makes mail.example.test its own organisational domain.
    alone = {"_dmarc.example.test TXT": "NXDOMAIN"}
    found = result("email.dmarc.subdomain_policy", "v=DMARC1; p=reject; sp=none", "mail.example.test", alone)
    assert found.grade is Grade.C


# --- alignment ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ("v=DMARC1; p=reject", "DKIM alignment is relaxed and SPF alignment is relaxed"),
        ("v=DMARC1; p=reject; adkim=s", "DKIM alignment is strict and SPF alignment is relaxed"),
        ("v=DMARC1; p=reject; adkim=s; aspf=s", "strict and SPF alignment is strict"),
        ("v=DMARC1; p=reject; aspf=x", "SPF alignment is relaxed"),
    ],
)
def test_alignment_is_informational(record: str, words: str) -> None:
    found = result("email.dmarc.alignment", record)
    assert (found.grade, found.severity, found.fix) == (Grade.A, Severity.INFO, None)
    assert words in found.summary.en
    assert "アライメント" in found.summary.ja


# --- rua / ruf ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "grade", "fixed"),
    [
        ("v=DMARC1; p=reject; rua=mailto:r@example.test", Grade.A, None),
        ("v=DMARC1; p=reject", Grade.C, "v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.test"),
        ("v=DMARC1; p=reject; rua=r@example.test", Grade.C, "v=DMARC1; p=reject; rua=mailto:r@example.test"),
        (
            "v=DMARC1; p=reject; rua=https://r.example.test/x",
            Grade.C,
            "v=DMARC1; p=reject; rua=https://r.example.test/x,mailto:dmarc-reports@example.test",
        ),
        (
            "v=DMARC1; p=reject; rua=mailto:r@example.test!10m",
            Grade.B,
            "v=DMARC1; p=reject; rua=mailto:r@example.test",
        ),
        (
            "v=DMARC1; p=reject; rua=mailto:r@example.test; ruf=nobody",
            Grade.B,
            "v=DMARC1; p=reject; rua=mailto:r@example.test",
        ),
    ],
)
def test_reporting(record: str, grade: Grade, fixed: str | None) -> None:
    found = result("email.dmarc.reporting", record)
    assert found.grade is grade
    if fixed is not None:
        assert_fix(found, fixed, Grade.A)


# --- external report destinations -----------------------------------------------------------------------

EXTERNAL = "v=DMARC1; p=reject; rua=mailto:r@reports.test,mailto:me@example.test; ruf=mailto:f@reports.test"
AUTH = "example.test._report._dmarc.reports.test TXT"


def test_same_organisation_needs_no_authorisation() -> None:
    found = result("email.dmarc.report_authorization", "v=DMARC1; p=reject; rua=mailto:r@mail.example.test")
    assert found.grade is Grade.A


def test_authorised_external_destination() -> None:
    found = result("email.dmarc.report_authorization", EXTERNAL, extra={AUTH: ["v=DMARC1"]})
    assert found.grade is Grade.A
    assert any(e.source == AUTH and e.value == '"v=DMARC1"' for e in found.evidence)


def test_unauthorised_external_destination() -> None:
    found = result("email.dmarc.report_authorization", EXTERNAL, extra={AUTH: "NXDOMAIN"})
    assert found.grade is Grade.B  # me@example.test still gets aggregate reports
    assert found.fix is not None and found.after_fix is not None
    assert found.fix.snippet == 'example.test._report._dmarc.reports.test. IN TXT "v=DMARC1"'
    assert found.after_fix.grade is Grade.A
    only_external = "v=DMARC1; p=reject; rua=mailto:r@reports.test"
    found = result("email.dmarc.report_authorization", only_external, extra={AUTH: ["v=spf1 -all"]})
    assert found.grade is Grade.C
    assert "no aggregate reports at all" in found.summary.en


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_authorisation_lookup_failure_is_unknown(outcome: str) -> None:
    found = result("email.dmarc.report_authorization", EXTERNAL, extra={AUTH: outcome})
    assert (found.grade, found.fix) == (Grade.UNKNOWN, None)
    assert "does not mean reports are refused" in found.summary.en


def test_unrecorded_authorisation_is_unknown_never_refused() -> None:
    assert result("email.dmarc.report_authorization", EXTERNAL).grade is Grade.UNKNOWN


def test_authorisation_query_uses_the_domain_that_published_the_policy() -> None:
    # news.example.test inherits example.test's record: the query names example.test (RFC 7489 §7.1).
    answers = {
        "_dmarc.news.example.test TXT": "NXDOMAIN",
        "_dmarc.example.test TXT": [EXTERNAL],
        AUTH: "NODATA",
    }
    found = finding(
        recorded("news.example.test", {"_dmarc.test TXT": "NXDOMAIN", **answers}),
        "email.dmarc.report_authorization",
    )
    assert found.grade is Grade.B
    assert found.fix is not None and found.fix.snippet is not None
    assert found.fix.snippet.startswith("example.test._report._dmarc.reports.test.")
