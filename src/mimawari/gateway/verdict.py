"""What the detector says about a message: a verdict, and the encrypted or undecidable parts behind it.

A part the detector could not open or that broke a budget is ``undecidable``, never ``clean``: a gateway
that lets through what it cannot read is the hole Emotet went through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    ENCRYPTED = "encrypted"
    """At least one part holds encrypted content."""
    CLEAN = "clean"
    """Every part was read to the end and none is encrypted."""
    UNDECIDABLE = "undecidable"
    """Nothing encrypted was found, but some part could not be read (malformed, over a budget)."""


class Kind(StrEnum):
    """The kind of encryption found, named after the format's own term for it."""

    ZIP_ZIPCRYPTO = "zip-zipcrypto"
    ZIP_AES = "zip-aes"
    """WinZip AES (compression method 99, extra field 0x9901)."""
    ZIP_STRONG = "zip-strong-encryption"
    """PKWARE strong encryption (general-purpose flag bit 6, extra field 0x0017)."""
    ZIP_CENTRAL_DIRECTORY = "zip-encrypted-central-directory"
    """PKWARE central directory encryption (flag bit 13): even the names are hidden."""
    SEVENZIP = "7z-aes"
    SEVENZIP_HEADERS = "7z-encrypted-headers"
    RAR4 = "rar4-encrypted"
    RAR4_HEADERS = "rar4-encrypted-headers"
    RAR5 = "rar5-encrypted"
    RAR5_HEADERS = "rar5-encrypted-headers"
    OFFICE = "office-encrypted"
    """OOXML in an OLE2 container (``EncryptionInfo`` / ``EncryptedPackage``): agile or standard."""
    OFFICE_LEGACY = "office-legacy-encrypted"
    """Binary Word/Excel/PowerPoint with RC4, RC4 CryptoAPI or XOR obfuscation."""
    PDF = "pdf-encrypted"


class Undecidable(Exception):
    """Raised by a format reader that cannot tell: malformed, truncated, or over a budget. The message is
    the reason, one line, shown to the user."""


@dataclass(frozen=True)
class EncryptedPart:
    part: str
    """Where it is: the MIME section (IMAP numbering, ``2`` or ``1.3``), then the file names down the
    archive tree, joined by ``/``: ``2/invoice.zip/data.7z/report.docx``."""
    section: str
    """The MIME section alone, the unit the gateway strips."""
    kind: Kind
    depth: int
    """0 for a MIME part itself, 1 for a member of an archive attached, and so on."""
    detail: str = ""


@dataclass(frozen=True)
class UndecidedPart:
    part: str
    section: str
    reason: str
    depth: int


@dataclass(frozen=True)
class Inspection:
    verdict: Verdict
    encrypted: tuple[EncryptedPart, ...] = ()
    undecided: tuple[UndecidedPart, ...] = ()
    parts: int = 0
    """How many MIME leaf parts and archive members were examined."""
