"""Finding reports in files, archives and e-mails: every fixture is built here, byte by byte, and read
back through the documents found. Hostile inputs must end as an ``Unreadable`` or a ``ReportError``,
early and in flat memory."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from mimawari.dmarc.containers import (
    ContainerLimits,
    Document,
    Unreadable,
    documents,
    messages_documents,
)
from mimawari.dmarc.model import ReportError, ReportKind

AGGREGATE = ReportKind.AGGREGATE
FAILURE = ReportKind.FAILURE
TLS = ReportKind.SMTP_TLS
MIB = 1 << 20


# --- fixtures: reports, archives, e-mails -------------------------------------------------------------


def aggregate_xml(report_id: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>{report_id}</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range>
  </report_metadata>
  <policy_published><domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p></policy_published>
  <record>
    <row><source_ip>192.0.2.1</source_ip><count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results><dkim><domain>example.com</domain><result>pass</result></dkim>
      <spf><domain>example.com</domain><result>pass</result></spf></auth_results>
  </record>
</feedback>
""".encode()


def tls_json(report_id: str) -> bytes:
    return (
        '{"organization-name": "Company-X", "date-range": {"start-datetime": "2016-04-01T00:00:00Z",'
        ' "end-datetime": "2016-04-01T23:59:59Z"}, "contact-info": "sts-reporting@company-x.example",'
        f' "report-id": "{report_id}", "policies": [{{"policy": {{"policy-type": "sts",'
        ' "policy-domain": "company-y.example"}, "summary": {"total-successful-session-count": 5326,'
        ' "total-failure-session-count": 0}}]}'
    ).encode()


def zip_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def report_email(
    attachments: Sequence[tuple[bytes, str, str | None]], subject: str = "Report domain: example.com"
) -> bytes:
    message = EmailMessage()
    message["From"] = "noreply-dmarc-support@google.com"
    message["To"] = "dmarc-rua@example.com"
    message["Subject"] = subject
    message["Date"] = "Wed, 15 Nov 2023 00:00:00 +0000"
    message["Message-ID"] = "<1234@google.com>"
    message.set_content("This is an aggregate report from google.com.\n")
    for data, content_type, filename in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


FAILURE_EMAIL = b"""From: DMARC failure reports <dmarc-noreply@receiver.example>
To: dmarc-ruf@example.com
Subject: FW: Earn money
Date: Wed, 15 Nov 2023 08:00:00 +0000
Message-ID: <ruf-1@receiver.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part"

--part
Content-Type: text/plain; charset="US-ASCII"

This is an authentication failure report for a message received from 192.0.2.99.
From the report: the message failed DMARC.

--part
Content-Type: message/feedback-report

Feedback-Type: auth-failure
User-Agent: Receiver/1.0
Version: 1
Original-Mail-From: <spoofer@bad.example>
Arrival-Date: Wed, 15 Nov 2023 07:59:00 +0000
Source-IP: 192.0.2.99
Reported-Domain: example.com
Auth-Failure: dmarc

--part
Content-Type: text/rfc822-headers

From: ceo@example.com
Subject: Earn money

--part--
"""


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def read(document: Document | Unreadable) -> bytes:
    assert isinstance(document, Document), document
    with document.open() as stream:
        return stream.read()


def drain(document: Document | Unreadable) -> tuple[int, str]:
    """Read a document in 1 MiB pieces to the end or to its error: (bytes given, the error)."""
    assert isinstance(document, Document), document
    given = 0
    try:
        with document.open() as stream:
            while chunk := stream.read(MIB):
                given += len(chunk)
    except ReportError as error:
        return given, str(error)
    return given, ""


def found(items: Iterable[Document | Unreadable]) -> list[tuple[str, str]]:
    """(origin, kind) for documents and (origin, error) for unreadables, in order."""
    return [(i.origin, i.kind if isinstance(i, Document) else i.error) for i in items]


def mbox(messages: Sequence[bytes]) -> bytes:
    """mboxrd: each message after a From_ line, its own From_-looking lines quoted, a blank line after."""
    out = b""
    for message in messages:
        quoted = b"\n".join(
            b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in message.split(b"\n")
        )
        out += b"From MAILER-DAEMON Wed Nov 15 08:00:00 2023\n" + quoted + b"\n"
    return out


# --- raw zips, for headers zipfile would never write ---------------------------------------------------


@dataclass(frozen=True)
class RawMember:
    name: str
    stored: bytes
    """The bytes as they sit in the archive (compressed, maybe encrypted)."""
    crc: int
    file_size: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    compress_size: int | None = None
    header_offset: int | None = None


def raw_zip(members: Sequence[RawMember], *, local: Sequence[RawMember] | None = None) -> bytes:
    """A zip written by hand: local headers for ``local`` (default: the members), a central directory
    for ``members`` — which may declare other sizes and offsets than the bytes hold."""
    body = b""
    offsets = []
    for member in local if local is not None else members:
        offsets.append(len(body))
        name = member.name.encode()
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, member.flags, member.method, 0, 0x21, member.crc,
                            len(member.stored), member.file_size, len(name), 0) + name + member.stored  # fmt: skip
    directory = b""
    for index, member in enumerate(members):
        name = member.name.encode()
        size = member.compress_size if member.compress_size is not None else len(member.stored)
        offset = member.header_offset if member.header_offset is not None else offsets[index]
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, member.flags, member.method, 0, 0x21,
                                 member.crc, size, member.file_size, len(name), 0, 0, 0, 0, 0, offset) + name  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return body + directory + end


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zero_bomb(head: bytes, mebibytes: int, *, wbits: int) -> tuple[bytes, int]:
    """A deflate stream of ``head`` and then ``mebibytes`` MiB of zeros, built without compressing them
    all: after a full flush the compressor's output for the next MiB of zeros is always the same."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(MIB)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    crc = zlib.crc32(head)
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    return start + block * mebibytes + compressor.flush(), crc


def zipcrypto(data: bytes, password: bytes) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1) of a stored member: a real password-protected one."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_step(crc: int, byte: int) -> int:
        return ~zlib.crc32(bytes([byte]), ~crc & 0xFFFFFFFF) & 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_step(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_step(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in bytes(11) + bytes([zlib.crc32(data) >> 24]) + data:
        temp = keys[2] | 2
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


# --- files and archives -----------------------------------------------------------------------------------


def test_xml_file_is_an_aggregate_document_read_back_whole_and_again(tmp_path: Path) -> None:
    path = write(tmp_path / "report.xml", aggregate_xml("r1"))
    (document,) = documents([path])
    assert found([document]) == [(str(path), AGGREGATE)]
    assert read(document) == aggregate_xml("r1")
    assert read(document) == aggregate_xml("r1")


def test_gzip_and_json_files_are_sniffed_by_content_not_by_name(tmp_path: Path) -> None:
    gz = write(tmp_path / "a.bin", gzip_bytes(aggregate_xml("r1")))
    tls = write(tmp_path / "b.xml", tls_json("t1"))
    tls_gz = write(tmp_path / "c.json.gz", gzip_bytes(tls_json("t2")))
    items = list(documents([gz, tls, tls_gz]))
    assert found(items) == [(str(gz), AGGREGATE), (str(tls), TLS), (str(tls_gz), TLS)]
    assert [read(i) for i in items] == [aggregate_xml("r1"), tls_json("t1"), tls_json("t2")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbf" + aggregate_xml("bom"), AGGREGATE),
        (aggregate_xml("utf16").decode().replace("UTF-8", "UTF-16").encode("utf-16"), AGGREGATE),
        (
            b"<!-- from a reporter -->\n<feedback xmlns='urn:ietf:params:xml:ns:dmarc-2.0'><x/></feedback>",
            AGGREGATE,
        ),
        (b"<?xml version='1.0'?><rua:feedback xmlns:rua='x'/>", AGGREGATE),
        (b"  \n" + tls_json("ws"), TLS),
        (b"<!DOCTYPE html>\n<html><body>Not found</body></html>", "not a DMARC report (HTML)"),
        (b"<?xml version='1.0'?><rss version='2.0'/>", "not a DMARC report (XML document <rss>)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not a DMARC report (PDF)"),
        (b"Hello, this is a plain note.\n", "not a DMARC report (text)"),
        (b"\x00\x01\x02\x03binary", "not a DMARC report (unrecognised binary content)"),
        (b"", "empty (0 bytes)"),
    ],
)
def test_sniffing(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path / "report.xml", content)
    assert found(documents([path])) == [(str(path), expected)]


def test_zip_with_several_members_in_archive_order(tmp_path: Path) -> None:
    members = [
        ("google.com!example.com!1700000000!1700086399.xml", aggregate_xml("g1")),
        ("dir/", b""),
        ("__MACOSX/._google.xml", b"\x00\x05\x16\x07 resource fork"),
        ("second.xml.gz", gzip_bytes(aggregate_xml("g2"))),
        ("tls.json", tls_json("t1")),
        ("notes.txt", b"Just some text.\n"),
    ]
    path = write(tmp_path / "reports" / "google.zip", zip_bytes(members))
    items = list(documents([tmp_path / "reports"]))
    origin = str(path)
    assert found(items) == [
        (f"{origin}!google.com!example.com!1700000000!1700086399.xml", AGGREGATE),
        (f"{origin}!second.xml.gz", AGGREGATE),
        (f"{origin}!tls.json", TLS),
        (f"{origin}!notes.txt", "not a DMARC report (text)"),
    ]
    assert [read(i) for i in items[:3]] == [aggregate_xml("g1"), aggregate_xml("g2"), tls_json("t1")]


def test_zip_in_zip_and_gzip_in_zip(tmp_path: Path) -> None:
    inner = zip_bytes([("a.xml", aggregate_xml("a")), ("b.json.gz", gzip_bytes(tls_json("b")))])
    path = write(tmp_path / "outer.zip", zip_bytes([("inner.zip", inner), ("c.xml", aggregate_xml("c"))]))
    items = list(documents([path]))
    assert found(items) == [
        (f"{path}!inner.zip!a.xml", AGGREGATE),
        (f"{path}!inner.zip!b.json.gz", TLS),
        (f"{path}!c.xml", AGGREGATE),
    ]
    assert [read(i) for i in items] == [aggregate_xml("a"), tls_json("b"), aggregate_xml("c")]


def test_zip_inside_gzip_is_spooled_and_read(tmp_path: Path) -> None:
    path = write(tmp_path / "reports.zip.gz", gzip_bytes(zip_bytes([("a.xml", aggregate_xml("a"))])))
    (document,) = documents([path])
    assert found([document]) == [(f"{path}!a.xml", AGGREGATE)]
    assert read(document) == aggregate_xml("a")


def test_nesting_stops_at_the_depth_limit(tmp_path: Path) -> None:
    archive = zip_bytes([("a.xml", aggregate_xml("deep"))])
    for name in ("z3.zip", "z2.zip"):
        archive = zip_bytes([(name, archive)])
    allowed = write(tmp_path / "three.zip", archive)  # file → z2 → z3 → a.xml: three containers
    too_deep = write(tmp_path / "four.zip", zip_bytes([("z1.zip", archive)]))
    items = list(documents([allowed, too_deep]))
    assert found(items) == [
        (f"{allowed}!z2.zip!z3.zip!a.xml", AGGREGATE),
        (f"{too_deep}!z1.zip!z2.zip!z3.zip", "nested too deep: more than 3 containers inside each other"),
    ]
    assert read(items[0]) == aggregate_xml("deep")


# --- e-mails, mbox, Maildir ------------------------------------------------------------------------------


def test_eml_with_zip_gz_and_tlsrpt_attachments(tmp_path: Path) -> None:
    message = report_email(
        [
            (zip_bytes([("a.xml", aggregate_xml("z"))]), "application/zip", "google.com!example.com.zip"),
            (gzip_bytes(aggregate_xml("g")), "application/gzip", "report.xml.gz"),
            (gzip_bytes(tls_json("t")), "application/tlsrpt+gzip", "tls.json.gz"),
            (b"\x89PNG\r\n\x1a\nlogo", "image/png", "logo.png"),
            (aggregate_xml("p"), "text/plain", "sent-as-text.xml"),
            (b"From: someone@example.com\nSubject: hi\n\nA note.\n", "text/plain", "note.txt"),
        ]
    )
    path = write(tmp_path / "report.eml", message)
    items = list(documents([path]))
    assert found(items) == [
        (f"{path} google.com!example.com.zip!a.xml", AGGREGATE),
        (f"{path} report.xml.gz", AGGREGATE),
        (f"{path} tls.json.gz", TLS),
        (f"{path} sent-as-text.xml", AGGREGATE),
    ]
    assert [read(i) for i in items] == [
        aggregate_xml("z"),
        aggregate_xml("g"),
        tls_json("t"),
        aggregate_xml("p"),
    ]


def test_failure_report_email_is_one_failure_document_of_the_whole_message(tmp_path: Path) -> None:
    path = write(tmp_path / "ruf.eml", FAILURE_EMAIL)
    (document,) = documents([path])
    assert found([document]) == [(str(path), FAILURE)]
    assert read(document) == FAILURE_EMAIL


def test_messages_documents_names_parts_without_file_names_by_section() -> None:
    message = report_email(
        [
            (gzip_bytes(aggregate_xml("o")), "application/octet-stream", None),
            (tls_json("j"), "application/tlsrpt+json", None),
        ]
    )
    items = list(messages_documents(message, "INBOX/42"))
    assert found(items) == [("INBOX/42 part 2", AGGREGATE), ("INBOX/42 part 3", TLS)]
    assert [read(i) for i in items] == [aggregate_xml("o"), tls_json("j")]


def test_messages_documents_over_the_message_limit() -> None:
    message = report_email([(gzip_bytes(aggregate_xml("o")), "application/gzip", "r.xml.gz")])
    limits = ContainerLimits(max_message_bytes=len(message) - 1)
    assert found(messages_documents(message, "INBOX/7", limits)) == [
        ("INBOX/7", f"e-mail larger than the limit of {len(message) - 1} bytes")
    ]
    assert found(messages_documents(message, "INBOX/7", ContainerLimits(max_message_bytes=len(message)))) == [
        ("INBOX/7 r.xml.gz", AGGREGATE)
    ]


def test_single_part_email_whose_body_is_the_report() -> None:
    message = EmailMessage()
    message["From"] = "dmarc@reporter.example"
    message["Subject"] = "Report"
    message.set_content(gzip_bytes(aggregate_xml("body")), maintype="application", subtype="gzip")
    (document,) = messages_documents(message.as_bytes(), "m")
    assert found([document]) == [("m part 1", AGGREGATE)]
    assert read(document) == aggregate_xml("body")


@pytest.mark.parametrize("encoded", [False, True])
def test_forwarded_report_email_is_read_as_an_email_of_its_own(encoded: bool) -> None:
    inner = report_email([(gzip_bytes(aggregate_xml("fw")), "application/gzip", "r.xml.gz")])
    outer = EmailMessage()
    outer["From"] = "postmaster@example.com"
    outer["Subject"] = "Fwd: Report"
    outer.set_content("See attached.\n")
    if encoded:  # base64, as RFC 2046 forbids and some clients do
        outer.add_attachment(inner, maintype="message", subtype="rfc822", filename="fwd.eml")
    else:
        outer.add_attachment(message_from_bytes(inner, policy=policy.default), filename="fwd.eml")
    assert (
        b'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="fwd.eml"'
        in outer.as_bytes()
    ) is encoded
    (document,) = messages_documents(outer.as_bytes(), "m")
    assert found([document]) == [("m fwd.eml r.xml.gz", AGGREGATE)]
    assert read(document) == aggregate_xml("fw")


def test_email_without_a_report_says_so() -> None:
    message = report_email([(b"%PDF-1.4 an invoice", "application/pdf", "invoice.pdf")])
    assert found(messages_documents(message, "m")) == [("m", "no DMARC report in this e-mail")]
    declared = report_email([(b"%PDF-1.4 not a report", "application/octet-stream", "report.xml.gz")])
    assert found(messages_documents(declared, "m")) == [("m report.xml.gz", "not a DMARC report (PDF)")]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            b"From: a@b.example\nSubject: x\nContent-Type: multipart/mixed; boundary=xx\n\n--yy\nabc\n",
            "no DMARC report in this e-mail (malformed MIME: start boundary not found, multipart invariant violation)",
        ),
        (
            b"From: a@b.example\nContent-Type: multipart/mixed\n\n--xx\n\nbody\n",
            "no DMARC report in this e-mail (malformed MIME: no boundary in multipart, multipart invariant violation)",
        ),
        (
            b"\x00\xff\xfe garbage that is not an e-mail at all",
            "no DMARC report in this e-mail (malformed MIME: missing header body separator)",
        ),
    ],
)
def test_broken_mime_is_unreadable_not_an_exception(message: bytes, expected: str) -> None:
    assert found(messages_documents(message, "m")) == [("m", expected)]


def test_damaged_base64_attachment_is_unreadable() -> None:
    message = (
        b"From: a@b.example\nSubject: r\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: application/zip; name=r.zip\nContent-Transfer-Encoding: base64\n\nUEsDB\n--b--\n"
    )
    assert found(messages_documents(message, "m")) == [
        ("m r.zip", "damaged base64 encoding (its length is impossible)")
    ]


def test_mbox_with_three_messages(tmp_path: Path) -> None:
    first = report_email([(zip_bytes([("a.xml", aggregate_xml("m1"))]), "application/zip", "a.zip")])
    third = report_email([(gzip_bytes(tls_json("m3")), "application/tlsrpt+gzip", "tls.json.gz")])
    path = write(tmp_path / "inbox.mbox", mbox([first, FAILURE_EMAIL, third]))
    assert b"\n>From the report" in path.read_bytes()
    items = list(documents([path]))
    assert found(items) == [
        (f"{path}#1 a.zip!a.xml", AGGREGATE),
        (f"{path}#2", FAILURE),
        (f"{path}#3 tls.json.gz", TLS),
    ]
    assert [read(i) for i in items] == [aggregate_xml("m1"), FAILURE_EMAIL, tls_json("m3")]


def test_mbox_message_over_the_limit_is_unreadable_and_the_next_still_read(tmp_path: Path) -> None:
    big = report_email([(os.urandom(50_000), "application/octet-stream", "big.bin")])
    path = write(tmp_path / "inbox", mbox([big, FAILURE_EMAIL]))
    items = list(documents([path], ContainerLimits(max_message_bytes=20_000)))
    assert found(items) == [
        (f"{path}#1", "e-mail larger than the limit of 20000 bytes"),
        (f"{path}#2", FAILURE),
    ]
    assert read(items[1]) == FAILURE_EMAIL


def test_maildir_reads_cur_and_new_and_its_folders_but_not_tmp(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    cur = write(
        maildir / "cur" / "1700000000.1.host:2,S",
        report_email([(zip_bytes([("a.xml", aggregate_xml("c"))]), "application/zip", "a.zip")]),
    )
    new = write(maildir / "new" / "1700000001.2.host", FAILURE_EMAIL)
    write(maildir / "tmp" / "1700000002.3.host", FAILURE_EMAIL)
    write(maildir / "dovecot-uidlist", b"3 V1700000000 N4\n")
    folder = write(
        maildir / ".Reports" / "cur" / "1700000003.4.host:2,",
        report_email([(tls_json("f"), "application/tlsrpt+json", None)]),
    )
    (maildir / ".Reports" / "new").mkdir()
    items = list(documents([maildir]))
    assert found(items) == [
        (f"{cur} a.zip!a.xml", AGGREGATE),
        (str(new), FAILURE),
        (f"{folder} part 2", TLS),
    ]
    assert [read(i) for i in items] == [aggregate_xml("c"), FAILURE_EMAIL, tls_json("f")]


# --- directories ------------------------------------------------------------------------------------------


def test_directory_recursed_in_sorted_order_and_symlinks_not_followed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree / "b.xml", aggregate_xml("b"))
    write(tree / "a" / "z.xml.gz", gzip_bytes(aggregate_xml("z")))
    write(tree / ".git" / "config.xml", aggregate_xml("hidden"))
    outside = write(tmp_path / "outside" / "secret.xml", aggregate_xml("outside"))
    (tree / "a" / "loop").symlink_to(tree)  # a directory loop
    (tree / "c-link.xml").symlink_to(tree / "b.xml")
    (tree / "d-out").symlink_to(outside.parent)
    (tree / "e-broken").symlink_to(tmp_path / "nowhere")
    items = list(documents([tree]))
    assert found(items) == [
        (f"{tree}/a/z.xml.gz", AGGREGATE),
        (f"{tree}/b.xml", AGGREGATE),
        (f"{tree}/d-out", f"not followed: symbolic link out of {tree.resolve()}"),
        (f"{tree}/e-broken", "broken symbolic link"),
    ]


def test_unusable_paths_are_values_with_the_reason(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    empty = write(tmp_path / "empty.xml", b"")
    big = write(tmp_path / "big.xml", aggregate_xml("big"))
    missing = tmp_path / "missing.xml"
    items = list(documents([fifo, empty, missing, big], ContainerLimits(max_file_bytes=100)))
    assert found(items) == [
        (str(fifo), "not a regular file"),
        (str(empty), "empty (0 bytes)"),
        (str(missing), "cannot read: No such file or directory"),
        (str(big), "file larger than the limit of 100 bytes"),
    ]


# --- hostile gzip -----------------------------------------------------------------------------------------


def test_gzip_bomb_stops_early_at_the_ratio_in_flat_memory(tmp_path: Path) -> None:
    head = aggregate_xml("bomb")[:200]
    compressed, crc = zero_bomb(head, 1024, wbits=-15)  # 1 GiB of zeros after the head
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    path = write(
        tmp_path / "bomb.xml.gz",
        gzip_header + compressed + struct.pack("<LL", crc, (len(head) + (1 << 30)) & 0xFFFFFFFF),
    )
    assert path.stat().st_size < 2 * MIB
    (document,) = documents([path])
    assert found([document]) == [(str(path), AGGREGATE)]
    tracemalloc.start()
    try:
        given, error = drain(document)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error == "gzip bomb: decompressed data expands beyond ratio 200"
    assert given < 64 * MIB
    assert peak < 16 * MIB


def test_gzip_over_the_size_limit_stops_there(tmp_path: Path) -> None:
    path = write(tmp_path / "big.xml.gz", gzip_bytes(aggregate_xml("x") + os.urandom(3 * MIB)))
    (document,) = documents([path], ContainerLimits(max_decompressed_bytes=2 * MIB))
    with pytest.raises(
        ReportError, match=r"^decompressed data expands beyond 2 MiB, the limit per document$"
    ):
        read(document)


def test_truncated_gzip(tmp_path: Path) -> None:
    small = gzip_bytes(aggregate_xml("t"))
    cut_early = write(tmp_path / "early.xml.gz", small[: len(small) // 2])
    large = gzip_bytes(aggregate_xml("t") + os.urandom(100_000))
    cut_late = write(tmp_path / "late.xml.gz", large[:-5000])
    early, late = documents([cut_early, cut_late])
    assert found([early]) == [(str(cut_early), "truncated gzip")]
    assert found([late]) == [(str(cut_late), AGGREGATE)]
    with pytest.raises(ReportError, match=r"^truncated gzip$"):
        read(late)


def test_gzip_members_padding_corruption_and_trailing_garbage(tmp_path: Path) -> None:
    xml = aggregate_xml("multi")
    members = write(
        tmp_path / "members.gz", gzip_bytes(xml[:100]) + bytes(10) + gzip_bytes(xml[100:]) + bytes(512)
    )
    corrupt = bytearray(gzip_bytes(xml + os.urandom(50_000)))
    corrupt[-6] ^= 0xFF  # in the CRC-32 of the trailer, read only at the end
    garbage = write(tmp_path / "garbage.gz", gzip_bytes(xml + os.urandom(50_000)) + b"trailing junk")
    documents_found = list(documents([members, write(tmp_path / "corrupt.gz", bytes(corrupt)), garbage]))
    assert read(documents_found[0]) == xml
    with pytest.raises(ReportError, match=r"^corrupt gzip: .*incorrect data check"):
        read(documents_found[1])
    with pytest.raises(ReportError, match=r"^trailing data after the gzip stream$"):
        read(documents_found[2])
    short = write(tmp_path / "short.gz", gzip_bytes(xml) + b"junk")
    assert found(documents([short])) == [(str(short), "trailing data after the gzip stream")]


# --- hostile zip -----------------------------------------------------------------------------------------


def test_zip_bomb_by_its_declared_sizes_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.xml", "w") as member,
    ):
        member.write(aggregate_xml("x"))
        for _ in range(100):
            member.write(bytes(MIB))
    items = list(documents([path]))
    assert found(items) == [(f"{path}!zeros.xml", "zip bomb: member zeros.xml expands beyond ratio 200")]


@pytest.mark.parametrize("padded", [True, False])
def test_zip_bomb_under_the_declared_ratio_is_stopped_by_the_bytes_really_used(
    tmp_path: Path, padded: bool
) -> None:
    head = aggregate_xml("lie")[:200]
    stream, crc = zero_bomb(head, 100, wbits=-15)
    # The central directory declares 1 MiB compressed, a ratio of 100; the deflate data is ~100 KiB,
    # followed by padding that the decompressor never uses, or by nothing (the size is a lie).
    stored = stream + bytes(MIB - len(stream)) if padded else stream
    member = RawMember("a.xml", stored, crc, len(head) + 100 * MIB, compress_size=MIB)
    path = write(tmp_path / "lie.zip", raw_zip([member]))
    (document,) = documents([path])
    assert found([document]) == [(f"{path}!a.xml", AGGREGATE)]
    given, error = drain(document)
    assert error == "zip bomb: member a.xml expands beyond ratio 200"
    assert given < 32 * MIB


def test_zip_member_claiming_a_small_size_expands_no_further(tmp_path: Path) -> None:
    head = aggregate_xml("small")[:200]
    stream, crc = zero_bomb(head, 100, wbits=-15)
    path = write(tmp_path / "small.zip", raw_zip([RawMember("a.xml", stream, crc, 1000)]))
    assert found(documents([path])) == [
        (f"{path}!a.xml", "damaged zip member a.xml: Bad CRC-32 for file 'a.xml'")
    ]


def test_truncated_zip(tmp_path: Path) -> None:
    whole = zip_bytes([("a.xml", aggregate_xml("a")), ("b.xml", aggregate_xml("b"))])
    path = write(tmp_path / "cut.zip", whole[: len(whole) // 2])
    assert found(documents([path])) == [
        (str(path), "truncated or damaged zip: no end of central directory record")
    ]


def test_password_protected_zip_member(tmp_path: Path) -> None:
    xml = aggregate_xml("secret")
    encrypted = RawMember(
        "a.xml", zipcrypto(xml, b"pw"), zlib.crc32(xml), len(xml), zipfile.ZIP_STORED, flags=0x1
    )
    plain = RawMember("b.xml", deflate(xml), zlib.crc32(xml), len(xml))
    path = write(tmp_path / "locked.zip", raw_zip([encrypted, plain]))
    with zipfile.ZipFile(path) as archive:  # the fixture is a real encrypted member
        assert archive.read("a.xml", pwd=b"pw") == xml
    items = list(documents([path]))
    assert found(items) == [(f"{path}!a.xml", "password-protected zip member"), (f"{path}!b.xml", AGGREGATE)]
    assert read(items[1]) == xml


def test_zip_structure_problems(tmp_path: Path) -> None:
    xml = aggregate_xml("s")
    member = RawMember("a.xml", deflate(xml), zlib.crc32(xml), len(xml))
    overlapping = write(
        tmp_path / "overlap.zip",
        raw_zip(
            [member, RawMember("b.xml", member.stored, member.crc, len(xml), header_offset=0)], local=[member]
        ),
    )
    deflate64 = write(
        tmp_path / "deflate64.zip",
        raw_zip([RawMember("a.xml", member.stored, member.crc, len(xml), method=9)]),
    )
    many = write(tmp_path / "many.zip", zip_bytes([(f"{n}.xml", xml) for n in range(3)]))
    empty = write(tmp_path / "empty.zip", zip_bytes([]))
    limits = ContainerLimits(max_members=2)
    assert found(documents([overlapping, deflate64, many, empty], limits)) == [
        (str(overlapping), "zip bomb: members overlap each other"),
        (f"{deflate64}!a.xml", "zip member compressed with an unsupported method (9)"),
        (str(many), "zip with 3 members, over the limit of 2"),
        (str(empty), "empty zip: no files in it"),
    ]


# --- nothing escapes ----------------------------------------------------------------------------------------


def test_every_truncation_of_every_container_is_a_value_or_a_report_error(tmp_path: Path) -> None:
    samples = [
        gzip_bytes(aggregate_xml("g") * 20),
        zip_bytes([("a.xml", aggregate_xml("a") * 20), ("b.xml.gz", gzip_bytes(aggregate_xml("b")))]),
        report_email([(zip_bytes([("a.xml", aggregate_xml("e") * 20)]), "application/zip", "a.zip")]),
        mbox([FAILURE_EMAIL, report_email([(gzip_bytes(tls_json("t")), "application/tlsrpt+gzip", "t.gz")])]),
    ]
    outcomes: set[str] = set()
    for number, sample in enumerate(samples):
        for cut in range(0, len(sample), max(1, len(sample) // 60)):
            path = write(tmp_path / f"{number}-{cut}", sample[:cut])
            for item in documents([path]):
                if isinstance(item, Unreadable):
                    outcomes.add("unreadable")
                    continue
                try:
                    read(item)
                    outcomes.add("read")
                except ReportError:
                    outcomes.add("error")
    assert outcomes == {"unreadable", "read", "error"}
