"""Is an OLE2 compound file an encrypted Office document? ([MS-OFFCRYPTO], [MS-DOC], [MS-XLS], [MS-PPT])

Office hides encryption in different places per format, none of them in the file's name or type:

- OOXML (docx, xlsx, pptx …) with a password is not a ZIP any more but an OLE2 file holding the
  ``EncryptionInfo`` and ``EncryptedPackage`` streams; ``EncryptionInfo``'s version says agile (4.4),
  standard (x.2) or extensible (x.3) encryption. Rights-managed (IRM) files hold ``EncryptedPackage``
  under a DRM data space instead.
- Word 97–2003: the ``fEncrypted`` bit of the FIB at the start of ``WordDocument``; ``fObfuscated`` means
  XOR, otherwise the table stream (``0Table``/``1Table``) begins with the RC4 or RC4 CryptoAPI header.
- Excel 97–2003: a ``FILEPASS`` record (0x002F) in the workbook globals of ``Workbook`` (``Book`` for
  Excel 5/95), whose first field says XOR or RC4.
- PowerPoint 97–2003: the ``Current User`` atom's header token 0xF3D1C4DF, the ``encryptSessionPersistIdRef``
  of the last ``UserEditAtom`` (it exists only in encrypted files), or an ``EncryptedSummary`` stream.

Anything else in an OLE2 file (Outlook .msg, Visio, Publisher, an unencrypted document) is ``None``:
nothing encrypted found. A container that does not add up is ``Undecidable``.
"""

from __future__ import annotations

import re
import struct

from mimawari.gateway.cfb import CompoundFile, Entry
from mimawari.gateway.verdict import Kind, Undecidable

CIPHERS = {0x6801: "RC4", 0x660E: "AES-128", 0x660F: "AES-192", 0x6610: "AES-256"}
"""``AlgID`` of a standard encryption header ([MS-OFFCRYPTO] 2.3.2)."""
PPT_ENCRYPTED_TOKEN = 0xF3D1C4DF
WORD_IDENT = 0xA5EC
BIFF_BOF, BIFF_EOF, BIFF_FILEPASS = 0x0809, 0x000A, 0x002F
PPT_USER_EDIT, PPT_PERSIST_DIRECTORY, PPT_CRYPT_SESSION = 0x0FF5, 0x1772, 0x2F14


def office_encryption(data: bytes) -> tuple[Kind, str] | None:
    """The kind of Office encryption in an OLE2 file and a detail (``"agile (AES-256, SHA512)"``,
    ``"Word, RC4 CryptoAPI"``), or ``None``. Raises ``Undecidable`` and nothing else."""
    try:
        return _inspect(CompoundFile(data))
    except Undecidable:
        raise
    except (struct.error, ValueError, IndexError, OverflowError, MemoryError) as exc:
        # Every read is bounds-checked; this is the net under a check that was missed.
        raise Undecidable(f"OLE2 file not readable ({type(exc).__name__})") from None


def _inspect(container: CompoundFile) -> tuple[Kind, str] | None:
    streams = container.root_streams()
    info, package = streams.get("encryptioninfo"), streams.get("encryptedpackage")
    if info is not None:
        return Kind.OFFICE, _encryption_info(container.read(info))
    if package is not None:
        return Kind.OFFICE, "rights-managed (IRM) EncryptedPackage"
    if (word := streams.get("worddocument")) is not None:
        found = _word(container, word, streams)
        if found is not None:
            return Kind.OFFICE_LEGACY, f"Word, {found}"
    for name in ("workbook", "book"):
        if (book := streams.get(name)) is not None:
            found = _excel(container.read(book), biff5=name == "book")
            if found is not None:
                return Kind.OFFICE_LEGACY, f"Excel, {found}"
            break
    if "powerpoint document" in streams or "encryptedsummary" in streams:
        found = _powerpoint(container, streams)
        if found is not None:
            return Kind.OFFICE_LEGACY, f"PowerPoint, {found}"
    return None


def _version_name(major: int, minor: int) -> str:
    if (major, minor) == (1, 1):
        return "RC4"
    if major in (2, 3, 4) and minor == 2:
        return "RC4 CryptoAPI"
    return f"unknown encryption version {major}.{minor}"


def _encryption_info(info: bytes) -> str:
    if len(info) < 8:
        return "EncryptionInfo unreadable"
    major, minor = struct.unpack_from("<HH", info)
    if (major, minor) == (4, 4):
        xml = info[8:4096]
        cipher = re.search(rb'<keyData[^>]*?\bcipherAlgorithm="([A-Za-z0-9]+)"', xml)
        bits = re.search(rb'<keyData[^>]*?\bkeyBits="(\d+)"', xml)
        hashing = re.search(rb'<keyData[^>]*?\bhashAlgorithm="([A-Za-z0-9]+)"', xml)
        if cipher and bits and hashing:
            return f"agile ({cipher[1].decode()}-{bits[1].decode()}, {hashing[1].decode()})"
        return "agile"
    if major in (2, 3, 4) and minor in (2, 3):
        name = "standard" if minor == 2 else "extensible"
        # Version (4), flags (4), header size (4), then the header: flags, size extra, AlgID.
        if len(info) >= 24:
            (alg_id,) = struct.unpack_from("<I", info, 20)
            algorithm = CIPHERS.get(alg_id)
            if algorithm:
                return f"{name} ({algorithm})"
        return name
    return f"EncryptionInfo version {major}.{minor}"


def _word(container: CompoundFile, word: Entry, streams: dict[str, Entry]) -> str | None:
    fib = container.read(word)[:32]
    if len(fib) < 32:
        raise Undecidable(f"Word FIB truncated ({len(fib)} bytes)")
    ident, _, flags = struct.unpack_from("<HH6xH", fib)
    if ident != WORD_IDENT:
        raise Undecidable(f"WordDocument stream without a Word FIB (wIdent {ident:#06x})")
    if not flags & 0x0100:  # fEncrypted
        return None
    if flags & 0x8000:  # fObfuscated
        return "XOR obfuscation"
    table = streams.get("1table" if flags & 0x0200 else "0table")
    try:  # fEncrypted alone proves it: the table stream's header only names the cipher
        header = container.read(table)[:4] if table is not None else b""
    except Undecidable:
        header = b""
    if len(header) < 4:
        return "encrypted (encryption header unreadable)"
    return _version_name(*struct.unpack("<HH", header))


def _excel(book: bytes, *, biff5: bool) -> str | None:
    """Walks the records of the globals substream up to its EOF: FILEPASS must come before anything
    encrypted, so the walk never needs a record body after it."""
    offset, first = 0, True
    while offset + 4 <= len(book):
        record, length = struct.unpack_from("<HH", book, offset)
        body = book[offset + 4 : offset + 4 + length]
        if len(body) < length:
            raise Undecidable(f"Excel workbook stream truncated inside record {record:#06x}")
        if first and record != BIFF_BOF:
            raise Undecidable(f"Excel workbook stream does not start with BOF (record {record:#06x})")
        first = False
        if record == BIFF_FILEPASS:
            if biff5 or len(body) < 2:
                return "XOR obfuscation"
            (encryption_type,) = struct.unpack_from("<H", body)
            if encryption_type == 0:
                return "XOR obfuscation"
            if len(body) < 6:
                return "RC4"
            return _version_name(*struct.unpack_from("<HH", body, 2))
        if record == BIFF_EOF:
            return None
        offset += 4 + length
    if first:
        raise Undecidable("Excel workbook stream is empty")
    raise Undecidable("Excel workbook globals end without an EOF record (truncated)")


def _powerpoint(container: CompoundFile, streams: dict[str, Entry]) -> str | None:
    if "encryptedsummary" in streams:
        return "RC4 CryptoAPI (EncryptedSummary stream)"
    user = streams.get("current user")
    document = streams.get("powerpoint document")
    if user is None or document is None:
        raise Undecidable("PowerPoint file without a Current User or PowerPoint Document stream")
    atom = container.read(user)
    if len(atom) < 20:
        raise Undecidable("PowerPoint Current User stream truncated")
    token, edit_offset = struct.unpack_from("<II", atom, 12)
    body = container.read(document)
    if token != PPT_ENCRYPTED_TOKEN:
        return _crypt_session(body, edit_offset)
    try:  # the token alone proves it: the session container only names the version
        return _crypt_session(body, edit_offset) or "RC4 CryptoAPI"
    except Undecidable:
        return "RC4 CryptoAPI"


def _crypt_session(document: bytes, edit_offset: int) -> str | None:
    """The encryption version in the CryptSession10Container named by the last UserEditAtom, or ``None``
    when that atom has no ``encryptSessionPersistIdRef`` (it exists only in encrypted files)."""
    header = document[edit_offset : edit_offset + 8 + 0x20]
    if len(header) < 8 + 0x1C:
        raise Undecidable("PowerPoint UserEditAtom lies past the end of the document stream")
    _, record, length = struct.unpack_from("<HHI", header)
    if record != PPT_USER_EDIT:
        raise Undecidable(f"PowerPoint Current User points to record {record:#06x}, not a UserEditAtom")
    if length < 0x20 or len(header) < 8 + 0x20:
        return None
    persist_offset = struct.unpack_from("<I", header, 8 + 12)[0]
    (session_ref,) = struct.unpack_from("<I", header, 8 + 0x1C)
    offset = _persist_offset(document, persist_offset, session_ref)
    if offset is None:
        return "RC4 CryptoAPI (CryptSession10Container not found)"
    session = document[offset : offset + 12]
    if len(session) < 12 or struct.unpack_from("<H", session, 2)[0] != PPT_CRYPT_SESSION:
        return "RC4 CryptoAPI (CryptSession10Container not found)"
    return _version_name(*struct.unpack_from("<HH", session, 8))


def _persist_offset(document: bytes, directory: int, wanted: int) -> int | None:
    head = document[directory : directory + 8]
    if len(head) < 8:
        return None
    _, record, length = struct.unpack_from("<HHI", head)
    if record != PPT_PERSIST_DIRECTORY:
        return None
    body = document[directory + 8 : directory + 8 + length]
    position = 0
    while position + 4 <= len(body):  # each entry at least 4 bytes forward: ends
        (word,) = struct.unpack_from("<I", body, position)
        first, count = word & 0xFFFFF, word >> 20
        position += 4
        if first <= wanted < first + count and position + 4 * (wanted - first) + 4 <= len(body):
            return int(struct.unpack_from("<I", body, position + 4 * (wanted - first))[0])
        position += 4 * count
    return None
