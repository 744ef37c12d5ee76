"""PDFs for the gateway's tests and bench: plain, or with an encryption dictionary (RC4 or AES-256).

The structure is true PDF (numbered objects, a cross-reference table and trailer or a PDF 1.5
cross-reference stream, incremental updates with ``/Prev``), and the encryption dictionary is the one a
PDF writer makes (``/V 2 /R 3`` RC4-128, ``/V 5 /R 6`` AES-256 with its ``/O /U /OE /UE /Perms``
strings, some of them literal strings holding ``)`` and ``>>``). But the page's content is left in
clear: nothing is really encrypted, the dictionary is what the detector reads.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from typing import Literal

PdfCipher = Literal["rc4", "aes-256"]
DETAIL = {"rc4": "Standard V2 R3 (RC4-128)", "aes-256": "Standard V5 R6 (AES-256)"}


def _literal(data: bytes) -> bytes:
    escaped = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")
    return b"(" + escaped + b")"


def _hex(data: bytes) -> bytes:
    return b"<" + data.hex().upper().encode() + b">"


def encryption_dictionary(cipher: PdfCipher, rng: random.Random) -> bytes:
    if cipher == "rc4":
        # A literal string with ")" and ">>" inside, as RC4 writers often leave them.
        owner = b")>>" + rng.randbytes(29)
        return (
            b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O "
            + _literal(owner)
            + b" /U "
            + _literal(rng.randbytes(32))
            + b" >>"
        )
    return (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -3904 /EncryptMetadata true"
        b" /CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV3 /Length 32 >> >> /StmF /StdCF /StrF /StdCF"
        b" /O "
        + _hex(rng.randbytes(48))
        + b" /U "
        + _literal(rng.randbytes(48))
        + b" /OE "
        + _hex(rng.randbytes(32))
        + b" /UE "
        + _hex(rng.randbytes(32))
        + b" /Perms "
        + _hex(rng.randbytes(16))
        + b" >>"
    )


@dataclass
class _Writer:
    out: bytearray = field(default_factory=lambda: bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
    offsets: dict[int, int] = field(default_factory=dict)

    def add(self, number: int, body: bytes) -> None:
        self.offsets[number] = len(self.out)
        self.out += b"%d 0 obj\n%s\nendobj\n" % (number, body)

    def xref_table(self, numbers: list[int], trailer: bytes) -> int:
        start = len(self.out)
        self.out += b"xref\n0 1\n0000000000 65535 f \n"
        for number in numbers:
            self.out += b"%d 1\n%010d 00000 n \n" % (number, self.offsets[number])
        self.out += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, start)
        return start

    def xref_stream(self, number: int, entries: bytes) -> int:
        """A cross-reference stream object (PDF 1.5, /W [1 4 2]) listing every object, itself included."""
        start = len(self.out)
        self.offsets[number] = start
        rows = [struct.pack(">BIH", 0, 0, 65535)]
        rows += [struct.pack(">BIH", 1, self.offsets.get(n, 0), 0) for n in range(1, number + 1)]
        data = b"".join(rows)
        dictionary = b"<< /Type /XRef /Size %d /W [1 4 2] %s /Length %d >>" % (number + 1, entries, len(data))
        self.out += b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, dictionary, data)
        self.out += b"startxref\n%d\n%%%%EOF\n" % start
        return start


def pdf_bytes(
    cipher: PdfCipher | None = None,
    *,
    xref_stream: bool = False,
    incremental: bool = False,
    decoy_text: bool = False,
    seed: int = 0,
) -> bytes:
    """A one-page PDF. ``incremental``: the encryption dictionary (if any) and a second trailer naming it
    arrive in an incremental update after a first, plain revision. ``decoy_text``: ``/Encrypt`` and a
    whole ``trailer << /Encrypt … >>`` appear inside the content stream and an /Info string, where they
    mean nothing."""
    rng = random.Random(seed)
    text = b"(Quarterly report) Tj"
    if decoy_text:
        text += b"\n(trailer << /Encrypt 9 0 R >>) Tj\ntrailer\n<< /Encrypt 9 0 R >>\n"
    content = b"BT /F1 18 Tf 72 720 Td " + text + b" ET"
    writer = _Writer()
    writer.add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    writer.add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    writer.add(
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
    )
    writer.add(4, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    writer.add(5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    title = b"(Notes on /Encrypt 6 0 R \\) >> trailer)" if decoy_text else b"(Quarterly report)"
    writer.add(6, b"<< /Title %s /Producer (mimawari lab) >>" % title)
    identifier = _hex(rng.randbytes(16))
    base = b"/Root 1 0 R /Info 6 0 R /ID [%s %s]" % (identifier, identifier)
    encrypt = b""
    if cipher is not None and not incremental:
        writer.add(7, encryption_dictionary(cipher, rng))
        encrypt = b" /Encrypt 7 0 R"
    last = 7 if encrypt else 6
    if xref_stream:
        first = writer.xref_stream(last + 1, base + encrypt)
    else:
        first = writer.xref_table(
            list(range(1, last + 1)), b"<< /Size %d %s%s >>" % (last + 1, base, encrypt)
        )
    if incremental:
        writer.add(6, b"<< /Title (Quarterly report, revised) /Producer (mimawari lab) >>")
        numbers, size = [6], last + 1
        if cipher is not None:
            writer.add(size, encryption_dictionary(cipher, rng))
            encrypt, numbers, size = b" /Encrypt %d 0 R" % size, [6, size], size + 1
        if xref_stream:
            writer.xref_stream(size, b"%s%s /Prev %d" % (base, encrypt, first))
        else:
            trailer = b"<< /Size %d %s%s /Prev %d >>" % (size, base, encrypt, first)
            writer.xref_table(numbers, trailer)
    return bytes(writer.out)
