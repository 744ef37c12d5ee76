"""CAA checks on recorded observations: the climb, presence, syntax and iodef."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mimawari.model import Finding, Grade
from tests.helpers import finding, recorded

Answers = Mapping[str, str | Sequence[str]]
GOOD = {"example.test CAA": ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.test"']}


def check(check_id: str, answers: Answers, domain: str = "example.test") -> Finding:
    return finding(recorded(domain, answers), check_id)


def fix_of(result: Finding) -> tuple[str, Grade]:
    assert result.fix is not None and result.fix.snippet is not None and result.after_fix is not None
    return result.fix.snippet, result.after_fix.grade


def test_good_caa() -> None:
    for check_id in ("dns.caa.present", "dns.caa.syntax", "dns.caa.iodef"):
        assert check(check_id, GOOD).grade is Grade.A, check_id
    assert "letsencrypt.org" in check("dns.caa.present", GOOD).summary.en


def test_absent_caa_grades_c_with_starter_records() -> None:
    result = check("dns.caa.present", {"example.test CAA": "NODATA"})
    assert result.grade is Grade.C
    assert fix_of(result) == (
        'example.test. IN CAA 0 issue "letsencrypt.org"\n'
        'example.test. IN CAA 0 iodef "mailto:security@example.test"',
        Grade.A,
    )
    assert check("dns.caa.syntax", {"example.test CAA": "NODATA"}).grade is Grade.NA
    assert check("dns.caa.iodef", {"example.test CAA": "NODATA"}).grade is Grade.NA


def test_closest_rrset_climbing_applies() -> None:
    answers = {"www.example.test CAA": "NODATA", **GOOD}
    result = check("dns.caa.present", answers, "www.example.test")
    assert result.grade is Grade.A
    assert "CAA records at example.test" in result.summary.en
    # Nothing anywhere: the fix goes to the organisational domain, covering its subdomains.
    empty = {"www.example.test CAA": "NXDOMAIN", "example.test CAA": "NODATA"}
    snippet, _after = fix_of(check("dns.caa.present", empty, "www.example.test"))
    assert snippet.startswith("example.test. IN CAA 0 issue")


def test_timeouts_are_unknown() -> None:
    assert check("dns.caa.present", {"example.test CAA": "timeout"}).grade is Grade.UNKNOWN
    # Failure below the RRset found: the closer name might have held the relevant set.
    answers = {"www.example.test CAA": "SERVFAIL", **GOOD}
    for check_id in ("dns.caa.present", "dns.caa.syntax", "dns.caa.iodef"):
        assert check(check_id, answers, "www.example.test").grade is Grade.UNKNOWN, check_id
    # Failure above it does not matter.
    answers = {"www.example.test CAA": GOOD["example.test CAA"], "example.test CAA": "timeout"}
    assert check("dns.caa.present", answers, "www.example.test").grade is Grade.A


def test_caa_without_issue_restricts_nothing() -> None:
    answers = {"example.test CAA": ['0 iodef "mailto:security@example.test"']}
    result = check("dns.caa.present", answers)
    assert result.grade is Grade.C
    assert fix_of(result) == ('example.test. IN CAA 0 issue "letsencrypt.org"', Grade.A)


def test_unknown_critical_tag_forbids_issuance() -> None:
    answers = {"example.test CAA": [*GOOD["example.test CAA"], '128 tbs "unknown"']}
    result = check("dns.caa.syntax", answers)
    assert result.grade is Grade.D
    assert "tbs" in result.summary.en
    assert fix_of(result) == (
        'example.test. IN CAA 0 issue "letsencrypt.org"\nexample.test. IN CAA 0 iodef "mailto:security@example.test"',
        Grade.A,
    )


def test_malformed_and_ignored_properties() -> None:
    malformed = {"example.test CAA": ['0 issue "letsencrypt.org"', '0 iodef "security@example.test"']}
    result = check("dns.caa.syntax", malformed)
    assert result.grade is Grade.C
    assert fix_of(result) == ('example.test. IN CAA 0 issue "letsencrypt.org"', Grade.A)
    assert check("dns.caa.iodef", malformed).grade is Grade.C
    flags = {"example.test CAA": ['5 issue "letsencrypt.org"']}
    assert fix_of(check("dns.caa.syntax", flags)) == (
        'example.test. IN CAA 0 issue "letsencrypt.org"',
        Grade.A,
    )
    typo = {"example.test CAA": [*GOOD["example.test CAA"], '0 isue "letsencrypt.org"']}
    result = check("dns.caa.syntax", typo)
    assert result.grade is Grade.B and "isue" in result.summary.en


def test_missing_iodef() -> None:
    result = check("dns.caa.iodef", {"example.test CAA": ['0 issue "letsencrypt.org"']})
    assert result.grade is Grade.B
    assert fix_of(result) == ('example.test. IN CAA 0 iodef "mailto:security@example.test"', Grade.A)
