"""Archives for the gateway's tests and benchmark corpus: plain and encrypted, every kind the detector knows.

Each builder returns the archive's bytes; the same arguments give the same bytes (fixed dates, seeded
"random" salts and IVs). ZIP traditional encryption (ZipCrypto) is implemented here (the PKWARE stream
cipher, APPNOTE 6.1), so stdlib ``zipfile`` can decrypt what we write; WinZip AES comes from pyzipper and 7z
from py7zr (their random salts and IVs seeded while they run). PKWARE strong encryption and central
directory encryption are written by hand from the specification: their headers are exact, their
encrypted bytes are seeded noise, since the detector judges headers, never ciphertext. RAR archives come
from ``attachments_rar``.

    plain_zip, zipcrypto_zip, aes_zip, strong_encryption_zip, encrypted_directory_zip,
    partially_encrypted_zip, docx_like, zip_bomb, as_zip64
    plain_7z, encrypted_7z(headers=...)
    gzip_of, tar_gz, nest
"""

from __future__ import annotations

import io
import random
import struct
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import py7zr
import py7zr.compressor
import py7zr.helpers
import pyzipper  # type: ignore[import-untyped]
import pyzipper.zipfile_aes  # type: ignore[import-untyped]

from mimawari.lab.attachment_samples import DATE, DOS_DATE, DOS_TIME, PASSWORD, SAMPLE, Members
from mimawari.lab.attachments_rar import rar4, rar5

LOCAL = struct.Struct("<4sHHHHHIIIHH")
CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
END = struct.Struct("<4sHHHHIIH")


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


# ZIP ------------------------------------------------------------------------------------------------


def plain_zip(members: Members = SAMPLE) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, DATE), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def docx_like() -> bytes:
    """An OOXML document as Word writes it (a plain zip of XML parts): a clean decoy, not an archive."""
    return plain_zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            "word/document.xml": b'<?xml version="1.0"?><w:document><w:body><w:p>Minutes</w:p></w:body></w:document>',
        }
    )


def zip_bomb(size: int = 64 * 1024 * 1024) -> bytes:
    """One member of ``size`` zero bytes: deflate makes it about a thousand times smaller."""
    buffer = io.BytesIO()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    compressed = b"".join(packer.compress(chunk) for _ in range(size // len(chunk))) + packer.flush()
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    buffer.write(_assemble([_Record(b"zeros.bin", 0, 8, crc, size, compressed)]))
    return buffer.getvalue()


@dataclass(frozen=True)
class _Record:
    name: bytes
    flags: int
    method: int
    crc: int
    size: int
    payload: bytes
    """What follows the local header: the (encrypted) compressed data."""
    extra: bytes = b""
    version: int = 20


def _assemble(records: list[_Record]) -> bytes:
    out = bytearray()
    central = bytearray()
    for record in records:
        offset = len(out)
        fields = (
            record.version,
            record.flags,
            record.method,
            DOS_TIME,
            DOS_DATE,
            record.crc,
            len(record.payload),
            record.size,
        )
        out += LOCAL.pack(b"PK\x03\x04", *fields, len(record.name), len(record.extra))
        out += record.name + record.extra + record.payload
        central += CENTRAL.pack(
            b"PK\x01\x02", 0x0314, *fields, len(record.name), len(record.extra), 0, 0, 0, 0, offset
        )
        central += record.name + record.extra
    out += central
    out += END.pack(b"PK\x05\x06", 0, 0, len(records), len(records), len(central), len(out) - len(central), 0)
    return bytes(out)


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xEDB88320 if value & 1 else value >> 1
        table.append(value)
    return table


CRC_TABLE = _crc_table()


class ZipCrypto:
    """The traditional PKWARE stream cipher (APPNOTE 6.1.5): three 32-bit keys stirred by each plaintext
    byte. Weak (known-plaintext attacks), and still what "password-protected ZIP" usually means."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        keys = self.keys
        keys[0] = (keys[0] >> 8) ^ CRC_TABLE[(keys[0] ^ byte) & 0xFF]
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = (keys[2] >> 8) ^ CRC_TABLE[(keys[2] ^ (keys[1] >> 24)) & 0xFF]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray(len(data))
        for index, byte in enumerate(data):
            temp = (self.keys[2] | 2) & 0xFFFF
            out[index] = byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF)
            self._update(byte)
        return bytes(out)


def _zipcrypto_record(name: str, data: bytes, password: str, rng: random.Random) -> _Record:
    crc = zlib.crc32(data)
    header = rng.randbytes(11) + bytes([crc >> 24])  # the last byte lets extractors check the password
    payload = ZipCrypto(password.encode()).encrypt(header + _deflate(data))
    return _Record(name.encode(), 0x0001, 8, crc, len(data), payload)


def _plain_record(name: str, data: bytes) -> _Record:
    return _Record(name.encode(), 0, 8, zlib.crc32(data), len(data), _deflate(data))


def zipcrypto_zip(members: Members = SAMPLE, password: str = PASSWORD, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    return _assemble([_zipcrypto_record(name, data, password, rng) for name, data in members.items()])


def partially_encrypted_zip(
    plain: Members = SAMPLE, encrypted: Members | None = None, password: str = PASSWORD, seed: int = 0
) -> bytes:
    """Plain members first, then ZipCrypto ones: one encrypted member is enough to hide a payload."""
    rng = random.Random(seed)
    hidden = encrypted if encrypted is not None else {"payload.js": b"WScript.Echo('hi');\r\n"}
    records = [_plain_record(name, data) for name, data in plain.items()]
    records += [_zipcrypto_record(name, data, password, rng) for name, data in hidden.items()]
    return _assemble(records)


STRONG_EXTRA = struct.pack("<HHHHHH", 0x0017, 8, 2, 0x660E, 128, 1)
"""Extra field 0x0017 (APPNOTE 4.5.12): format 2, AES-128 (0x660E), 128 bits, password required."""


def strong_encryption_zip(members: Members = SAMPLE, seed: int = 0) -> bytes:
    """PKWARE strong encryption: flag bits 0 and 6, extra field 0x0017, a decryption header (IV) before
    the data; version needed 5.1."""
    rng = random.Random(seed)
    records = []
    for name, data in members.items():
        payload = (
            struct.pack("<H", 16) + rng.randbytes(16) + rng.randbytes((len(_deflate(data)) // 16 + 1) * 16)
        )
        records.append(
            _Record(name.encode(), 0x0041, 8, zlib.crc32(data), len(data), payload, STRONG_EXTRA, 51)
        )
    return _assemble(records)


def encrypted_directory_zip(members: Members = SAMPLE, seed: int = 0) -> bytes:
    """Central directory encryption (APPNOTE 7.3): local headers masked (flag bit 13, names replaced by
    numbers, CRC and size zero), then the archive decryption header, the archive extra data record
    (``PK\\x06\\x08``) and the encrypted directory, found through a version 2 zip64 end record."""
    rng = random.Random(seed)
    out = bytearray()
    for index, data in enumerate(members.values(), 1):
        name = f"{index:08X}".encode()
        payload = (
            struct.pack("<H", 16) + rng.randbytes(16) + rng.randbytes((len(_deflate(data)) // 16 + 1) * 16)
        )
        out += LOCAL.pack(
            b"PK\x03\x04", 62, 0x2041, 8, 0, 0, 0, len(payload), 0, len(name), len(STRONG_EXTRA)
        )
        out += name + STRONG_EXTRA + payload
    directory_at = len(out)
    out += struct.pack("<H", 16) + rng.randbytes(16) + rng.randbytes(48)  # archive decryption header
    out += b"PK\x06\x08" + struct.pack("<I", len(STRONG_EXTRA)) + STRONG_EXTRA
    out += rng.randbytes(64 * len(members))  # the central directory, encrypted
    directory_size = len(out) - directory_at
    record_at = len(out)
    version2 = struct.pack("<HQQHHHHH", 8, directory_size, directory_size, 0x660E, 128, 1, 0x8004, 0)
    out += (
        struct.pack(
            "<4sQHHIIQQQQ",
            b"PK\x06\x06",
            44 + len(version2),
            0x033E,
            62,
            0,
            0,
            len(members),
            len(members),
            directory_size,
            directory_at,
        )
        + version2
    )
    out += struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    out += END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


class _Noise:
    """Stands in for Cryptodome's ``Random`` while pyzipper writes (``Random.new().read(n)``)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def new(self) -> _Noise:
        return self

    def read(self, size: int) -> bytes:
        return self.rng.randbytes(size)


_SEEDING = threading.Lock()


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """py7zr and pyzipper draw salts, IVs and timestamps from the system; for repeatable bytes they draw
    from a seeded generator and a fixed clock while a builder runs (one builder at a time)."""
    rng = random.Random(seed)
    stamp = py7zr.helpers.ArchiveTimestamp
    patches: list[tuple[Any, str, Any]] = [
        (py7zr.compressor, "get_random_bytes", rng.randbytes),
        (stamp, "from_now", classmethod(lambda cls: stamp.from_datetime(_TIMESTAMP))),
        (pyzipper.zipfile_aes, "Random", _Noise(rng)),
    ]
    with _SEEDING:
        saved = [(target, name, vars(target)[name]) for target, name, _ in patches]
        for target, name, value in patches:
            setattr(target, name, value)
        try:
            yield
        finally:
            for target, name, value in saved:
                setattr(target, name, value)


_TIMESTAMP = datetime(*DATE, tzinfo=UTC).timestamp()


def aes_zip(members: Members = SAMPLE, password: str = PASSWORD, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    with (
        _seeded(seed),
        pyzipper.AESZipFile(
            buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
        ) as archive,
    ):
        archive.setpassword(password.encode())
        for name, data in members.items():
            archive.writestr(archive.zipinfo_cls(name, DATE), data, pyzipper.ZIP_DEFLATED)
    return buffer.getvalue()


def as_zip64(archive: bytes) -> bytes:
    """``archive`` with its end record in zip64 form (the zip64 end record and locator, and 0xFFFF...
    in the classic record), as writers do past 65 535 members or 4 GiB."""
    end = archive.rfind(b"PK\x05\x06")
    _, _, _, _, count, size, offset, _ = END.unpack_from(archive, end)
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 0x032D, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    classic = END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return archive[:end] + record + locator + classic


# 7z ------------------------------------------------------------------------------------------------


def plain_7z(members: Members = SAMPLE) -> bytes:
    return _sevenzip(members, None, headers=False, seed=0)


def encrypted_7z(
    members: Members = SAMPLE, password: str = PASSWORD, *, headers: bool = False, seed: int = 0
) -> bytes:
    """7zAES data; with ``headers`` the file list too (``7z a -mhe=on``)."""
    return _sevenzip(members, password, headers=headers, seed=seed)


def _sevenzip(members: Members, password: str | None, *, headers: bool, seed: int) -> bytes:
    buffer = io.BytesIO()
    with (
        _seeded(seed),
        py7zr.SevenZipFile(buffer, "w", password=password, header_encryption=headers) as archive,
    ):
        for name, data in members.items():
            archive.writestr(data, name)
    return buffer.getvalue()


# gzip, tar, nesting ---------------------------------------------------------------------------------


def gzip_of(data: bytes, name: str = "") -> bytes:
    """``gzip`` output with the original name in the header (``FNAME``) when given, mtime 0."""
    flags = 0x08 if name else 0
    header = b"\x1f\x8b\x08" + bytes([flags]) + bytes(4) + b"\x00\xff"
    if name:
        header += name.encode("latin-1", "replace") + b"\x00"
    return header + _deflate(data) + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def tar_gz(members: Members = SAMPLE) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1711962000
            archive.addfile(info, io.BytesIO(data))
    return gzip_of(buffer.getvalue())


WRAPPERS = {
    "zip": (plain_zip, ".zip"),
    "7z": (plain_7z, ".7z"),
    "tar.gz": (tar_gz, ".tar.gz"),
    "rar4": (rar4, ".rar"),
    "rar5": (rar5, ".rar"),
}


def nest(data: bytes, name: str, *formats: str) -> tuple[bytes, str]:
    """``data`` (called ``name``) wrapped in each format in turn, innermost first: ``zip``, ``7z``,
    ``tar.gz``, ``rar4``, ``rar5`` (stored members) or ``gz``. Returns the outermost bytes and name."""
    for wrapper in formats:
        if wrapper == "gz":
            data, name = gzip_of(data, name), f"{name}.gz"
            continue
        build, suffix = WRAPPERS[wrapper]
        data, name = build({name: data}), f"{name}{suffix}"
    return data, name
