"""What a part is, by its first bytes only: never by its file name or its declared content type.

An attacker controls both the name (``invoice.txt``) and the ``Content-Type`` (``text/plain``); the mail
client, the archiver and the user's double-click go by the bytes. ``HEAD`` bytes are enough for every
format here, so archive readers decompress only that much of a member before deciding whether the rest
matters.
"""

from __future__ import annotations

from enum import StrEnum

HEAD = 1024
"""Bytes of a part's start needed to identify it (PDF readers accept ``%PDF-`` anywhere in the first KiB)."""


class Format(StrEnum):
    ZIP = "zip"
    SEVENZIP = "7z"
    RAR4 = "rar4"
    RAR5 = "rar5"
    GZIP = "gzip"
    TAR = "tar"
    OLE2 = "ole2"
    PDF = "pdf"
    OTHER = "other"


CONTAINERS = frozenset({Format.ZIP, Format.SEVENZIP, Format.RAR4, Format.RAR5, Format.GZIP, Format.TAR})
DOCUMENTS = frozenset({Format.OLE2, Format.PDF})

ZIP_LOCAL = b"PK\x03\x04"
ZIP_END = b"PK\x05\x06"
ZIP_SPANNED = b"PK\x07\x08PK\x03\x04"
"""A split archive's first segment: the spanning marker, then the first local header."""
SEVENZIP = b"7z\xbc\xaf\x27\x1c"
RAR4 = b"Rar!\x1a\x07\x00"
RAR5 = b"Rar!\x1a\x07\x01\x00"
GZIP = b"\x1f\x8b"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def identify(data: bytes | memoryview) -> Format:
    head = bytes(data[:HEAD])
    if head.startswith((ZIP_LOCAL, ZIP_END, ZIP_SPANNED)):
        return Format.ZIP
    if head.startswith(SEVENZIP):
        return Format.SEVENZIP
    if head.startswith(RAR5):
        return Format.RAR5
    if head.startswith(RAR4):
        return Format.RAR4
    if head.startswith(OLE2):
        return Format.OLE2
    if head.startswith(GZIP) and len(head) > 2 and head[2] == 8:
        return Format.GZIP
    if head[257:262] == b"ustar":
        return Format.TAR
    if b"%PDF-" in head:
        return Format.PDF
    return Format.OTHER


def worth_reading(head: bytes | memoryview) -> bool:
    """Whether a member starting with ``head`` needs its whole contents read (an archive or document)."""
    return identify(head) is not Format.OTHER
