"""email.mta.tls_reports on hand-made TLS report summaries: every grade band, every result type's fix,
N/A without data, and the summary carried through JSON and a replayed snapshot."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.checks.email.mta import tls_reports
from mimawari.checks.email.mta.tls_reports import CHECK, RESULT_TYPES, Remedy, percent, share_grade
from mimawari.lookup import Request, Response, Snapshot
from mimawari.model import Category, Finding, Grade, Severity, Target, TlsReportSummary
from mimawari.observations.tls_reports import TLS_REPORTS, TlsReportsObservation
from mimawari.scan import evaluate_snapshot, scan_target
from mimawari.serial import from_json, from_jsonable, to_json, to_jsonable

D = "example.test"
SUMMARY = TlsReportSummary(
    days=30,
    reports=42,
    reporters=("Google Inc.", "Microsoft Corporation"),
    successful_sessions=99_000,
    failed_sessions=1_000,
    failures=(("certificate-expired", 900), ("starttls-not-supported", 100)),
    mx_hosts=(("mx1.example.test", 800), ("mx2.example.test", 200)),
    policy_types=("sts", "no-policy-found"),
)
"""1 % of 100,000 sessions failed, mostly on an expired certificate: D."""


def with_failed(
    failed: int, total: int = 100_000, result_type: str = "certificate-expired"
) -> TlsReportSummary:
    failures = ((result_type, failed),) if failed else ()
    mx_hosts = (("mx1.example.test", failed),) if failed else ()
    return replace(
        SUMMARY,
        successful_sessions=total - failed,
        failed_sessions=failed,
        failures=failures,
        mx_hosts=mx_hosts,
    )


def finding(summary: TlsReportSummary | None) -> Finding:
    return CHECK.finding(D, TlsReportsObservation(D, summary))


def evidence_of(result: Finding) -> str:
    return " | ".join(f"{e.source}: {e.value}" for e in result.evidence)


# --- not applicable ------------------------------------------------------------------------------------


def test_no_report_data_is_not_applicable() -> None:
    result = finding(None)
    assert result.grade is Grade.NA and result.severity is Severity.INFO
    assert result.summary.en.startswith("No SMTP TLS reports received")
    assert "mimawari dmarc ingest" in result.summary.en and "mimawari dmarc ingest" in result.summary.ja
    assert result.fix is None and result.after_fix is None


def test_reports_without_sessions_are_not_applicable() -> None:
    empty = TlsReportSummary(
        days=7, reports=3, reporters=("Google Inc.",), successful_sessions=0, failed_sessions=0
    )
    result = finding(empty)
    assert result.grade is Grade.NA
    assert "3 reports in the last 7 days" in result.summary.en and "7 日間" in result.summary.ja
    assert "Google Inc." in evidence_of(result)


# --- grades --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "grade"),
    [
        (0, Grade.A),
        (1, Grade.B),  # 0.001 %
        (99, Grade.B),  # 0.099 %: just under 0.1 %
        (100, Grade.C),  # 0.1 %
        (999, Grade.C),
        (1_000, Grade.D),  # 1 %
        (4_999, Grade.D),
        (5_000, Grade.E),  # 5 %
        (100_000, Grade.E),  # every session failed
    ],
)
def test_grade_follows_the_failed_share(failed: int, grade: Grade) -> None:
    result = finding(with_failed(failed))
    assert result.grade is grade
    assert share_grade(failed, 100_000) is grade
    if grade is Grade.A:
        assert result.fix is None and result.after_fix is None
        assert "All 100,000 SMTP TLS sessions" in result.summary.en
    else:
        assert result.after_fix is not None and result.after_fix.grade is Grade.A
        assert f"{failed:,} of 100,000" in result.summary.en


def test_share_is_shown_cut_never_rounded_up_to_a_band_bound() -> None:
    assert percent(99, 100_000) == "0.099 %"
    assert percent(99_999, 100_000_000) == "0.0999 %"  # not 0.1 %, which would be C
    assert percent(1_000, 100_000) == "1 %"
    assert percent(1, 3) == "33.3 %"
    assert percent(0, 10) == "0 %"


def test_metadata() -> None:
    assert ALL_CHECKS["email.mta.tls_reports"] is CHECK
    assert CHECK.category is Category.EMAIL_MTA and CHECK.severity is Severity.MEDIUM
    assert CHECK.observer is TLS_REPORTS
    assert any("RFC 8460" in r.label for r in CHECK.references)


def test_evidence_lists_sessions_share_result_types_mx_hosts_and_reporters() -> None:
    result = finding(SUMMARY)
    assert result.grade is Grade.D and result.severity is Severity.MEDIUM
    evidence = evidence_of(result)
    assert "42 reports from 2 reporters" in evidence
    assert "100,000 in total: 99,000 successful, 1,000 failed (1 %)" in evidence
    assert "certificate-expired 900, starttls-not-supported 100" in evidence
    assert "mx1.example.test 800, mx2.example.test 200" in evidence
    assert "sts, no-policy-found" in evidence
    assert "Google Inc., Microsoft Corporation" in evidence
    assert "most often certificate-expired: the MX certificate had expired" in result.summary.en
    assert "certificate-expired" in result.summary.ja and "有効期限" in result.summary.ja


def test_long_lists_are_cut_and_counted() -> None:
    many = replace(
        SUMMARY,
        failures=tuple((f"type-{i}", 10 - i) for i in range(8)),
        mx_hosts=(("", 5), *((f"mx{i}.example.test", 1) for i in range(6))),
        reporters=tuple(f"Reporter {i}" for i in range(12)),
    )
    evidence = evidence_of(finding(many))
    assert "type-4 6, and 3 more" in evidence and "type-5" not in evidence
    assert "(MX host not named in the reports) 5" in evidence and "and 2 more" in evidence
    assert "Reporter 9, and 2 more" in evidence


# --- the fix follows the dominant result type -----------------------------------------------------------

EXPECTED_REMEDY = {
    "certificate-expired": Remedy.CERTIFICATE,
    "certificate-host-mismatch": Remedy.CERTIFICATE,
    "certificate-not-trusted": Remedy.CERTIFICATE,
    "validation-failure": Remedy.CERTIFICATE,
    "starttls-not-supported": Remedy.STARTTLS,
    "sts-policy-fetch-error": Remedy.STS_POLICY,
    "sts-policy-invalid": Remedy.STS_POLICY,
    "sts-webpki-invalid": Remedy.STS_POLICY,
    "tlsa-invalid": Remedy.TLSA,
    "dnssec-invalid": Remedy.TLSA,
    "dane-required": Remedy.TLSA,
}
SNIPPET_MARK = {
    Remedy.CERTIFICATE: "-servername mx1.example.test -showcerts",
    Remedy.STARTTLS: "smtpd_tls_security_level = may",
    Remedy.STS_POLICY: "curl -sS -D - https://mta-sts.example.test/.well-known/mta-sts.txt",
    Remedy.TLSA: "_25._tcp.mx1.example.test. IN TLSA 3 1 1",
    Remedy.OTHER: '."failure-details"',
}


def test_every_rfc8460_result_type_has_a_remedy() -> None:
    assert {t: r.remedy for t, r in RESULT_TYPES.items()} == EXPECTED_REMEDY


@pytest.mark.parametrize("result_type", [*EXPECTED_REMEDY, "sts-new-failure-type"])
def test_fix_follows_the_result_type(result_type: str) -> None:
    result = finding(with_failed(2_000, result_type=result_type))
    remedy = EXPECTED_REMEDY.get(result_type, Remedy.OTHER)
    assert result.grade is Grade.D and result.fix is not None and result.fix.snippet is not None
    assert SNIPPET_MARK[remedy] in result.fix.snippet
    for other, mark in SNIPPET_MARK.items():
        if other is not remedy:
            assert mark not in result.fix.snippet
    assert result.fix.action.ja and result.fix.action.ja != result.fix.action.en
    assert "{" not in result.fix.action.en + result.fix.snippet + result.summary.en + result.summary.ja
    assert result_type in result.summary.en
    cause = RESULT_TYPES[result_type].cause if result_type in RESULT_TYPES else tls_reports.OTHER.cause
    assert cause.en in result.summary.en and cause.ja in result.summary.ja
    assert result.after_fix is not None and result.after_fix.effect.ja


def test_dominant_type_decides_even_when_listed_later() -> None:
    mixed = replace(SUMMARY, failures=(("starttls-not-supported", 10), ("tlsa-invalid", 990)))
    result = finding(mixed)
    assert result.fix is not None and result.fix.snippet is not None
    assert "IN TLSA 3 1 1" in result.fix.snippet
    assert "most often tlsa-invalid" in result.summary.en


def test_mta_sts_fix_lists_every_reported_mx_host() -> None:
    sts = replace(SUMMARY, failures=(("sts-policy-invalid", 1_000),))
    result = finding(sts)
    assert result.fix is not None and result.fix.snippet is not None
    assert "mx: mx1.example.test\nmx: mx2.example.test\n" in result.fix.snippet
    assert "mta-sts.example.test" in result.fix.action.en


def test_failures_without_details_get_the_generic_fix_and_no_host() -> None:
    bare = replace(SUMMARY, failures=(), mx_hosts=())
    result = finding(bare)
    assert result.grade is Grade.D
    assert "the reports name no result type" in result.summary.en
    assert result.fix is not None and "<MX host>" in result.fix.action.en


# --- the summary in the target: JSON and replay ---------------------------------------------------------


def test_target_with_a_summary_round_trips_through_json() -> None:
    target = Target(D, observed_at=1_767_225_600, tls_reports=SUMMARY)
    assert from_json(Target, to_json(target)) == target
    data = to_jsonable(target)
    assert data["tls_reports"]["failures"] == [["certificate-expired", 900], ["starttls-not-supported", 100]]
    snapshot = Snapshot(target)
    assert from_json(Snapshot, to_json(snapshot)) == snapshot


def test_snapshot_stored_before_the_field_still_loads() -> None:
    data = to_jsonable(Snapshot(Target(D)))
    del data["target"]["tls_reports"]
    assert from_jsonable(Snapshot, data).target.tls_reports is None


def test_malformed_summary_is_rejected() -> None:
    data = to_jsonable(Target(D, tls_reports=SUMMARY))
    data["tls_reports"]["failed_sessions"] = "many"
    with pytest.raises(ValueError, match="failed_sessions"):
        from_jsonable(Target, data)


def test_replayed_snapshot_produces_the_finding() -> None:
    stored = to_json(Snapshot(Target(D, observed_at=1_767_225_600, tls_reports=SUMMARY)))
    report = evaluate_snapshot(from_json(Snapshot, stored))
    (result,) = [f for f in report.findings if f.check_id == "email.mta.tls_reports"]
    assert result.grade is Grade.D and result.target == D
    assert report.observations["tls_reports"] == TlsReportsObservation(D, SUMMARY)
    assert result == finding(SUMMARY)
    without = evaluate_snapshot(Snapshot(Target(D)), {CHECK.id: CHECK})
    assert without.findings[0].grade is Grade.NA


class NoNetwork:
    """A sender that fails the test if the plan asks anything: the reports come from the target."""

    async def send(self, request: Request) -> Response:
        raise AssertionError(f"the TLS reports plan asked {request}")


async def test_scan_asks_nothing_on_the_network() -> None:
    report = await scan_target(Target(D, tls_reports=SUMMARY), NoNetwork(), {CHECK.id: CHECK})
    (result,) = report.findings
    assert result.grade is Grade.D
    assert report.snapshot.responses == [] and report.snapshot.target.tls_reports == SUMMARY
