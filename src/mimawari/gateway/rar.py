"""RAR 4 and RAR 5: encrypted files and encrypted headers, from the block headers (RARLAB's technote).

RAR 4: blocks of ``HEAD_CRC HEAD_TYPE HEAD_FLAGS HEAD_SIZE``; the archive header (0x73) with flag 0x0080
means every later block header is encrypted (``rar -hp``); a file header (0x74) with flag 0x0004 is an
encrypted file. RAR 5: headers of ``CRC32, size, type, flags`` in vints; an archive encryption header
(type 4) right after the signature means encrypted headers; a file extra record of type 0x01 is an
encrypted file (also reported for service headers, which can carry streams).

Choice: RAR's compression is proprietary and has no permissive decoder (ClamAV's
Debian build cannot read RAR at all). A member *stored* uncompressed (RAR 4 method 0x30, RAR 5 method 0)
is read and inspected like any other; a *compressed* member of an archive that is not encrypted is an
undecided part, "RAR compressed member: contents not inspected": it may hold an encrypted archive, and
saying "clean" would be a guess. Header CRCs are checked: a damaged header is undecidable, not skipped.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from mimawari.gateway.budgets import MessageBudgetExceeded, Meter
from mimawari.gateway.magic import RAR4, RAR5
from mimawari.gateway.members import Contents, Entry, Found, Stored, Unread, Want, take
from mimawari.gateway.verdict import Kind, Undecidable

COMPRESSED = "RAR compressed member: contents not inspected"
SPLIT = "member split across volumes: contents not inspected"

# RAR 4
BLOCK = struct.Struct("<HBHH")
FILE4 = struct.Struct("<IIBIIBBHI")
MAIN_HEAD, FILE_HEAD, NEWSUB_HEAD, END_ARCHIVE = 0x73, 0x74, 0x7A, 0x7B
MHD_PASSWORD = 0x0080
LHD_SPLIT = 0x0003
LHD_PASSWORD = 0x0004
LHD_DIRECTORY = 0x00E0
LHD_LARGE = 0x0100
LHD_UNICODE = 0x0200
LONG_BLOCK = 0x8000
STORED4 = 0x30

# RAR 5
ENCRYPTION_HEADER, FILE_HEADER, SERVICE_HEADER, END_HEADER = 4, 2, 3, 5
HAS_EXTRA, HAS_DATA, SPLIT_BEFORE, SPLIT_AFTER = 0x01, 0x02, 0x08, 0x10
FILE_ENCRYPTION_RECORD = 0x01


def _stored(
    data: memoryview, start: int, packed: int, size: int, name: str, meter: Meter, want: Want
) -> Entry:
    if start + packed > len(data):
        return Unread(name, "member data truncated")
    try:
        return Contents(
            name, take(Stored(data[start : start + min(packed, size)]), meter, want, packed, size)
        )
    except MessageBudgetExceeded:
        raise
    except Undecidable as exc:
        return Unread(name, str(exc))


def read_rar4(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    position = len(RAR4)
    count = 0
    while position + BLOCK.size <= len(data):
        crc, kind, flags, size = BLOCK.unpack_from(data, position)
        if size < BLOCK.size or position + size > len(data):
            raise Undecidable("RAR block header truncated or damaged")
        if zlib.crc32(data[position + 2 : position + size]) & 0xFFFF != crc:
            raise Undecidable("RAR block header damaged (CRC mismatch)")
        added = 0
        if kind in (FILE_HEAD, NEWSUB_HEAD) or flags & LONG_BLOCK:
            if size < BLOCK.size + 4:
                raise Undecidable("RAR block header damaged")
            (added,) = struct.unpack_from("<I", data, position + BLOCK.size)
        if kind == MAIN_HEAD and flags & MHD_PASSWORD:
            yield Found("", Kind.RAR4_HEADERS, "block headers encrypted")
            return
        if kind == FILE_HEAD:
            count += 1
            meter.check_members(count)
            meter.check_time()
            added, entry = _file4(data, position, flags, size, meter, want)
            if entry is not None:
                yield entry
        elif kind == END_ARCHIVE:
            return
        position += size + added
    raise Undecidable("RAR archive truncated (no end-of-archive block)")


def _file4(
    data: memoryview, position: int, flags: int, size: int, meter: Meter, want: Want
) -> tuple[int, Entry | None]:
    fields_at = position + BLOCK.size
    if size < BLOCK.size + FILE4.size:
        raise Undecidable("RAR file header damaged")
    packed, unpacked, _, _, _, _, method, name_length, _ = FILE4.unpack_from(data, fields_at)
    name_at = fields_at + FILE4.size
    if flags & LHD_LARGE:
        high_packed, high_unpacked = struct.unpack_from("<II", data, name_at)
        packed |= high_packed << 32
        unpacked |= high_unpacked << 32
        name_at += 8
    raw_name = bytes(data[name_at : min(name_at + name_length, position + size)])
    if flags & LHD_UNICODE and b"\x00" in raw_name:
        raw_name = raw_name.split(b"\x00", 1)[0]  # the encoded Unicode form follows; the OEM form suffices
    name = raw_name.decode("utf-8" if flags & LHD_UNICODE else "cp437", "replace").replace("\\", "/")
    if flags & LHD_PASSWORD:
        return packed, Found(name, Kind.RAR4)
    if flags & LHD_DIRECTORY == LHD_DIRECTORY or unpacked == 0:
        return packed, None
    if flags & LHD_SPLIT:
        return packed, Unread(name, SPLIT)
    if method != STORED4:
        return packed, Unread(name, COMPRESSED)
    return packed, _stored(data, position + size, packed, unpacked, name, meter, want)


def _vint(data: memoryview, position: int) -> tuple[int, int]:
    value = 0
    for index in range(10):
        if position + index >= len(data):
            raise Undecidable("RAR 5 header truncated")
        byte = data[position + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, position + index + 1
    raise Undecidable("RAR 5 header damaged (number too long)")


def read_rar5(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    position = len(RAR5)
    count = 0
    while position + 4 < len(data):
        (crc,) = struct.unpack_from("<I", data, position)
        size, cursor = _vint(data, position + 4)
        end = cursor + size
        if size == 0 or end > len(data):
            raise Undecidable("RAR 5 header truncated or damaged")
        if zlib.crc32(data[position + 4 : end]) != crc:
            raise Undecidable("RAR 5 header damaged (CRC mismatch)")
        kind, cursor = _vint(data, cursor)
        flags, cursor = _vint(data, cursor)
        extra = data_size = 0
        if flags & HAS_EXTRA:
            extra, cursor = _vint(data, cursor)
        if flags & HAS_DATA:
            data_size, cursor = _vint(data, cursor)
        if kind == ENCRYPTION_HEADER:
            yield Found("", Kind.RAR5_HEADERS, "headers encrypted")
            return
        if kind in (FILE_HEADER, SERVICE_HEADER):
            count += 1
            meter.check_members(count)
            meter.check_time()
            entry = _file5(data, cursor, end, extra, flags, end, data_size, kind, meter, want)
            if entry is not None:
                yield entry
        elif kind == END_HEADER:
            return
        position = end + data_size
    raise Undecidable("RAR 5 archive truncated (no end-of-archive header)")


def _file5(
    data: memoryview,
    cursor: int,
    end: int,
    extra: int,
    flags: int,
    body: int,
    packed: int,
    kind: int,
    meter: Meter,
    want: Want,
) -> Entry | None:
    file_flags, cursor = _vint(data, cursor)
    unpacked, cursor = _vint(data, cursor)
    _, cursor = _vint(data, cursor)  # attributes
    cursor += 4 * bool(file_flags & 0x02) + 4 * bool(file_flags & 0x04)  # mtime, data CRC32
    compression, cursor = _vint(data, cursor)
    _, cursor = _vint(data, cursor)  # host OS
    name_length, cursor = _vint(data, cursor)
    name = bytes(data[cursor : min(cursor + name_length, end)]).decode("utf-8", "replace")
    if kind == SERVICE_HEADER:
        name = f"(service {name})"
    records = data[max(end - extra, cursor) : end]
    at = 0
    while at < len(records):
        record_size, next_at = _vint(records, at)
        record_type, _ = _vint(records, next_at)
        if record_type == FILE_ENCRYPTION_RECORD:
            return Found(name, Kind.RAR5)
        if record_size == 0:
            break
        at = next_at + record_size
    if kind == SERVICE_HEADER or file_flags & 0x01 or unpacked == 0:
        return None
    if flags & (SPLIT_BEFORE | SPLIT_AFTER):
        return Unread(name, SPLIT)
    if (compression >> 7) & 0x07:
        return Unread(name, COMPRESSED)
    return _stored(data, body, packed, unpacked, name, meter, want)
