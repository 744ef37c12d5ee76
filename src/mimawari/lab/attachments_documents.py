"""Office documents and PDFs, plain and encrypted, built byte by byte for the gateway's tests and bench.

Each builder returns a ``Document``: its bytes, the name and type a mail would give it, and what the
detector must say about it (``kind`` and ``detail``, or ``None`` for a clean decoy). Everything is
deterministic: the same arguments give the same bytes.

How real they are:

- Encrypted OOXML (agile) is really encrypted, by msoffcrypto-tool with the password ``infected`` (its
  randomness drawn from the seed, and a spin count of 1000 instead of 100000 to keep a corpus fast);
  msoffcrypto-tool decrypts it back to the plain ZIP. The compound file around it holds only the
  ``EncryptionInfo`` and ``EncryptedPackage`` streams (Office also writes a ``\\x06DataSpaces`` storage,
  which the detector does not read). Standard-encryption OOXML has a true ``EncryptionInfo`` header but a
  random package.
- Legacy Word, Excel and PowerPoint files carry the real structures the detector reads (the FIB, the BIFF
  globals with ``FILEPASS``, the Current User atom, UserEditAtom, persist directory and
  CryptSession10Container, the RC4 / RC4 CryptoAPI / XOR headers) around random "ciphertext"; they are
  not documents Office would open, and nothing in them is really encrypted.
- PDFs have a true structure (objects, a classic cross-reference table and trailer or a cross-reference
  stream, incremental updates) and an encryption dictionary as PDF readers write it (RC4 V2 R3 or AES-256
  V5 R6), but the content is left in clear: what is detected is the dictionary.
"""

from __future__ import annotations

import io
import random
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from msoffcrypto.method import ecma376_agile  # type: ignore[import-untyped]

from mimawari.gateway.verdict import Kind
from mimawari.lab.attachments_pdf import DETAIL as PDF_DETAIL
from mimawari.lab.attachments_pdf import PdfCipher, pdf_bytes
from mimawari.lab.compound_file import compound_file

__all__ = [
    "OOXML_TYPES",
    "Document",
    "encrypted_ooxml",
    "excel_workbook",
    "ooxml",
    "outlook_message",
    "pdf_document",
    "powerpoint",
    "standard_encrypted_ooxml",
    "word_document",
]

PASSWORD = "infected"
OOXML_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MAIN_PART = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml", "officeDocument"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml", "officeDocument"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml", "officeDocument"),
}
OoxmlKind = Literal["docx", "xlsx", "pptx"]
LegacyCipher = Literal["xor", "rc4", "rc4-cryptoapi"]


@dataclass(frozen=True)
class Document:
    name: str
    content_type: str
    data: bytes
    kind: Kind | None
    """What the detector must find: ``None`` for a clean document."""
    detail: str = ""


# --- OOXML ---------------------------------------------------------------------------------------------


def ooxml(kind: OoxmlKind, text: str, name: str = "") -> Document:
    """A minimal plain OOXML package (a ZIP of three parts): the clean decoy."""
    part, content_type, relation = _MAIN_PART[kind]
    namespace = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Types xmlns="{namespace}/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
            f'{content_type}"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Relationships xmlns="{namespace}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{namespace}/officeDocument/2006/relationships/{relation}"'
            f' Target="{part}"/></Relationships>'
        ),
        part: f'<?xml version="1.0" encoding="UTF-8"?><document><body><p>{text}</p></body></document>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in files.items():
            archive.writestr(zipfile.ZipInfo(member, (2024, 4, 1, 9, 0, 0)), content)
    return Document(name or f"report.{kind}", OOXML_TYPES[kind], buffer.getvalue(), None)


_RANDOMNESS = threading.Lock()


@contextmanager
def _seeded_msoffcrypto(rng: random.Random) -> Iterator[None]:
    """msoffcrypto-tool draws salts and keys from ``secrets``; the lab wants the same bytes for the same
    seed, so its one random source is swapped for the seeded one, under a lock, for one encryption."""
    with _RANDOMNESS:
        original = ecma376_agile._random_buffer
        ecma376_agile._random_buffer = rng.randbytes
        try:
            yield
        finally:
            ecma376_agile._random_buffer = original


def encrypted_ooxml(kind: OoxmlKind, text: str, seed: int = 0, name: str = "") -> Document:
    """``ooxml(kind, text)`` encrypted with agile encryption (AES-256, SHA512), password ``infected``."""
    plain = ooxml(kind, text).data
    with _seeded_msoffcrypto(random.Random(seed)):
        info, secret_key = ecma376_agile.ECMA376Agile.generate_encryption_parameters(PASSWORD, None, 1000)
        package = ecma376_agile.ECMA376Agile.encrypt_payload(
            io.BytesIO(plain), info.encryptedKey, secret_key, info.keyData.saltValue
        )
        encryption_info = ecma376_agile.ECMA376Agile.get_encryption_information(info, package, secret_key)
    data = compound_file({"EncryptionInfo": bytes(encryption_info), "EncryptedPackage": bytes(package)})
    return Document(name or f"report.{kind}", OOXML_TYPES[kind], data, Kind.OFFICE, "agile (AES-256, SHA512)")


def standard_encrypted_ooxml(kind: OoxmlKind, seed: int = 0, name: str = "") -> Document:
    """OOXML with standard encryption (version 4.2, AES-128): a true header, a random package."""
    rng = random.Random(seed)
    provider = "Microsoft Enhanced RSA and AES Cryptographic Provider\0".encode("utf-16-le")
    header = struct.pack("<IIIIIIII", 0x24, 0, 0x660E, 0x8004, 128, 0x18, 0, 0) + provider
    verifier = struct.pack("<I", 16) + rng.randbytes(32) + struct.pack("<I", 20) + rng.randbytes(32)
    info = struct.pack("<HHII", 4, 2, 0x24, len(header)) + header + verifier
    size = 900 + rng.randrange(4000)
    package = struct.pack("<Q", size) + rng.randbytes(-(-size // 16) * 16)
    data = compound_file({"EncryptionInfo": info, "EncryptedPackage": package})
    return Document(name or f"report.{kind}", OOXML_TYPES[kind], data, Kind.OFFICE, "standard (AES-128)")


# --- legacy binary formats -----------------------------------------------------------------------------

_CIPHER_DETAIL = {"xor": "XOR obfuscation", "rc4": "RC4", "rc4-cryptoapi": "RC4 CryptoAPI"}


def _rc4_header(cipher: LegacyCipher, rng: random.Random) -> bytes:
    """The encryption header of [MS-OFFCRYPTO] 2.3.6.1 (RC4) or 2.3.5.1 (RC4 CryptoAPI)."""
    if cipher == "rc4":
        return struct.pack("<HH", 1, 1) + rng.randbytes(48)
    provider = "Microsoft Enhanced Cryptographic Provider v1.0\0".encode("utf-16-le")
    header = struct.pack("<IIIIIIII", 0x04, 0, 0x6801, 0x8004, 128, 1, 0, 0) + provider
    verifier = struct.pack("<I", 16) + rng.randbytes(32) + struct.pack("<I", 20) + rng.randbytes(20)
    return struct.pack("<HHII", 4, 2, 0x04, len(header)) + header + verifier


def word_document(text: str, cipher: LegacyCipher | None = None, seed: int = 0, name: str = "") -> Document:
    """A Word 97–2003 file: a FIB (``fEncrypted``, ``fObfuscated``, ``fWhichTblStm``) and its table
    stream, whose start is the encryption header when encrypted with RC4."""
    rng = random.Random(seed)
    header = _rc4_header(cipher, rng) if cipher in ("rc4", "rc4-cryptoapi") else b""
    flags = 0x0200  # fWhichTblStm: the table stream is 1Table
    key = 0
    if cipher is not None:
        flags |= 0x0100  # fEncrypted
    if cipher == "xor":
        flags |= 0x8000  # fObfuscated
        key = rng.getrandbits(16)
    elif cipher is not None:
        key = len(header)  # lKey: the size of the encryption header
    fib = struct.pack("<HHHHHHHIBBHHII", 0xA5EC, 0x00C1, 0, 0x0411, 0, flags, 0x00BF, key, 0, 0, 0, 0, 0, 0)
    body = text.encode("utf-16-le") if cipher is None else rng.randbytes(2 * len(text))
    word = (fib + b"\0" * (0x800 - len(fib)) + body).ljust(4608, b"\0")
    table = header + (rng.randbytes(300) if cipher else bytes(300))
    data = compound_file({"WordDocument": word, "1Table": table})
    kind = Kind.OFFICE_LEGACY if cipher else None
    detail = f"Word, {_CIPHER_DETAIL[cipher]}" if cipher else ""
    return Document(name or "report.doc", "application/msword", data, kind, detail)


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def excel_workbook(cipher: LegacyCipher | None = None, seed: int = 0, name: str = "") -> Document:
    """An Excel 97–2003 workbook stream: globals (BOF, FILEPASS when encrypted, a few records, EOF) and
    one sheet. Record headers stay in clear in an encrypted workbook; their bodies become random."""
    rng = random.Random(seed)
    globals_bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0x000100C1, 0x0406))
    records = [_record(0x00E1, b"\xb0\x04"), _record(0x005C, b"lab".ljust(112)), _record(0x0042, b"\xb0\x04")]
    filepass = b""
    if cipher == "xor":
        filepass = _record(0x002F, struct.pack("<HHH", 0, rng.getrandbits(16), rng.getrandbits(16)))
    elif cipher is not None:
        filepass = _record(0x002F, struct.pack("<H", 1) + _rc4_header(cipher, rng))
    if cipher is not None:
        records = [rec[:4] + rng.randbytes(len(rec) - 4) for rec in records]
    sheet_bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0x000100C1, 0x0406))
    workbook = (
        globals_bof + filepass + b"".join(records) + _record(0x000A, b"") + sheet_bof + _record(0x000A, b"")
    )
    data = compound_file({"Workbook": workbook})
    kind = Kind.OFFICE_LEGACY if cipher else None
    detail = f"Excel, {_CIPHER_DETAIL[cipher]}" if cipher else ""
    return Document(name or "budget.xls", "application/vnd.ms-excel", data, kind, detail)


def powerpoint(encrypted: bool = False, seed: int = 0, name: str = "") -> Document:
    """A PowerPoint 97–2003 file: Current User atom, and a document stream ending in the persist
    directory and the UserEditAtom; encrypted, with the CryptSession10Container they point to."""
    rng = random.Random(seed)
    content = rng.randbytes(5000) if encrypted else b"\x00" * 5000
    document = struct.pack("<HHI", 0x000F, 0x03E8, len(content)) + content
    offsets = [0]
    if encrypted:
        offsets.append(len(document))
        session = _rc4_header("rc4-cryptoapi", rng)
        document += struct.pack("<HHI", 0x000F, 0x2F14, len(session)) + session
    persist_offset = len(document)
    persist = struct.pack("<I", 1 | len(offsets) << 20) + struct.pack(f"<{len(offsets)}I", *offsets)
    document += struct.pack("<HHI", 0, 0x1772, len(persist)) + persist
    edit_offset = len(document)
    edit = struct.pack("<IHBBIIIIHH", 0x100, 0, 0, 3, 0, persist_offset, 1, len(offsets) + 1, 1, 0)
    if encrypted:
        edit += struct.pack("<I", 2)  # encryptSessionPersistIdRef: only in encrypted files
    document += struct.pack("<HHI", 0, 0x0FF5, len(edit)) + edit
    token = 0xF3D1C4DF if encrypted else 0xE391C05F
    user_name = b"lab"
    atom = struct.pack("<IIIHHBBH", 0x14, token, edit_offset, len(user_name), 0x03F4, 3, 0, 0)
    atom += user_name + struct.pack("<I", 8)
    current_user = struct.pack("<HHI", 0, 0x0FF6, len(atom)) + atom
    data = compound_file({"Current User": current_user, "PowerPoint Document": document})
    kind = Kind.OFFICE_LEGACY if encrypted else None
    detail = "PowerPoint, RC4 CryptoAPI" if encrypted else ""
    return Document(name or "slides.ppt", "application/vnd.ms-powerpoint", data, kind, detail)


def outlook_message(seed: int = 0, name: str = "forwarded.msg") -> Document:
    """An OLE2 file that is not an Office document (an Outlook .msg's property streams): clean."""
    rng = random.Random(seed)
    subject = "Quarterly figures\0".encode("utf-16-le")
    streams = {
        "__properties_version1.0": bytes(32) + rng.randbytes(64),
        "__substg1.0_0037001F": subject,
        "__substg1.0_1000001F": ("Please find the figures below. " * 200).encode("utf-16-le"),
    }
    return Document(name, "application/vnd.ms-outlook", compound_file(streams), None)


# --- PDF -----------------------------------------------------------------------------------------------


def pdf_document(
    cipher: PdfCipher | None = None,
    *,
    xref_stream: bool = False,
    incremental: bool = False,
    decoy_text: bool = False,
    seed: int = 0,
    name: str = "report.pdf",
) -> Document:
    """A one-page PDF (``lab.attachments_pdf.pdf_bytes``), plain or with an encryption dictionary."""
    data = pdf_bytes(
        cipher, xref_stream=xref_stream, incremental=incremental, decoy_text=decoy_text, seed=seed
    )
    if cipher is None:
        return Document(name, "application/pdf", data, None)
    return Document(name, "application/pdf", data, Kind.PDF, PDF_DETAIL[cipher])
