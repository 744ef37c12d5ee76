"""DMARC failure reports (ARF: RFC 5965, RFC 6591, RFC 9991): the sample corpus with exact values, broken
and hostile reports with their reasons, and the idempotency key."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

import pytest

from mimawari.dmarc import failure
from mimawari.dmarc.failure import MAX_FAILURE_BYTES, MAX_MIME_DELIMITERS, is_failure_report, parse_failure
from mimawari.dmarc.model import FailureReport, ReportError

FIXTURES = Path(__file__).parent / "fixtures" / "dmarc" / "failure"


def sample(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(data: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(data)


# The keys are golden: a change to how reports are normalised would store every report again.
EXPECTED = {
    "linkedin-lua.eml": FailureReport(
        key="24f6645cdc384106a567a97907e69dc4ea069bd2970980bd4ab5475f4e575640",
        reporter="dmarc-noreply@linkedin.com",
        feedback_type="auth-failure",
        arrival_date=datetime(2024, 5, 14, 2, 8, 57, tzinfo=UTC),
        source_ip="192.0.2.45",
        reported_domain="example.com",
        auth_failure="dmarc",
        original_mail_from="",
        original_rcpt_to="recipient@linkedin.com",
        delivery_result="delivered",
        user_agent="Lua/1.0",
        header_from="example.com",
        subject="Quarterly figures",
        message_id="<20240514020857.4F2A1C0B@mail02.example.com>",
    ),
    "netease-mixed-base64.eml": FailureReport(
        key="f04b944fd40beb743f4dd93f88549566dee319ced3214f8258be37e1d5ba5542",
        reporter="abuse@163.com",
        feedback_type="auth-failure",
        arrival_date=datetime(2018, 9, 28, 8, 48, 42, tzinfo=UTC),
        source_ip="198.51.100.24",
        reported_domain="example.org",
        auth_failure="",  # Netease leaves Auth-Failure out
        original_mail_from="bounces+1137616-c1ad-xsj399=163.com@email.example.net",
        delivery_result="delivered",
        dkim_domain="example.net",
        identity_alignment="spf,dkim",
        user_agent="NtesDmarcReporter/1.0",
        header_from="example.org",
        subject="Rent Reminder",
        message_id="<oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.example.net>",
    ),
    "opendmarc-headers.eml": FailureReport(
        key="291d14c01a867b97c5dd4fd402050f555e04d4b8254c3501cd6652771fea42d0",
        reporter="opendmarc@mx.example.org",
        feedback_type="auth-failure",
        arrival_date=None,
        source_ip="198.51.100.77",  # "198.51.100.77 (vps77.hosting.example.net)"
        reported_domain="example.com",
        auth_failure="dmarc",
        original_mail_from="billing@invoices-example.net",
        user_agent="OpenDMARC-Filter/1.4.2",
        header_from="example.com",
        subject="Your invoice INV-20931 is overdue",
        message_id="<c0ffee42.5a1d@vps77.hosting.example.net>",
    ),
    "dkim-bodyhash-ipv6.eml": FailureReport(
        key="8f7598cbea9f52f7cf2e9a2a498db304d8965b8ed8b9707004262d64a2618b4c",
        reporter="dkim-reports@mail.example.net",
        feedback_type="auth-failure",
        arrival_date=datetime(2024, 2, 8, 22, 40, 34, tzinfo=UTC),  # from the historic Received-Date
        source_ip="2001:db8::25",
        reported_domain="news.example.com",
        auth_failure="bodyhash",
        original_mail_from="newsletter@news.example.com",
        original_rcpt_to="user@example.net",
        delivery_result="spam",
        dkim_domain="news.example.com",
        dkim_selector="news2024",
        dkim_identity="@news.example.com",
        user_agent="SomeDKIMFilter/1.0",
        header_from="news.example.com",
        subject="This week at Example",
        message_id="<news-2024-06.b7e1@news.example.com>",
    ),
    "crlf-base64-headers-ja.eml": FailureReport(
        key="313da1677db60de847304ecc76f0341fb66231d55fd5dca8440551dbdddb4a70",
        reporter="dmarc-ruf@mailgate.example.co.jp",
        feedback_type="auth-failure",
        arrival_date=datetime(2024, 5, 15, 0, 30, 12, tzinfo=UTC),  # "-0000"
        source_ip="192.0.2.88",  # "::ffff:192.0.2.88"
        reported_domain="example.co.jp",
        auth_failure="dmarc",
        original_mail_from="bounce-7731@smtp.example-sender.jp",
        original_rcpt_to="tanaka@example.co.jp, suzuki@example.co.jp",
        delivery_result="policy",
        identity_alignment="none",
        user_agent="MailGate-DMARC/3.1",
        header_from="example.co.jp",
        subject="請求書のご確認のお願い",
        message_id="<20240515003010.7F3A2B0C11@smtp.example-sender.jp>",
    ),
    "bad-arrival-date.eml": FailureReport(
        key="e7930c17fd558d88382d15ef9de2b3c0bc797414b79c814a354569c0fa88ad0b",
        reporter="dmarc-reports@reports.example.net",
        feedback_type="auth-failure",
        arrival_date=None,  # "31 Feb 2024 25:61:00": unreadable, not an error
        source_ip="203.0.113.200",
        reported_domain="example.com",
        auth_failure="dmarc",
        original_mail_from="noreply@example.com",
        original_rcpt_to="someone@example.net",
        delivery_result="reject",
        identity_alignment="none",
        user_agent="ReportGen/2.3",
        header_from="example.com",
        subject="Password expiry notice",
        message_id="<5e1f.0c2b.9a77@203.0.113.200>",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(name: str) -> None:
    report = parse_failure(sample(name))
    assert report == EXPECTED[name]
    # Equal instants compare equal across zones: check that the zone is UTC, too.
    assert report.arrival_date is None or report.arrival_date.tzinfo is UTC


def test_every_sample_has_expected_values() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("abuse-arf.eml", "Feedback-Type is 'abuse': an ARF abuse report, not a DMARC failure report"),
        ("dsn-bounce.eml", "no message/feedback-report part"),
        ("plain-text-only.eml", "not an ARF report: a 'text/plain' message, not multipart/report"),
        ("garbage.bin", "not an ARF report: a 'text/plain' message"),
        ("truncated.eml", "truncated: its MIME closing boundary is missing"),
        ("bad-source-ip.eml", "Source-IP '999.0.2.300' is not an IP address"),
        ("duplicate-source-ip.eml", "field Source-IP appears more than once"),
    ],
)
def test_broken_sample(name: str, reason: str) -> None:
    with pytest.raises(ReportError, match=re.escape(reason)) as raised:
        parse_failure(sample(f"broken/{name}"))
    assert "\n" not in str(raised.value)


def edited(name: str, old: str, new: str) -> bytes:
    data = sample(name)
    assert old.encode() in data
    return data.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not an ARF report"),
        (b"\x00" * 64, "not an ARF report"),
        (b"x" * (MAX_FAILURE_BYTES + 1), f"over the limit of {MAX_FAILURE_BYTES}"),
        (
            sample("linkedin-lua.eml").split(b"Source-IP")[0],
            "truncated: its MIME closing boundary is missing",
        ),
        (edited("opendmarc-headers.eml", "Feedback-Type: auth-failure\n", ""), "no Feedback-Type field"),
        (
            edited("opendmarc-headers.eml", "Source-IP: 198.51.100.77 (vps77.hosting.example.net)\n", ""),
            "no Source-IP",
        ),
        (
            edited("opendmarc-headers.eml", "Feedback-Type: auth-failure", "Feedback-Type: fraud"),
            "ARF fraud report",
        ),
        (
            edited("opendmarc-headers.eml", "Reported-Domain: example.com", "Reported-Domain: <x>"),
            "is not a domain name",
        ),
        (
            edited(
                "opendmarc-headers.eml", "Auth-Failure: dmarc\n", "Auth-Failure: dmarc\nAuth-Failure: spf\n"
            ),
            "field Auth-Failure appears more than once",
        ),
        (
            edited("bad-arrival-date.eml", "From: DMARC Reports <dmarc-reports@reports.example.net>\n", ""),
            "no From address and no Reporting-MTA field",
        ),
        (
            edited(
                "bad-arrival-date.eml",
                "<dmarc-reports@reports.example.net>",
                "<" + "r" * 301 + "@reports.example.net>",
            ),
            "the report's sender is 321 characters long",
        ),
        (
            edited("bad-arrival-date.eml", "Source-IP: 203.0.113.200", "Source-IP: fe80::1%eth0"),
            "is not an IP address",
        ),
        (
            edited("bad-arrival-date.eml", "Auth-Failure: dmarc", "Auth-Failure: " + "x" * 40),
            "is not a failure type",
        ),
        (
            edited("bad-arrival-date.eml", "Reported-Domain: example.com\n", "").replace(
                b"From: IT Helpdesk <helpdesk@example.com>\n", b""
            ),
            "no Reported-Domain field and no From domain",
        ),
        (
            edited(
                "netease-mixed-base64.eml",
                "RmVlZGJhY2stVHlwZTogYXV0aC1mYWlsdXJl",
                "RmVlZGJhY2stVHlwZTogYXV0aC1mYWlsdXJ",
            ),
            "base64-encoded report part cannot be decoded",
        ),
    ],
)
def test_broken_report(data: bytes, reason: str) -> None:
    with pytest.raises(ReportError, match=re.escape(reason)):
        parse_failure(data)


def test_many_mime_parts_are_refused_before_parsing() -> None:
    data = sample("bad-arrival-date.eml")
    empty_parts = b"------=_Part_117_1709373600\n\nx\n" * MAX_MIME_DELIMITERS
    with pytest.raises(ReportError, match=f"MIME boundary lines, over the limit of {MAX_MIME_DELIMITERS}"):
        parse_failure(data.replace(b"------=_Part_117_1709373600\n", empty_parts, 1))


def test_deeply_nested_multiparts_are_refused() -> None:
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(990))
    with pytest.raises(ReportError, match="nested too deeply"):
        parse_failure(b"From: dmarc@reports.example.net\n" + nested)


def test_two_feedback_parts_are_ambiguous() -> None:
    data = sample("opendmarc-headers.eml")
    part = data[data.index(b"--mx.example.org:4VdG7m1Sx3z9sTn\nContent-Type: message/feedback-report") :]
    part = part[: part.index(b"--mx.example.org:4VdG7m1Sx3z9sTn\nContent-Type: text/rfc822-headers")]
    doubled = data.replace(part, part + part.replace(b"198.51.100.77", b"192.0.2.99"), 1)
    with pytest.raises(ReportError, match="more than one message/feedback-report part"):
        parse_failure(doubled)


def test_reporter_falls_back_to_reporting_mta() -> None:
    data = edited(
        "bad-arrival-date.eml",
        "From: DMARC Reports <dmarc-reports@reports.example.net>\n",
        "",
    ).replace(
        b"Feedback-Type: auth-failure\n",
        b"Feedback-Type: auth-failure\nReporting-MTA: dns; MX.Reports.example.net\n",
    )
    assert parse_failure(data).reporter == "mx.reports.example.net"


def test_reported_domain_falls_back_to_the_from_domain() -> None:
    report = parse_failure(edited("opendmarc-headers.eml", "Reported-Domain: example.com\n", ""))
    assert report.reported_domain == "example.com"
    assert report.header_from == "example.com"


def test_report_without_the_original_part_is_kept() -> None:
    data = sample("bad-arrival-date.eml")
    original = data[data.index(b"------=_Part_117_1709373600\nContent-Type: text/rfc822-headers") :]
    report = parse_failure(data.replace(original, b"------=_Part_117_1709373600--\n"))
    assert (report.header_from, report.subject, report.message_id) == ("", "", "")
    assert report.reported_domain == "example.com"


def test_hostile_header_values_are_cleaned() -> None:
    data = sample("bad-arrival-date.eml").replace(
        b"Subject: Password expiry notice", b"Subject: a\x00b\x07c =?utf-8?b?4oCc?= \xff"
    )
    # Control characters dropped, the encoded word decoded, the stray 8-bit byte made U+FFFD (the email
    # package would hand on a lone surrogate that no database or terminal takes).
    assert parse_failure(data).subject == "abc \u201c \ufffd"


def test_overlong_address_field_is_not_parsed() -> None:
    # The email package's address parser is slow on long lists (700 kB took it 48 s); a From field
    # over 4096 characters is read as absent.
    data = edited(
        "bad-arrival-date.eml",
        "From: IT Helpdesk <helpdesk@example.com>\n",
        "From: helpdesk@example.com, " + "x@example.net, " * 300 + "\n",
    )
    report = parse_failure(data)
    assert report.header_from == ""
    assert report.reported_domain == "example.com"  # from Reported-Domain


def test_overlong_mime_fields_do_not_stall_the_parser() -> None:
    # policy.default's Content-Type parser took minutes on a megabyte of parameters.
    boundary = 'boundary="----=_Part_117_1709373600"'
    data = edited("bad-arrival-date.eml", boundary, boundary + "; a=b" * 200_000)
    data = data.replace(
        b"Content-Type: text/plain; charset=us-ascii", b"Content-Type: text/plain; " + b"c=d; " * 200_000
    )
    assert parse_failure(data) == EXPECTED["bad-arrival-date.eml"]


def test_email_package_crash_is_a_report_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class CrashingParser:
        def __init__(self, **_: object) -> None:
            pass

        def parsebytes(self, data: bytes) -> Message:
            raise IndexError("list index out of range")

    monkeypatch.setattr(failure, "BytesParser", CrashingParser)
    with pytest.raises(ReportError, match=r"unreadable MIME \(IndexError\)"):
        parse_failure(sample("linkedin-lua.eml"))


def test_mutated_samples_never_raise_anything_but_report_error() -> None:
    rng = random.Random(6591)
    originals = [sample(name) for name in sorted(EXPECTED)]
    outcomes: list[str] = []
    for _ in range(300):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(data))
            data[position : position + rng.randint(1, 40)] = rng.randbytes(rng.randint(0, 40))
        try:
            outcomes.append(parse_failure(bytes(data)).key)
        except ReportError as error:  # anything else fails the test with its traceback
            outcomes.append(str(error))
    assert all("\n" not in outcome for outcome in outcomes)
    # Both kinds occur, so the loop exercised the readers as well as the refusals.
    assert any(re.fullmatch("[0-9a-f]{64}", outcome) for outcome in outcomes)
    assert any(not re.fullmatch("[0-9a-f]{64}", outcome) for outcome in outcomes)


# --- the idempotency key --------------------------------------------------------------------------------


def base64_feedback_part(data: bytes) -> bytes:
    """The same report with its feedback fields base64-encoded (as Netease sends them)."""
    text = data.decode()
    match = re.search(r"Content-Type: message/feedback-report\n\n(.*?\n)\n", text, flags=re.DOTALL)
    assert match is not None
    encoded = base64.encodebytes(match.group(1).replace("\n", "\r\n").encode()).decode()
    replacement = f"Content-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n\n{encoded}\n"
    return (text[: match.start()] + replacement + text[match.end() :]).encode()


@pytest.mark.parametrize(
    "reencode",
    [
        lambda data: data.replace(b"mx.example.org:4VdG7m1Sx3z9sTn", b"=_other_boundary_0001"),
        lambda data: data.replace(b"\n", b"\r\n"),
        base64_feedback_part,
        lambda data: parsed(data).as_bytes(),
        lambda data: data.replace(
            b"Subject: FW: Your invoice",
            b"Received: by relay.example.com; Mon, 10 Jun 2024 09:15:05 +0200\nSubject: FW: Your invoice",
        ),
    ],
    ids=["boundary", "crlf", "base64", "regenerated", "relayed"],
)
def test_key_is_stable_for_the_same_report_reencoded(reencode: Callable[[bytes], bytes]) -> None:
    original = sample("opendmarc-headers.eml")
    again = reencode(original)
    assert again != original
    assert parse_failure(again) == parse_failure(original)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Source-IP: 198.51.100.77", "Source-IP: 198.51.100.78"),
        (
            "Message-ID: <c0ffee42.5a1d@vps77.hosting.example.net>",
            "Message-ID: <c0ffee43.5a1d@vps77.hosting.example.net>",
        ),
        (
            "From: OpenDMARC Filter <opendmarc@mx.example.org>",
            "From: OpenDMARC Filter <opendmarc@mx2.example.org>",
        ),
        ("Original-Envelope-Id: 4VdG7m1Sx3z9sTn", "Original-Envelope-Id: 4VdG7m1Sx3z9sTm"),
    ],
)
def test_key_differs_for_a_different_report(old: str, new: str) -> None:
    assert (
        parse_failure(edited("opendmarc-headers.eml", old, new)).key != EXPECTED["opendmarc-headers.eml"].key
    )


# --- recognising a report ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*sorted(EXPECTED), "broken/abuse-arf.eml", "broken/bad-source-ip.eml"])
def test_is_failure_report(name: str) -> None:
    # Any ARF report is recognised; parse_failure then refuses the abuse report with its reason.
    assert is_failure_report(parsed(sample(name)))


def aggregate_report_mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "noreply-dmarc-support@google.com"
    mail["Subject"] = "Report domain: example.com Submitter: google.com Report-ID: 1234"
    mail.set_content("This is an aggregate report from google.com.")
    mail.add_attachment(b"\x1f\x8b\x08\x00", maintype="application", subtype="gzip", filename="report.xml.gz")
    return mail


@pytest.mark.parametrize(
    "message",
    [
        parsed(sample("broken/dsn-bounce.eml")),
        parsed(sample("broken/plain-text-only.eml")),
        parsed(sample("broken/garbage.bin")),
        aggregate_report_mail(),
        Message(),
    ],
    ids=["dsn", "plain-text", "garbage", "aggregate", "empty"],
)
def test_is_not_failure_report(message: Message) -> None:
    assert not is_failure_report(message)


def test_feedback_part_inside_the_attached_original_is_not_this_report() -> None:
    inner = sample("opendmarc-headers.eml").decode()
    mail = EmailMessage()
    mail["From"] = "someone@example.com"
    mail.set_content("Look at this failure report I received.")
    mail.add_attachment(parsed(inner.encode()))
    assert not is_failure_report(mail)
