"""SMTP TLS reports (RFC 8460 §4): the sample corpus (plain and gzip'd) with exact values, and broken and
hostile JSON with its reasons."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mimawari.dmarc.model import ReportError, TlsFailure, TlsPolicyResult, TlsReport
from mimawari.dmarc.tlsrpt import MAX_TLS_REPORT_BYTES, looks_like_tls_report, parse_tls_report

FIXTURES = Path(__file__).parent / "fixtures" / "dmarc" / "tlsrpt"
GOOGLE = "google.com!example.com!1715731200!1715817599!001.json"
GOOGLE_GZ = "google.com!example.org!1725321600!1725407999!001.json.gz"
MICROSOFT_GZ = "microsoft.com!example.net!1747958400!1748044799!133925885310113267.json.gz"


def sample(name: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


EXPECTED = {
    GOOGLE: TlsReport(
        organization_name="Google Inc.",
        report_id="2024-05-15T00:00:00Z_example.com",
        begin=datetime(2024, 5, 15, tzinfo=UTC),
        end=datetime(2024, 5, 15, 23, 59, 59, tzinfo=UTC),
        contact_info="smtp-tls-reporting@google.com",
        policies=(
            TlsPolicyResult(
                policy_type="sts",
                policy_domain="example.com",
                successful_sessions=1843,
                failed_sessions=12,
                policy_strings=(
                    "version: STSv1",
                    "mode: enforce",
                    "mx: mx1.example.com",
                    "mx: mx2.example.com",
                    "max_age: 604800",
                ),
                mx_hosts=("mx1.example.com", "mx2.example.com"),
                failures=(
                    TlsFailure(
                        result_type="certificate-expired",
                        failed_sessions=12,
                        sending_mta_ip="209.85.220.41",
                        receiving_mx_hostname="mx2.example.com",
                        receiving_ip="192.0.2.25",
                    ),
                ),
            ),
        ),
    ),
    GOOGLE_GZ: TlsReport(
        organization_name="Google Inc.",
        report_id="2024-09-03T00:00:00Z_example.org",
        begin=datetime(2024, 9, 3, tzinfo=UTC),
        end=datetime(2024, 9, 3, 23, 59, 59, tzinfo=UTC),
        contact_info="smtp-tls-reporting@google.com",
        policies=(
            TlsPolicyResult("no-policy-found", "example.org", successful_sessions=48, failed_sessions=0),
        ),
    ),
    MICROSOFT_GZ: TlsReport(
        organization_name="Microsoft Corporation",
        report_id="133925885310113267+example.net",
        begin=datetime(2025, 5, 23, tzinfo=UTC),
        end=datetime(2025, 5, 23, 23, 59, 59, tzinfo=UTC),
        contact_info="tlsrpt-noreply@microsoft.com",
        policies=(
            TlsPolicyResult(
                policy_type="sts",
                policy_domain="example.net",
                successful_sessions=2,
                failed_sessions=0,
                policy_strings=("version: STSv1", "mode: enforce", "mx: *.example.net", "max_age: 2592000"),
            ),
            TlsPolicyResult(
                policy_type="tlsa",
                policy_domain="example.net",
                successful_sessions=2,
                failed_sessions=1,
                # Microsoft writes the TLSA RRset as one string.
                policy_strings=(
                    '["3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC",'
                    '"3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B"]',
                ),
                failures=(
                    TlsFailure(
                        result_type="tlsa-invalid",
                        failed_sessions=1,
                        sending_mta_ip="2a01:111:f403:c200::1",
                        receiving_mx_hostname="mail.example.net",
                        receiving_ip="2001:db8::25",  # "2001:db8:0:0:0:0:0:25"
                    ),
                ),
            ),
        ),
    ),
    "rfc8460-appendix-example.json": TlsReport(
        organization_name="Company-X",
        report_id="5065427c-23d3-47ca-b6e0-946ea0e8c4be",
        begin=datetime(2016, 4, 1, tzinfo=UTC),
        end=datetime(2016, 4, 1, 23, 59, 59, tzinfo=UTC),
        contact_info="sts-reporting@company-x.example",
        policies=(
            TlsPolicyResult(
                policy_type="sts",
                policy_domain="company-y.example",
                successful_sessions=5326,
                failed_sessions=303,
                policy_strings=(
                    "version: STSv1",
                    "mode: testing",
                    "mx: *.mail.company-y.example",
                    "max_age: 86400",
                ),
                mx_hosts=("*.mail.company-y.example",),  # a string in the RFC's example, not a list
                failures=(
                    TlsFailure(
                        result_type="certificate-expired",
                        failed_sessions=100,
                        sending_mta_ip="2001:db8:abcd:12::1",
                        receiving_mx_hostname="mx1.mail.company-y.example",
                    ),
                    TlsFailure(
                        result_type="starttls-not-supported",
                        failed_sessions=200,
                        sending_mta_ip="2001:db8:abcd:13::1",
                        receiving_mx_hostname="mx2.mail.company-y.example",
                        receiving_ip="203.0.113.56",
                        additional_information=(
                            "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"
                        ),
                    ),
                    TlsFailure(
                        result_type="validation-failure",
                        failed_sessions=3,
                        sending_mta_ip="198.51.100.62",
                        receiving_mx_hostname="mx-backup.mail.company-y.example",
                        receiving_ip="203.0.113.58",
                        failure_reason_code="X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
                    ),
                ),
            ),
        ),
    ),
    "mail.ru-sorted-keys.json": TlsReport(
        organization_name="Mail.ru",
        report_id="b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru",
        begin=datetime(2024, 2, 22, tzinfo=UTC),
        end=datetime(2024, 2, 23, tzinfo=UTC),
        contact_info="tls_support@corp.mail.ru",
        policies=(
            TlsPolicyResult(
                policy_type="sts",
                policy_domain="example.com",
                successful_sessions=0,
                # The details add up to 2: totals and details are kept as reported, not reconciled.
                failed_sessions=1,
                failures=(
                    TlsFailure(
                        "sts-policy-fetch-error", 1, failure_reason_code="bad https response code: 404"
                    ),
                    TlsFailure(
                        "sts-policy-fetch-error", 1, failure_reason_code="bad https response code: 500"
                    ),
                ),
            ),
        ),
    ),
    "quirky-bom-nulls-extensions.json": TlsReport(
        organization_name="Mailbox Provider 株式会社",
        report_id="mbp-20240601-0042",
        begin=datetime(2024, 6, 1, tzinfo=UTC),  # 2024-06-01t09:00:00+09:00
        end=datetime(2024, 6, 1, 23, 59, 59, 999000, tzinfo=UTC),
        contact_info="",
        policies=(
            TlsPolicyResult(
                policy_type="sts",
                policy_domain="example.jp",
                successful_sessions=0,
                failed_sessions=4,
                failures=(TlsFailure("sts-policy-fetch-error", 4, failure_reason_code="no-policy-served"),),
            ),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(name: str) -> None:
    report = parse_tls_report(sample(name))
    assert report == EXPECTED[name]
    # Equal instants compare equal across zones: check that the zone is UTC, too.
    assert report.begin.tzinfo is UTC
    assert report.end.tzinfo is UTC


def test_every_sample_has_expected_values() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.json*")) == sorted(EXPECTED)


def test_gzip_samples_are_gzip() -> None:
    for name in (GOOGLE_GZ, MICROSOFT_GZ):
        assert (FIXTURES / name).read_bytes()[:2] == b"\x1f\x8b"
        assert not looks_like_tls_report((FIXTURES / name).read_bytes())  # sniffed after gunzip only


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing-report-id.json", "the report has no 'report-id' (required by RFC 8460 §4.4)"),
        (
            "negative-count.json",
            "policies[0].summary.total-failure-session-count must be a non-negative integer, not -1",
        ),
        (
            "count-as-string.json",
            "total-successful-session-count must be a non-negative integer, not a string",
        ),
        (
            "date-without-offset.json",
            "date-range.start-datetime '2024-06-01T00:00:00' is not an RFC 3339 date-time",
        ),
        ("ends-before-start.json", "date-range ends (2024-05-31T00:00:00+00:00) before it starts"),
        (
            "unknown-policy-type.json",
            "policies[0].policy.policy-type 'dane' is not one of sts, tlsa, no-policy-found",
        ),
        (
            "sending-mta-ip-not-an-ip.json",
            "failure-details[0].sending-mta-ip 'mx.example.com' is not an IP address",
        ),
        ("top-level-array.json", "the report must be a JSON object, not a list"),
        ("duplicate-key.json", "has the key 'report-id' twice in one object"),
        ("nan-count.json", "has NaN, which is not a JSON number"),
        ("truncated.json", "TLS report is not JSON: Unterminated string"),
        ("latin-1.json", "TLS report is not UTF-8 (invalid byte at offset"),
    ],
)
def test_broken_sample(name: str, reason: str) -> None:
    with pytest.raises(ReportError, match=re.escape(reason)) as raised:
        parse_tls_report(sample(f"broken/{name}"))
    assert "\n" not in str(raised.value)


def google_with(path: str, value: object) -> bytes:
    """The Google sample with one member replaced (``None``: removed); path like ``policies.0.summary``."""
    document = json.loads(sample(GOOGLE))
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[int(key) if isinstance(node, list) else key]
    index = int(last) if isinstance(node, list) else last
    if value is None:
        del node[index]
    else:
        node[index] = value
    return json.dumps(document).encode()


FAILURE = "policies.0.failure-details.0"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "TLS report is empty"),
        (b" \n", "TLS report is empty"),
        (b" " * (MAX_TLS_REPORT_BYTES + 1), f"over the limit of {MAX_TLS_REPORT_BYTES}"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        (b'{"organization-name": ' + b"9" * 5000 + b"}", "a number too long to read"),
        (b'{"x": Infinity}', "has Infinity, which is not a JSON number"),
        (b'{"x": -Infinity}', "has -Infinity"),
        ('{"organization-name": "x"}'.encode("utf-16"), "not UTF-8"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "not UTF-8"),  # still gzip'd
        (google_with("organization-name", None), "the report has no 'organization-name'"),
        (google_with("organization-name", "   "), "organization-name is empty"),
        (google_with("organization-name", 7), "organization-name must be a string, not a number"),
        (google_with("report-id", "r" * 256), "report-id is 256 characters long, over the limit of 255"),
        (
            google_with("contact-info", "c" * 321),
            "contact-info is 321 characters long, over the limit of 320",
        ),
        (google_with("date-range", None), "the report has no 'date-range'"),
        (google_with("date-range", "2024-05-15"), "date-range must be a JSON object, not a string"),
        (google_with("date-range.end-datetime", "2024-05-15T23:59:60Z"), "is not a valid date-time"),
        (google_with("date-range.end-datetime", "2024-13-15T00:00:00Z"), "is not a valid date-time"),
        (google_with("date-range.end-datetime", "1715817599"), "is not an RFC 3339 date-time"),
        (google_with("policies", None), "the report has no 'policies'"),
        (google_with("policies", {"policy": {}}), "policies must be a list, not an object"),
        (google_with("policies.0", "sts"), "policies[0] must be a JSON object, not a string"),
        (google_with("policies.0.policy", None), "policies[0] has no 'policy'"),
        (google_with("policies.0.policy.policy-domain", None), "policies[0].policy has no 'policy-domain'"),
        (
            google_with("policies.0.policy.policy-domain", "not a domain"),
            "policy-domain 'not a domain' is not a domain name",
        ),
        (
            google_with("policies.0.policy.mx-host", ["mx1.example.com", 2]),
            "policies[0].policy.mx-host must be a list of strings",
        ),
        (google_with("policies.0.summary", None), "policies[0] has no 'summary'"),
        (
            google_with("policies.0.summary.total-failure-session-count", None),
            "has no 'total-failure-session-count'",
        ),
        (
            google_with("policies.0.summary.total-failure-session-count", True),
            "must be a non-negative integer, not True",
        ),
        (
            google_with("policies.0.summary.total-failure-session-count", 1.5),
            "must be a non-negative integer, not 1.5",
        ),
        (
            google_with("policies.0.summary.total-failure-session-count", 2**63),
            "must be a non-negative integer",
        ),
        (
            sample(GOOGLE).replace(
                b'"total-failure-session-count":12', b'"total-failure-session-count":1e400'
            ),
            "not inf",
        ),
        (
            google_with("policies.0.failure-details", {}),
            "policies[0].failure-details must be a list, not an object",
        ),
        (google_with(f"{FAILURE}.result-type", None), "policies[0].failure-details[0] has no 'result-type'"),
        (
            google_with(f"{FAILURE}.failed-session-count", None),
            "failure-details[0] has no 'failed-session-count'",
        ),
        (
            google_with(f"{FAILURE}.receiving-ip", "256.0.0.1"),
            "receiving-ip '256.0.0.1' is not an IP address",
        ),
        (
            google_with(f"{FAILURE}.receiving-mx-helo", ["mx"]),
            "receiving-mx-helo must be a string, not a list",
        ),
        (
            sample(GOOGLE).replace(
                b'"failed-session-count":12', b'"failed-session-count":12,"failed-session-count":0'
            ),
            "has the key 'failed-session-count' twice in one object",
        ),
    ],
)
def test_broken_report(data: bytes, reason: str) -> None:
    with pytest.raises(ReportError, match=re.escape(reason)) as raised:
        parse_tls_report(data)
    assert "\n" not in str(raised.value)


def test_values_are_cleaned_for_storage() -> None:
    data = google_with("organization-name", "Goo\x00gle\u0007 \ud800Inc.")
    assert parse_tls_report(data).organization_name == "Google \ufffdInc."


def test_unknown_members_are_ignored() -> None:
    data = google_with("policies.0.x-vendor", {"deep": [1, 2, {"a": None}]})
    assert parse_tls_report(data) == EXPECTED[GOOGLE]


def test_optional_members_may_be_null() -> None:
    data = (
        sample(GOOGLE)
        .replace(b'"smtp-tls-reporting@google.com"', b"null")
        .replace(b'"mx-host":["mx1.example.com","mx2.example.com"]', b'"mx-host":null')
        .replace(b'"failed-session-count":12', b'"failed-session-count":12,"receiving-mx-helo":null')
    )
    report = parse_tls_report(data)
    assert report.contact_info == ""
    assert report.policies[0].mx_hosts == ()
    assert report.policies[0].failures == EXPECTED[GOOGLE].policies[0].failures


# --- sniffing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_looks_like_tls_report(name: str) -> None:
    assert looks_like_tls_report(sample(name)[:200])


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"   ",
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>\n  <report_metadata>\n    <org_name>google.com',
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
        b"PK\x03\x04",
        b'{"type": "FeatureCollection", "features": []}',
        b'["organization-name", "date-range"]',
    ],
)
def test_does_not_look_like_tls_report(head: bytes) -> None:
    assert not looks_like_tls_report(head)
