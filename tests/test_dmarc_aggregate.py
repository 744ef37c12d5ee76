"""The streaming aggregate-report reader: the sample corpus read to exact values, both namespaces, every
hostile or broken input refused with its reason, the limits, and flat memory on a large report."""

from __future__ import annotations

import io
import ipaddress
import random
import resource
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mimawari.dmarc.aggregate import (
    CHUNK_BYTES,
    AggregateLimits,
    looks_like_aggregate,
    read_aggregate,
)
from mimawari.dmarc.aggregate_records import normalise_ip
from mimawari.dmarc.model import (
    AggregateHeader,
    AggregateRecord,
    DkimResult,
    PolicyOverride,
    PublishedPolicy,
    ReportError,
    SpfResult,
)

CORPUS = Path(__file__).parent / "fixtures" / "dmarc" / "aggregate"
DEFAULT_LIMITS = AggregateLimits()


def read(
    data: bytes, limits: AggregateLimits = DEFAULT_LIMITS
) -> tuple[AggregateHeader, list[AggregateRecord]]:
    document = read_aggregate(io.BytesIO(data), limits)
    return document.header, list(document.records())


def sample(name: str) -> tuple[AggregateHeader, list[AggregateRecord]]:
    return read((CORPUS / name).read_bytes())


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- the corpus --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    version: str
    org_name: str
    report_id: str
    begin: int
    end: int
    policy: PublishedPolicy
    records: int
    messages: int


EXPECTED = {
    "google.xml": Expected(
        "",
        "google.com",
        "5717107811868587391",
        1706832000,
        1706918399,
        PublishedPolicy("example.com", p="none", sp="none", np="none", adkim="r", aspf="r", pct=100),
        3,
        34,
    ),
    "microsoft.xml": Expected(
        "1.0",
        "Enterprise Outlook",
        "4f0c2e3a9b7d4c1e8a6f5b2d3c4e5f60",
        1717027200,
        1717113600,
        PublishedPolicy("example.org", p="quarantine", sp="quarantine", adkim="s", aspf="r", pct=100, fo="1"),
        3,
        18,
    ),
    "yahoo.xml": Expected(
        "",
        "Yahoo",
        "1717236062.712543",
        1717113600,
        1717199999,
        PublishedPolicy("example.net", p="reject", adkim="r", aspf="r", pct=100),
        2,
        42,
    ),
    "mailru.xml": Expected(
        "",
        "Mail.Ru",
        "18196187511701993600",
        1701907200,
        1701993600,
        PublishedPolicy("example.ru", p="none", adkim="r", aspf="r", pct=100),
        2,
        10,
    ),
    "rfc9990.xml": Expected(
        "2.0",
        "Receiver Example",
        "<2024.06.01.0001@receiver.example>",
        1717200000,
        1717286399,
        PublishedPolicy(
            "example.com",
            p="reject",
            sp="quarantine",
            np="reject",
            adkim="r",
            aspf="s",
            fo="0",
            testing="n",
            discovery_method="treewalk",
        ),
        2,
        124,
    ),
    "quirks.xml": Expected(
        "1.0",
        "Quirky Receiver",
        "q-0001",
        1700000000,
        1700086399,
        PublishedPolicy("example.com", p="quarantine", adkim="r", pct=50),
        2,
        2,
    ),
    "windows-1252.xml": Expected(
        "",
        "Courrier Expédié SA",
        "example.fr_1504828800",
        1504742400,
        1504828800,
        PublishedPolicy("example.fr", p="reject", sp="reject", pct=100),
        1,
        1,
    ),
    "no-records.xml": Expected(
        "",
        "Small Receiver",
        "empty-2024-06-02",
        1717286400,
        1717372799,
        PublishedPolicy("example.com", p="none"),
        0,
        0,
    ),
}


def test_every_sample_is_listed() -> None:
    assert sorted(path.name for path in CORPUS.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_header_and_totals(name: str) -> None:
    header, records = sample(name)
    expected = EXPECTED[name]
    assert (header.version, header.org_name, header.report_id) == (
        expected.version,
        expected.org_name,
        expected.report_id,
    )
    assert (header.begin, header.end) == (utc(expected.begin), utc(expected.end))
    assert header.policy == expected.policy
    assert (len(records), sum(r.count for r in records)) == (expected.records, expected.messages)
    assert looks_like_aggregate((CORPUS / name).read_bytes()[:512])


def test_google_records() -> None:
    header, (first, second, third) = sample("google.xml")
    assert header.extra_contact_info == "https://support.google.com/a/answer/2466580"
    assert first == AggregateRecord(
        source_ip="209.85.220.41",
        count=24,
        disposition="none",
        dkim="pass",
        spf="pass",
        header_from="example.com",
        dkim_results=(DkimResult("example.com", "pass", "google"),),
        spf_results=(SpfResult("example.com", "pass"),),
    )
    assert second.source_ip == "2a00:1450:4864:20::22f"
    assert [d.domain for d in second.dkim_results] == ["example.com", "mailchimpapp.net"]
    assert second.spf_results == (SpfResult("mail.example.net", "softfail"),)
    assert (third.header_from, third.dkim_results) == ("example.com", ())  # written Example.COM


def test_microsoft_records() -> None:
    _, (first, second, third) = sample("microsoft.xml")
    assert (first.source_ip, first.envelope_to, first.envelope_from) == (
        "2a01:111:f403:2412::700",
        "contoso.example",
        "example.org",
    )
    assert first.spf_results == (SpfResult("example.org", "pass", "mfrom"),)
    assert (second.disposition, second.dkim, second.spf) == ("quarantine", "fail", "fail")
    assert third.reasons == (PolicyOverride("local_policy", "arc=pass"),)


def test_yahoo_and_mailru_records() -> None:
    _, (_, rejected) = sample("yahoo.xml")
    assert (rejected.disposition, rejected.dkim_results) == (
        "reject",
        (DkimResult("example.net", "permerror", "s2048"),),
    )
    _, (_, forwarded) = sample("mailru.xml")
    assert forwarded.reasons == (PolicyOverride("forwarded", "пересылка через список рассылки"),)
    assert forwarded.spf_results == (SpfResult("lists.example.su", "neutral"),)


def test_rfc9990_report() -> None:
    header, (first, second) = sample("rfc9990.xml")
    assert header.generator == "Dmarcify 2000 milter v1.2"
    assert header.errors == ("rua tag had an invalid URI: mailto:broken",)
    assert header.policy.pct is None  # RFC 9990 has no pct
    assert (first.source_ip, first.disposition) == ("2001:db8::25", "pass")
    assert (first.envelope_from, first.envelope_to) == ("example.com", "receiver.example")
    assert first.spf_results == (SpfResult("example.com", "fail", "mfrom"),)  # human_result is not kept
    assert second.envelope_from == ""  # null reverse-path
    assert second.reasons == (PolicyOverride("policy_test_mode"),)


def test_quirks_are_taken_in_their_stride() -> None:
    header, (first, second) = sample("quirks.xml")
    assert (header.email, header.errors) == ("", ())
    assert first == AggregateRecord(
        source_ip="198.51.100.7",
        count=0,
        disposition="none",
        dkim="pass",
        spf="fail",  # a raw "softfail" where the aligned verdict belongs: not an aligned pass
        header_from="example.com",
        reasons=(PolicyOverride("sampled_out"),),
        spf_results=(SpfResult("bounce.example.com", "temperror", "mfrom"),),  # "Unknown"
    )
    assert (second.source_ip, second.spf_results) == ("::ffff:c633:6408", ())


def test_namespaces_are_matched_exactly() -> None:
    """In a namespaced report, an extension element that borrows a schema name is not read as it."""
    data = (CORPUS / "rfc9990.xml").read_bytes()
    data = data.replace(
        b"<ext:arc>", b"<ext:row><ext:source_ip>203.0.113.9</ext:source_ip></ext:row><ext:arc>"
    )
    _, records = read(data)
    assert records[0].source_ip == "2001:db8::25"
    # The dmarc-2.0 namespace written with a prefix, on the root or on a record: the same report.
    prefixed = (
        data.replace(b'<feedback xmlns="urn:', b'<d:feedback xmlns:d="urn:')
        .replace(b"<", b"<d:")
        .replace(b"<d:/", b"</d:")
        .replace(b"<d:?", b"<?")
        .replace(b"<d:d:", b"<d:")
        .replace(b"<d:ext:", b"<ext:")
        .replace(b"</d:ext:", b"</ext:")
    )
    assert read(prefixed) == read(data)
    declared_again = data.replace(b"<record>", b'<r:record xmlns:r="urn:ietf:params:xml:ns:dmarc-2.0">', 1)
    declared_again = declared_again.replace(b"</record>", b"</r:record>", 1)
    assert read(declared_again) == read(data)
    # A declaration the prolog reader leaves alone (an entity in it) is read by libxml2 as it stands.
    escaped = data.replace(b'xmlns="urn:ietf:params:xml:ns:dmarc-2.0"', b'xmlns="urn:example:a&amp;b"')
    header, records = read(escaped)
    assert header.version == "1.0" and [r.source_ip for r in records] == ["2001:db8::25", "192.0.2.55"]
    plain = (CORPUS / "google.xml").read_bytes()
    renamed = plain.replace(b"<feedback>", b'<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">')
    header, records = read(renamed)
    assert header.version == "2.0" and len(records) == 3
    assert read(plain)[1] == records


# --- building blocks for broken reports ----------------------------------------------------------------

METADATA = (
    "<report_metadata><org_name>Example</org_name><email>dmarc@example.net</email>"
    "<report_id>r-1</report_id><date_range><begin>100</begin><end>200</end></date_range></report_metadata>"
)
POLICY = "<policy_published><domain>example.com</domain><p>none</p></policy_published>"
RECORD = (
    "<record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated>"
    "<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>"
    "<identifiers><header_from>example.com</header_from></identifiers>"
    "<auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>"
    "<spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>"
)


def report(*records: str, metadata: str = METADATA, policy: str = POLICY, extra: str = "") -> bytes:
    return f'<?xml version="1.0"?><feedback>{metadata}{policy}{extra}{"".join(records)}</feedback>'.encode()


def refused(data: bytes, limits: AggregateLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ReportError) as caught:
        read(data, limits)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_building_blocks_make_a_valid_report() -> None:
    header, records = read(report(RECORD, RECORD))
    assert (header.report_id, len(records), records[0].count) == ("r-1", 2, 3)


BAD = {
    "billion-laughs.xml": "DTDs are not allowed in aggregate reports (<!DOCTYPE at byte 22)",
    "external-entity.xml": "DTDs are not allowed",
    "external-dtd.xml": "DTDs are not allowed",
    "quadratic-blowup.xml": "DTDs are not allowed",
    "utf7-doctype.xml": "encoding 'utf-7' is not accepted",
    "utf16-doctype.xml": "not an XML document in UTF-8 or another ASCII-compatible encoding",
    "truncated-mid-record.xml": "malformed or truncated XML: Premature end of data in tag source_ip",
    "truncated-before-end.xml": "malformed or truncated XML: Premature end of data in tag feedback",
    "wrong-root.xml": "the root element is <rss>, not <feedback>",
    "not-utf8.xml": "malformed or truncated XML: Invalid bytes in character encoding",
    "record-before-header.xml": "a <record> comes before <report_metadata>: the header must come first",
    "header-after-records.xml": "<report_metadata> comes after the first <record>",
}


def test_every_bad_sample_is_listed() -> None:
    assert sorted(path.name for path in (CORPUS / "bad").glob("*.xml")) == sorted(BAD)


@pytest.mark.parametrize("name", sorted(BAD))
def test_hostile_and_broken_samples(name: str) -> None:
    tracemalloc.start()
    try:
        message = refused((CORPUS / "bad" / name).read_bytes())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert BAD[name] in message
    assert peak < 2 * 2**20  # nothing was expanded


@pytest.mark.parametrize("name", ["google.xml", "rfc9990.xml", "quirks.xml"])
def test_damaged_samples_fail_with_one_line(name: str) -> None:
    """Cut anywhere, or with bytes changed: read whole, or refused with one line, never anything else."""
    data = (CORPUS / name).read_bytes()
    rng = random.Random(name)
    damaged = [data[:cut] for cut in range(0, len(data), 13)]
    for _ in range(300):
        copy = bytearray(data)
        at = rng.randrange(len(copy))
        copy[at : at + rng.randrange(3)] = rng.choice(
            [b"<", b"&", b"<!", b"\x00", b"\xff", b"</record>", b"]]>"]
        )
        damaged.append(bytes(copy))
    messages = []
    for data in damaged:
        try:
            read(data, AggregateLimits(max_depth=4))
            messages.append("")
        except ReportError as error:
            messages.append(str(error))
    assert "" in messages and len(set(messages)) > 10
    assert not [message for message in messages if "\n" in message]


def test_entities_without_a_dtd_are_undefined() -> None:
    message = refused(report(RECORD.replace("example.com</header_from>", "&passwd;</header_from>")))
    assert "Entity 'passwd' not defined" in message
    assert "DTDs are not allowed" in refused(b"<!doctype feedback><feedback/>")
    assert "<!ENTITY" in refused(b"<feedback><!ENTITY x 'y'></feedback>")


def test_a_doctype_split_across_chunks_is_found() -> None:
    for cut in range(1, 9):
        prefix = b"<!--" + b"x" * (CHUNK_BYTES - 4 - 3 - cut) + b"-->"
        data = prefix + b"<!DOCTYPE feedback>" + report(RECORD)[len(b'<?xml version="1.0"?>') :]
        assert len(prefix) + cut == CHUNK_BYTES
        assert "DTDs are not allowed" in refused(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the report is empty"),
        (b"hello", "not an XML document"),
        (b"\x1f\x8b\x08\x00\x00\x00", "not an XML document"),  # still gzip-compressed
        (b'<?xml version="1.0" encoding="UTF-16"?><feedback/>', "encoding 'utf-16' is not accepted"),
        (b'<?xml version="1.0" encoding="ebcdic-cp-us"?><feedback/>', "encoding 'ebcdic-cp-us'"),
        (b'<?xml version="1.0" encoding=UTF-7?><feedback/>', "encoding cannot be read"),
        (b"<feedback/>", "the report has no <report_metadata>"),
        (b"<feedback>", "malformed or truncated XML"),
        (b"<wrapper><feedback/></wrapper>", "the root element is <wrapper>"),
        (b"<?xml version='1.0'?><!-- x --><html><body/></html>", "the root element is <html>"),
        (report(RECORD) + b"<feedback/>", "Extra content at the end of the document"),
    ],
)
def test_broken_documents(data: bytes, reason: str) -> None:
    assert reason in refused(data)


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ("<org_name>Example</org_name>", "", "report_metadata/org_name is missing or empty"),
        ("<report_id>r-1</report_id>", "<report_id> </report_id>", "report_metadata/report_id is missing"),
        ("<begin>100</begin>", "", "date_range/begin is missing"),
        ("<end>200</end>", "", "date_range/end is missing"),
        ("<begin>100</begin>", "<begin>1e2</begin>", "date_range/begin '1e2' is not a Unix time in seconds"),
        ("<end>200</end>", "<end>-5</end>", "date_range/end '-5' is not a Unix time in seconds"),
        ("<begin>100</begin>", "<begin>300</begin>", "date_range: begin 300 is after end 200"),
        (
            "<end>200</end>",
            "<end>999999999999999999</end>",
            "date_range/end 999999999999999999 is not a usable",
        ),
        (
            "<date_range>",
            "<date_range><begin>1</begin>",
            "<date_range> has an unexpected or repeated <begin>",
        ),
        ("<email>", "<row/><email>", "<report_metadata> has an unexpected or repeated <row>"),
    ],
)
def test_broken_metadata(before: str, after: str, reason: str) -> None:
    assert before in METADATA
    assert reason in refused(report(RECORD, metadata=METADATA.replace(before, after, 1)))


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ("<domain>example.com</domain>", "", "policy_published/domain is missing or empty"),
        ("<p>none</p>", "<p>none</p><pct>150</pct>", "policy_published/pct '150' is not a percentage"),
        ("<p>none</p>", "<p>none</p><pct>ten</pct>", "policy_published/pct 'ten' is not a percentage"),
        ("<p>none</p>", "<p>none</p><p>reject</p>", "<policy_published> has an unexpected or repeated <p>"),
    ],
)
def test_broken_policy(before: str, after: str, reason: str) -> None:
    assert reason in refused(report(RECORD, policy=POLICY.replace(before, after, 1)))


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ("<source_ip>192.0.2.1</source_ip>", "", "record 1: row/source_ip is missing"),
        ("192.0.2.1", "300.1.2.3", "record 1: row/source_ip '300.1.2.3' is not an IP address"),
        ("192.0.2.1", "192.0.2.01", "'192.0.2.01' is not an IP address"),
        ("192.0.2.1", "fe80::1%eth0", "'fe80::1%eth0' is not an IP address"),
        ("192.0.2.1", "mail.example.com", "'mail.example.com' is not an IP address"),
        ("<count>3</count>", "", "record 1: row/count is missing"),
        ("<count>3</count>", "<count>-3</count>", "record 1: row/count '-3' is not a whole number ≥ 0"),
        ("<count>3</count>", "<count>3.5</count>", "row/count '3.5' is not a whole number"),
        ("<count>3</count>", "<count>12a</count>", "row/count '12a' is not a whole number"),
        ("<count>3</count>", "<count>٣</count>", "row/count '٣' is not a whole number"),
        ("<count>3</count>", "<count>1234567890123456789</count>", "is not a whole number"),
        ("<disposition>none</disposition>", "", "row/policy_evaluated/disposition is missing"),
        ("<disposition>none</disposition>", "<disposition>drop</disposition>", "'drop' is not one of"),
        ("<dkim>pass</dkim><spf>", "<dkim>maybe</dkim><spf>", "policy_evaluated/dkim 'maybe' is not one of"),
        ("<spf>fail</spf></policy", "</policy", "row/policy_evaluated/spf is missing"),
        (
            "<policy_evaluated>",
            "<policy_evaluated><reason><comment>x</comment></reason>",
            "reason/type is missing",
        ),
        ("<header_from>example.com</header_from>", "", "record 1: identifiers/header_from is missing"),
        ("<header_from>example.com</header_from>", "<header_from> </header_from>", "header_from is missing"),
        ("<result>pass</result></dkim>", "</dkim>", "record 1: auth_results/dkim/result is missing"),
        ("<row>", "<row><source_ip>192.0.2.9</source_ip>", "<row> has an unexpected or repeated <source_ip>"),
        (
            "<selector>",
            "<domain>b.example</domain><selector>",
            "<auth_results/dkim> has an unexpected or repeated <domain>",
        ),
        (
            "</identifiers>",
            "<envelope_from>a</envelope_from><envelope_from>b</envelope_from></identifiers>",
            "repeated <envelope_from>",
        ),
        (
            "<identifiers>",
            "<identifiers><count>1</count>",
            "<identifiers> has an unexpected or repeated <count>",
        ),
    ],
)
def test_broken_record(before: str, after: str, reason: str) -> None:
    assert before in RECORD
    broken = RECORD.replace(before, after, 1)
    message = refused(report(broken))
    assert reason in message
    # The records before a broken one were handed out first: callers roll back.
    document = read_aggregate(io.BytesIO(report(RECORD, RECORD, broken)))
    records = document.records()
    assert [next(records).count, next(records).count] == [3, 3]
    with pytest.raises(ReportError, match="record 3: "):
        next(records)


def test_a_missing_row_and_empty_auth_results() -> None:
    assert "record 1: <row> is missing" in refused(report("<record><identifiers/></record>"))
    no_auth = RECORD[: RECORD.index("<auth_results>")] + "</record>"
    (record,) = read(report(no_auth))[1]
    assert (record.dkim_results, record.spf_results) == ((), ())


def test_unknown_elements_are_ignored() -> None:
    extension = "<extension><x:a xmlns:x='urn:x'><x:b/></x:a></extension>"
    noisy = RECORD.replace("<row>", "<row><x-note>n</x-note>").replace("</record>", "<x-flag/></record>")
    header, (record,) = read(report(noisy, extra=extension))
    assert header.org_name == "Example" and record.count == 3


def test_the_caches_stay_right_past_their_bounds() -> None:
    many = [
        RECORD.replace("192.0.2.1", f"10.0.{i // 250}.{i % 250}")
        .replace("<header_from>example.com", f"<header_from>Sub{i}.Example.com")
        .replace("<selector>s1", f"<selector>s{i}")
        for i in range(10_000)
    ]
    _, records = read(report(*many))
    assert [r.header_from for r in records[::2500]] == [f"sub{i}.example.com" for i in range(0, 10_000, 2500)]
    assert [r.source_ip for r in records[-2:]] == ["10.0.39.248", "10.0.39.249"]
    assert [r.dkim_results[0].selector for r in records[4095:4098]] == ["s4095", "s4096", "s4097"]


def test_records_can_be_read_once() -> None:
    document = read_aggregate(io.BytesIO(report(RECORD)))
    assert len(list(document.records())) == 1
    with pytest.raises(RuntimeError):
        document.records()


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def test_the_header_comes_before_the_rest_is_read() -> None:
    stream = CountingStream(report(*[RECORD] * 2000))
    assert len(stream.getvalue()) > 4 * CHUNK_BYTES
    document = read_aggregate(stream)
    assert document.header.report_id == "r-1" and stream.reads == 1
    assert sum(1 for _ in document.records()) == 2000


# --- limits ----------------------------------------------------------------------------------------


def test_max_records() -> None:
    document = read_aggregate(io.BytesIO(report(RECORD, RECORD, RECORD)), AggregateLimits(max_records=2))
    records = document.records()
    next(records), next(records)
    with pytest.raises(ReportError, match="the report has more than 2 records"):
        next(records)


def test_max_bytes() -> None:
    data = report(*[RECORD] * 500)
    assert "the report is larger than 100000 bytes" in refused(data, AggregateLimits(max_bytes=100_000))
    assert len(read(data, AggregateLimits(max_bytes=len(data)))[1]) == 500


def test_max_text() -> None:
    limits = AggregateLimits(max_text=100)
    long_name = METADATA.replace("Example", "E" * 101)
    assert "<org_name> is longer than 100 characters" in refused(report(RECORD, metadata=long_name), limits)
    long_from = RECORD.replace("<header_from>example.com", "<header_from>" + "a" * 101)
    assert "record 1: <identifiers/header_from> is longer than 100" in refused(report(long_from), limits)
    long_selector = RECORD.replace("<selector>s1", "<selector>" + "s" * 101)
    assert "<auth_results/dkim> has a value longer than 100" in refused(report(long_selector), limits)
    assert read(report(RECORD.replace("<selector>s1", "<selector>" + "s" * 100)), limits)[1]


def nested(depth: int) -> str:
    return "<n>" * depth + "</n>" * depth


@pytest.mark.parametrize(
    ("where", "base"),
    [("extra", 2), ("record", 3), ("row", 4), ("auth", 5), ("metadata", 3)],
)
def test_max_depth(where: str, base: int) -> None:
    def place(depth: int) -> bytes:
        junk = nested(depth)
        if where == "extra":
            return report(RECORD, extra=junk)
        if where == "metadata":
            return report(RECORD, metadata=METADATA.replace("<email>", junk + "<email>"))
        anchor = {"record": "<row>", "row": "<count>", "auth": "<result>"}[where]
        return report(RECORD.replace(anchor, junk + anchor, 1))

    assert read(place(20 - base + 1))  # exactly 20 levels deep
    assert "elements nest deeper than 20 levels (inside <n>)" in refused(place(20 - base + 2))
    assert read(place(30), AggregateLimits(max_depth=40))


def test_max_record_bytes() -> None:
    padding = "<padding>" + "x" * 300_000 + "</padding>"
    data = report(RECORD.replace("</record>", padding + "</record>"))
    limits = AggregateLimits(max_record_bytes=200_000)
    assert "more than 200000 bytes of XML without a complete <record>" in refused(data, limits)
    assert read(data, AggregateLimits(max_record_bytes=400_000))[1]


def test_max_seconds() -> None:
    assert "parsing took longer than 0 s" in refused(report(RECORD), AggregateLimits(max_seconds=0))


# --- streaming at scale ------------------------------------------------------------------------------


def large_report(path: Path, records: int) -> None:
    """Google-shaped and indented like the real thing, about 600 bytes a record."""
    rng = random.Random(7)
    with path.open("w") as out:
        out.write(report().decode().removesuffix("</feedback>"))
        for i in range(records):
            octets = ".".join(str(rng.randrange(256)) for _ in range(3))
            out.write(
                f"""
  <record>
    <row>
      <source_ip>{rng.randrange(1, 224)}.{octets}</source_ip>
      <count>{i % 7 + 1}</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>pass</dkim>
        <spf>fail</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>example.com</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>example.com</domain>
        <result>pass</result>
        <selector>google</selector>
      </dkim>
      <spf>
        <domain>bounce{i % 50}.example.net</domain>
        <result>pass</result>
      </spf>
    </auth_results>
  </record>"""
            )
        out.write("\n</feedback>\n")


def resident_bytes() -> int:
    """This process's resident memory (libxml2's tree is outside tracemalloc's view)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def counted(records: Iterator[AggregateRecord], every: int, samples: list[int]) -> Iterator[AggregateRecord]:
    for index, record in enumerate(records):
        if index % every == 0:
            samples.append(resident_bytes())
        yield record


def test_a_large_report_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.xml"
    large_report(path, 50_000)  # tracemalloc slows Python down several times: big enough to tell
    size = path.stat().st_size
    assert size > 25 * 2**20
    baseline = resident_bytes()
    resident: list[int] = []
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            document = read_aggregate(stream)
            count = messages = 0
            for record in counted(document.records(), 5_000, resident):
                count += 1
                messages += record.count
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (count, messages) == (50_000, sum(i % 7 + 1 for i in range(50_000)))
    assert peak < size // 20  # Python objects: a few records and the caches, never the report
    assert max(resident) - baseline < size // 4  # libxml2's tree: a chunk's worth, never the report


# --- small pieces ------------------------------------------------------------------------------------


def test_looks_like_aggregate() -> None:
    assert looks_like_aggregate(b'\xef\xbb\xbf\n<?xml version="1.0"?>\n<!-- hi --><feedback>')
    assert looks_like_aggregate(b"<dmarc:feedback xmlns:dmarc='urn:x'>")
    assert not looks_like_aggregate(b'<?xml version="1.0"?><rss>')
    assert not looks_like_aggregate(b'{"organization-name": "x"}')
    assert not looks_like_aggregate(b"\x1f\x8b\x08")
    assert not looks_like_aggregate(b"<?xml version=")  # too short to tell
    assert not looks_like_aggregate(b"<feedbackx>")


def test_addresses_are_written_as_ipaddress_writes_them() -> None:
    rng = random.Random(1)
    written = [
        "::",
        "::1",
        "1::",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "2001:DB8:0:0:1:0:0:1",
        "64:ff9b::c000:201",
    ]
    for _ in range(2000):
        groups = [rng.choice([0, 0, 0, 1, 0xFFFF, rng.randrange(0x10000)]) for _ in range(8)]
        written.append(":".join(f"{g:x}" for g in groups))
        written.append(".".join(str(rng.randrange(256)) for _ in range(4)))
    for text in written:
        assert normalise_ip(text) == str(ipaddress.ip_address(text)), text
    for bad in ("1.2.3", "01.2.3.4", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9", "", " 1.2.3.4", "1.2.3.4\x00"):
        assert normalise_ip(bad) is None, bad
