"""RAR 4 and RAR 5 archives for the gateway's tests and corpus, written by hand from RARLAB's technote.

The headers are exact (with correct CRCs); encrypted bytes are seeded noise, since the detector judges
headers, never ciphertext, and a "compressed" member is noise with a compression method set: RAR's
compressor is proprietary.
"""

from __future__ import annotations

import random
import struct
import zlib

from mimawari.lab.attachment_samples import DOS_DATE, DOS_TIME, SAMPLE, Members

RAR4_MARKER = b"Rar!\x1a\x07\x00"
RAR5_SIGNATURE = b"Rar!\x1a\x07\x01\x00"


def _rar4_block(kind: int, flags: int, fields: bytes) -> bytes:
    body = struct.pack("<BHH", kind, flags, 7 + len(fields)) + fields
    return struct.pack("<H", zlib.crc32(body) & 0xFFFF) + body


def _padded(rng: random.Random, size: int) -> bytes:
    return rng.randbytes((size // 16 + 1) * 16)


def rar4(
    members: Members = SAMPLE,
    *,
    encrypted: bool = False,
    encrypted_headers: bool = False,
    compressed: bool = False,
    seed: int = 0,
) -> bytes:
    """A RAR 4 archive (RAR 2.9 format): members stored (method 0x30), or noise marked compressed."""
    rng = random.Random(seed)
    out = bytearray(RAR4_MARKER)
    out += _rar4_block(0x73, 0x0080 if encrypted_headers else 0, bytes(6))
    if encrypted_headers:
        return bytes(out + rng.randbytes(8) + _padded(rng, 40 * len(members) + 64))
    for name, data in members.items():
        raw_name = name.encode()
        payload = _padded(rng, len(data)) if encrypted or compressed else data
        flags = 0x8000 | (0x0004 | 0x0400 if encrypted else 0)
        fields = (
            struct.pack(
                "<IIBIIBBHI",
                len(payload),
                len(data),
                2,
                zlib.crc32(data),
                (DOS_DATE << 16) | DOS_TIME,
                29,
                0x33 if compressed else 0x30,
                len(raw_name),
                0x20,
            )
            + raw_name
            + (rng.randbytes(8) if encrypted else b"")
        )
        out += _rar4_block(0x74, flags, fields) + payload
    out += _rar4_block(0x7B, 0x4000, b"")
    return bytes(out)


def _vint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _rar5_header(kind: int, fields: bytes, extra: bytes = b"", data: bytes | None = None) -> bytes:
    flags = (0x01 if extra else 0) | (0x02 if data is not None else 0)
    body = _vint(kind) + _vint(flags)
    body += (_vint(len(extra)) if extra else b"") + (_vint(len(data)) if data is not None else b"")
    body += fields + extra
    sized = _vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized + (data or b"")


def rar5(
    members: Members = SAMPLE,
    *,
    encrypted: bool = False,
    encrypted_headers: bool = False,
    compressed: bool = False,
    seed: int = 0,
) -> bytes:
    """A RAR 5 archive: members stored (method 0), or noise marked compressed (method 3)."""
    rng = random.Random(seed)
    out = bytearray(RAR5_SIGNATURE)
    if encrypted_headers:
        # Archive encryption header: version 0, password check present, KDF count 15, salt, check value.
        out += _rar5_header(4, _vint(0) + _vint(1) + bytes([15]) + rng.randbytes(16) + rng.randbytes(12))
        return bytes(out + rng.randbytes(16) + _padded(rng, 48 * len(members) + 64))
    out += _rar5_header(1, _vint(0))
    for name, data in members.items():
        raw_name = name.encode()
        payload = _padded(rng, len(data)) if encrypted or compressed else data
        fields = _vint(0x04) + _vint(len(data)) + _vint(0x20) + struct.pack("<I", zlib.crc32(data))
        fields += _vint(3 << 7 if compressed else 0) + _vint(0) + _vint(len(raw_name)) + raw_name
        extra = b""
        if encrypted:
            record = _vint(0x01) + _vint(0) + _vint(0x01) + bytes([15]) + rng.randbytes(16 + 16 + 12)
            extra = _vint(len(record)) + record
        out += _rar5_header(2, fields, extra, payload)
    out += _rar5_header(5, _vint(0))
    return bytes(out)
