"""What a document is, from its first bytes: magic bytes and simple prefixes, never its name.

Reporters name files inconsistently (``.xml`` that is gzip, ``.zip`` attachments sent as
``application/octet-stream``), and a user's folder holds other files: the content decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mimawari.dmarc import mailfiles
from mimawari.dmarc.archives import printable
from mimawari.dmarc.model import ReportKind


class Container(StrEnum):
    """Something that holds documents."""

    GZIP = "gzip"
    ZIP = "zip"
    MBOX = "mbox"
    EMAIL = "e-mail"


@dataclass(frozen=True)
class NotReport:
    """Content that is no report, and what it looks like instead."""

    reason: str


_BINARY_SIGNATURES = (
    (b"%PDF-", "PDF"), (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"), (b"Rar!\x1a\x07", "RAR archive"), (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"), (b"\x28\xb5\x2f\xfd", "zstd data"), (b"\xd0\xcf\x11\xe0", "Office document"),
)  # fmt: skip
_XML_PROLOG = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*", re.S | re.I)
_XML_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def sniff(head: bytes) -> ReportKind | Container | NotReport:
    """What the first bytes of a document say it is: magic bytes and simple prefixes, never the name."""
    if not head:
        return NotReport("empty (0 bytes)")
    if head.startswith(b"\x1f\x8b"):
        return Container.GZIP
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Container.ZIP
    if mailfiles.looks_like_mbox(head):
        return Container.MBOX
    text = _decode_head(head).lstrip()
    if text.startswith("<"):
        return _xml_kind(text)
    if text.startswith("{"):
        return ReportKind.SMTP_TLS
    if mailfiles.looks_like_message(head):
        return Container.EMAIL
    for signature, name in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return NotReport(f"not a DMARC report ({name})")
    if head[257:262] == b"ustar":
        return NotReport("not a DMARC report (tar archive)")
    binary = any(byte < 32 and byte not in b"\t\n\r\f" for byte in head[:1024])
    return NotReport("not a DMARC report (" + ("unrecognised binary content" if binary else "text") + ")")


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


def _xml_kind(text: str) -> ReportKind | NotReport:
    prolog = _XML_PROLOG.match(text)
    root = _XML_ROOT.match(text, prolog.end() if prolog else 0)
    if root is None:  # the prolog runs past the head: let the XML parser judge
        return ReportKind.AGGREGATE if text.startswith("<?xml") else NotReport("not a DMARC report (text)")
    name = root.group(1)
    if name == "feedback":
        return ReportKind.AGGREGATE
    if name.lower() == "html":
        return NotReport("not a DMARC report (HTML)")
    return NotReport(f"not a DMARC report (XML document <{printable(name)}>)")
