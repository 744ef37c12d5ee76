"""The email.mta_sts.* checks on recorded observations: grade, evidence, fix and after-fix."""

from __future__ import annotations

import pytest

from mimawari.lookup import HttpRequest, HttpResponse, Snapshot, replay
from mimawari.model import Finding, Grade, Severity, Status
from mimawari.observations.mta_sts import Retrieval, mta_sts_plan
from tests.helpers import finding, recorded

DOMAIN = "example.test"
URL = "https://mta-sts.example.test/.well-known/mta-sts.txt"
ADDRESS = "203.0.113.5"
ENFORCE = "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.backup.example.test\nmax_age: 604800\n"
Answers = dict[str, str | list[str]]


def answers(txt: str | list[str] = "v=STSv1; id=1", more: Answers | None = None) -> Answers:
    base: Answers = {
        "_mta-sts.example.test TXT": [txt] if isinstance(txt, str) and txt.startswith("v=") else txt,
        "example.test MX": ["10 mx1.example.test.", "20 mx2.backup.example.test."],
        "mta-sts.example.test A": [ADDRESS],
        "mta-sts.example.test AAAA": "NODATA",
    }
    base.update(more or {})
    return base


def served(
    body: str = ENFORCE,
    http_status: int = 200,
    content_type: str = "text/plain; charset=utf-8",
    **fields: str,
) -> HttpResponse:
    return HttpResponse(HttpRequest(URL, ADDRESS), Status.PRESENT, http_status, content_type, body, **fields)


def snapshot(given: Answers, *http: HttpResponse) -> Snapshot:
    return recorded(DOMAIN, given).patched(*http)


def check(check_id: str, given: Answers, *http: HttpResponse) -> Finding:
    return finding(snapshot(given, *http), f"email.mta_sts.{check_id}")


def grades(given: Answers, *http: HttpResponse) -> dict[str, Grade]:
    return {
        name: check(name, given, *http).grade for name in ("record", "policy_fetch", "policy", "mx_coverage")
    }


def test_everything_right_is_a_everywhere() -> None:
    assert set(grades(answers(), served()).values()) == {Grade.A}
    record = check("record", answers(), served())
    assert (record.fix, record.after_fix, record.severity) == (None, None, Severity.INFO)
    assert "policy id 1" in record.summary.en


def test_observation_holds_parsed_record_policy_and_mx() -> None:
    observation = replay(mta_sts_plan(snapshot(answers(), served()).target), snapshot(answers(), served()))
    assert observation.record is not None and observation.record.id == "1"
    assert observation.mx_hosts == ("mx1.example.test", "mx2.backup.example.test")
    assert observation.retrieval is Retrieval.RETRIEVED
    assert observation.policy is not None and observation.policy.max_age == 604800


def test_no_mta_sts_grades_c_with_the_whole_set_up_as_fix() -> None:
    result = check("record", answers(txt="NXDOMAIN"))
    assert (result.grade, result.severity) == (Grade.C, Severity.MEDIUM)
    assert result.fix is not None and result.fix.snippet is not None
    snippet = result.fix.snippet
    assert snippet.startswith('_mta-sts.example.test. IN TXT "v=STSv1; id=1"\n')
    assert f"# {URL} (Content-Type: text/plain)" in snippet
    assert "mode: testing\nmx: mx1.example.test\nmx: mx2.backup.example.test\nmax_age: 604800" in snippet
    assert result.after_fix is not None and result.after_fix.grade is Grade.A
    assert "mta-sts.example.test" in result.fix.action.ja
    for other in ("policy_fetch", "policy", "mx_coverage"):
        assert check(other, answers(txt="NXDOMAIN")).grade is Grade.NA


def test_txt_records_that_are_not_sts_are_absent() -> None:
    assert check("record", answers(txt=["v=spf1 -all", "hello"])).grade is Grade.C


def test_domain_without_mail_is_not_applicable() -> None:
    assert check("record", answers(txt="NXDOMAIN", more={"example.test MX": "NODATA"})).grade is Grade.NA
    null_mx = answers(txt="NXDOMAIN", more={"example.test MX": ["0 ."]})
    assert check("record", null_mx).grade is Grade.NA


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_failed_txt_lookup_is_unknown_everywhere(outcome: str) -> None:
    result = grades(answers(txt=outcome))
    assert set(result.values()) == {Grade.UNKNOWN}
    assert outcome in check("record", answers(txt=outcome)).summary.en


def test_failed_mx_lookup_with_no_record_is_unknown_not_missing() -> None:
    result = check("record", answers(txt="NXDOMAIN", more={"example.test MX": "timeout"}))
    assert result.grade is Grade.UNKNOWN and result.fix is None


def test_multiple_records_grade_d() -> None:
    result = check("record", answers(txt=["v=STSv1; id=1", "v=STSv1; id=2"]), served())
    assert result.grade is Grade.D
    assert result.fix is not None and result.fix.snippet == '_mta-sts.example.test. IN TXT "v=STSv1; id=1"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_invalid_record_grades_d_with_a_corrected_record() -> None:
    result = check("record", answers(txt="v=STSv1; id=not-valid!"), served())
    assert result.grade is Grade.D and "1 to 32 letters and digits" in result.summary.en
    assert result.fix is not None and result.fix.snippet == '_mta-sts.example.test. IN TXT "v=STSv1; id=1"'


@pytest.mark.parametrize(
    ("response", "detail", "fix"),
    [
        (
            HttpResponse(
                HttpRequest(URL, ADDRESS),
                Status.ERROR,
                detail="certificate verify failed: certificate has expired",
            ),
            "certificate has expired",
            "certbot certonly --webroot -w /var/www/mta-sts -d mta-sts.example.test",
        ),
        (
            served(http_status=301, redirect="https://www.example.test/sts.txt", body=""),
            "redirect to https://www.example.test/sts.txt",
            "# " + URL,
        ),
        (served(http_status=404, body="no"), "HTTP 404", "# " + URL),
        (served(content_type="text/html"), "served as text/html, not text/plain", "Content-Type: text/plain"),
        (
            HttpResponse(
                HttpRequest(URL, ADDRESS), Status.ERROR, detail="out of scope: 10.0.0.1 is a private address"
            ),
            "private address",
            "# " + URL,
        ),
    ],
)
def test_policy_fetch_failures_grade_d_with_the_detail(response: HttpResponse, detail: str, fix: str) -> None:
    result = check("policy_fetch", answers(), response)
    assert result.grade is Grade.D
    assert detail in result.summary.en
    assert any(detail in e.value for e in result.evidence)
    assert result.fix is not None and result.fix.snippet is not None and result.fix.snippet.startswith(fix)
    assert result.after_fix is not None and result.after_fix.grade is Grade.A
    assert check("policy", answers(), response).grade is Grade.NA


def test_policy_host_without_address() -> None:
    given = answers(more={"mta-sts.example.test A": "NXDOMAIN", "mta-sts.example.test AAAA": "NXDOMAIN"})
    result = check("policy_fetch", given)
    assert result.grade is Grade.D and "has no address" in result.summary.en
    assert (
        result.fix is not None
        and result.fix.snippet == "mta-sts.example.test. IN A <address of the HTTPS server>"
    )


@pytest.mark.parametrize(
    "given",
    [
        answers(more={"mta-sts.example.test A": "timeout"}),
        answers(more={"mta-sts.example.test A": "SERVFAIL", "mta-sts.example.test AAAA": "SERVFAIL"}),
    ],
)
def test_policy_host_lookup_failure_is_unknown(given: Answers) -> None:
    result = grades(given)
    assert result["record"] is Grade.A
    assert result["policy_fetch"] is result["policy"] is result["mx_coverage"] is Grade.UNKNOWN


def test_fetch_timeout_and_unrecorded_fetch_are_unknown() -> None:
    timed_out = HttpResponse(HttpRequest(URL, ADDRESS), Status.TIMEOUT, detail="no answer within 5 s")
    assert check("policy_fetch", answers(), timed_out).grade is Grade.UNKNOWN
    assert check("policy_fetch", answers()).grade is Grade.UNKNOWN  # the fetch is not in the snapshot
    assert check("mx_coverage", answers(), timed_out).grade is Grade.UNKNOWN


def test_second_address_is_tried_when_the_first_fails() -> None:
    given = answers(more={"mta-sts.example.test AAAA": ["2001:db8::5"]})
    refused = HttpResponse(HttpRequest(URL, ADDRESS), Status.ERROR, detail="connection refused")
    second = HttpResponse(HttpRequest(URL, "2001:db8::5"), Status.PRESENT, 200, "text/plain", ENFORCE)
    assert check("policy_fetch", given, refused, second).grade is Grade.A


@pytest.mark.parametrize(
    ("body", "grade", "after", "fixed"),
    [
        (ENFORCE, Grade.A, None, None),
        (ENFORCE.replace("enforce", "testing"), Grade.B, Grade.A, "mode: enforce"),
        (ENFORCE.replace("enforce", "none"), Grade.D, Grade.B, "mode: testing"),
        (ENFORCE.replace("604800", "3600"), Grade.B, Grade.A, "max_age: 604800"),
        (ENFORCE.replace("enforce", "testing").replace("604800", "60"), Grade.C, Grade.A, "mode: enforce"),
        (ENFORCE.replace("STSv1", "STSv2"), Grade.D, Grade.A, "version: STSv1\nmode: enforce"),
        ("<html>hello</html>", Grade.D, Grade.B, "mode: testing"),
    ],
)
def test_policy_grades(body: str, grade: Grade, after: Grade | None, fixed: str | None) -> None:
    result = check("policy", answers(), served(body))
    assert result.grade is grade, result.summary.en
    if after is None:
        assert result.fix is None
        return
    assert result.after_fix is not None and result.after_fix.grade is after
    assert result.fix is not None and result.fix.snippet is not None
    assert fixed is not None and fixed in result.fix.snippet
    assert any(e.source == "policy" for e in result.evidence)


def test_testing_mode_summary_and_fix_cover_every_mx() -> None:
    body = "version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 86400\n"
    result = check("policy", answers(), served(body))
    assert "testing mode" in result.summary.en and "testing モード" in result.summary.ja
    assert result.fix is not None and result.fix.snippet is not None
    assert "mx: mx1.example.test\nmx: mx2.backup.example.test\n" in result.fix.snippet


@pytest.mark.parametrize(("mode", "grade"), [("enforce", Grade.E), ("testing", Grade.C)])
def test_uncovered_mx(mode: str, grade: Grade) -> None:
    body = f"version: STSv1\nmode: {mode}\nmx: mx1.example.test\nmax_age: 604800\n"
    result = check("mx_coverage", answers(), served(body))
    assert result.grade is grade
    assert "mx2.backup.example.test" in result.summary.en
    assert result.fix is not None and result.fix.snippet is not None
    assert "mx: mx1.example.test\nmx: mx2.backup.example.test\n" in result.fix.snippet
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_mx_coverage_not_applicable_or_unknown() -> None:
    none_mode = "version: STSv1\nmode: none\nmax_age: 86400\n"
    assert check("mx_coverage", answers(), served(none_mode)).grade is Grade.NA
    assert check("mx_coverage", answers(), served("junk")).grade is Grade.NA
    timed_out_mx = answers(more={"example.test MX": "timeout"})
    assert check("mx_coverage", timed_out_mx, served()).grade is Grade.UNKNOWN
    assert check("mx_coverage", answers(more={"example.test MX": "NODATA"}), served()).grade is Grade.NA
