"""ZIP: which members are encrypted, and how, from the headers alone (APPNOTE 6.3.10).

Both the central directory and each member's local header are read, and a member counts as encrypted
when either says so: extractors differ in which one they trust, and an attacker picks the one the
scanner skips. Encryption is general-purpose flag bit 0; WinZip AES is method 99 with extra field
0x9901; PKWARE strong encryption is flag bit 6 or extra field 0x0017; central directory encryption is
flag bit 13 (local headers masked), an archive extra data record (``PK\\x06\\x08``) where the directory
should start, or a directory that is missing while the local headers are encrypted. One encrypted member
makes the archive encrypted. Members are decompressed only to look at their first bytes (and wholly only
when those say archive or document), with the budgets checked on the bytes produced.

Not covered: members hidden outside the central directory (only read when the directory is missing),
split archives beyond their first segment (undecidable), Deflate64 and other rare methods (undecidable).
"""

from __future__ import annotations

import bz2
import lzma
import struct
from collections.abc import Iterator

from mimawari.gateway.budgets import MessageBudgetExceeded, Meter
from mimawari.gateway.magic import ZIP_END, ZIP_LOCAL
from mimawari.gateway.members import (
    Contents,
    Decompressing,
    Entry,
    Found,
    Inflating,
    Stored,
    Stream,
    Unread,
    Want,
    take,
)
from mimawari.gateway.verdict import Kind, Undecidable

CENTRAL = b"PK\x01\x02"
ZIP64_END = b"PK\x06\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ARCHIVE_EXTRA = b"PK\x06\x08"
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
END = struct.Struct("<4sHHHHIIH")
ZIP64_END_RECORD = struct.Struct("<4sQHHIIQQQQ")
ENCRYPTED = 0x0001
STRONG = 0x0040
UTF8 = 0x0800
MASKED = 0x2000
AES_METHOD = 99
AES_EXTRA = 0x9901
STRONG_EXTRA = 0x0017
ZIP64_EXTRA = 0x0001
MAX_COMMENT = 0xFFFF
MAX_DICTIONARY = 256 * 1024 * 1024
"""An LZMA dictionary is never larger than the member it decodes, nor than this: no 4 GiB reservations."""


def _extras(extra: memoryview) -> dict[int, memoryview]:
    fields = {}
    position = 0
    while position + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, position)
        fields[tag] = extra[position + 4 : position + 4 + size]
        position += 4 + size
    return fields


def _kind(flags: int, method: int, extras: dict[int, memoryview]) -> Kind | None:
    if method == AES_METHOD or (flags & ENCRYPTED and AES_EXTRA in extras):
        return Kind.ZIP_AES
    if flags & STRONG or STRONG_EXTRA in extras:
        return Kind.ZIP_STRONG
    if flags & MASKED:
        return Kind.ZIP_CENTRAL_DIRECTORY
    if flags & ENCRYPTED:
        return Kind.ZIP_ZIPCRYPTO
    return None


def _name(raw: memoryview, flags: int) -> str:
    return bytes(raw).decode("utf-8" if flags & UTF8 else "cp437", "replace")


def _end(data: memoryview) -> tuple[int, int, int]:
    """(position of the directory's end record, directory offset as recorded, directory size)."""
    tail_start = max(0, len(data) - END.size - MAX_COMMENT)
    position = bytes(data[tail_start:]).rfind(ZIP_END)
    if position < 0:
        raise LookupError
    position += tail_start
    if position + END.size > len(data):
        raise LookupError
    _, disk, _, _, _, size, offset, _ = END.unpack_from(data, position)
    if disk not in (0, 0xFFFF):
        raise Undecidable("split (multi-volume) zip: only one segment attached")
    locator = position - 20
    if (
        (size == 0xFFFFFFFF or offset == 0xFFFFFFFF)
        and locator >= 0
        and data[locator : locator + 4] == ZIP64_LOCATOR
    ):
        (record,) = struct.unpack_from("<Q", data, locator + 8)
        candidates = (record, locator - ZIP64_END_RECORD.size)
        for candidate in candidates:
            if (
                0 <= candidate <= len(data) - ZIP64_END_RECORD.size
                and data[candidate : candidate + 4] == ZIP64_END
            ):
                fields = ZIP64_END_RECORD.unpack_from(data, candidate)
                return candidate, fields[9], fields[8]
        raise Undecidable("zip64 end of central directory record missing")
    return position, offset, size


def _zip64(extras: dict[int, memoryview], usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    field = extras.get(ZIP64_EXTRA)
    if field is None:
        return usize, csize, offset
    values = [usize, csize, offset]
    position = 0
    for index in range(3):
        if values[index] == 0xFFFFFFFF and position + 8 <= len(field):
            (values[index],) = struct.unpack_from("<Q", field, position)
            position += 8
    return values[0], values[1], values[2]


def _stream(method: int, body: memoryview, name: str, size: int) -> Stream | None:
    if method == 0:
        return Stored(body)
    if method == 8:
        return Inflating(body, -15)
    if method == 12:
        return Decompressing(body, bz2.BZ2Decompressor())
    if method == 14 and len(body) >= 9:
        # APPNOTE 5.8.8: LZMA version (2), properties size (2), properties (5: lc/lp/pb, dictionary).
        properties = body[4:9]
        lc_lp_pb = properties[0]
        (dictionary,) = struct.unpack_from("<I", properties, 1)
        lzma1 = {
            "id": lzma.FILTER_LZMA1,
            "lc": lc_lp_pb % 9,
            "lp": (lc_lp_pb // 9) % 5,
            "pb": lc_lp_pb // 45,
            "dict_size": max(4096, min(dictionary, size, MAX_DICTIONARY)),
        }
        try:
            return Decompressing(body[9:], lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1]))
        except lzma.LZMAError:
            raise Undecidable(f"{name}: invalid LZMA properties") from None
    return None


def _local_scan(data: memoryview, meter: Meter) -> Iterator[Entry]:
    """Without a central directory: walk the local headers for encryption flags (a truncated archive)."""
    position = 0
    count = 0
    while position + LOCAL_HEADER.size <= len(data) and data[position : position + 4] == ZIP_LOCAL:
        count += 1
        meter.check_members(count)
        _, _, flags, method, _, _, _, csize, _, name_length, extra_length = LOCAL_HEADER.unpack_from(
            data, position
        )
        start = position + LOCAL_HEADER.size
        name = _name(data[start : start + name_length], flags)
        kind = _kind(flags, method, _extras(data[start + name_length : start + name_length + extra_length]))
        if kind is not None:
            yield Found(name, kind, "local header")
        if flags & 0x0008 and csize == 0:
            break  # sizes only in the data descriptor: the next header cannot be found
        position = start + name_length + extra_length + csize
    raise Undecidable("zip central directory not found (truncated or damaged archive)")


def read_zip(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    try:
        end, offset, size = _end(data)
    except LookupError:
        yield from _local_scan(data, meter)
        return
    start = end - size
    shift = start - offset  # bytes prepended to the archive (a self-extractor), usually 0
    if start < 0:
        start, shift = offset, 0
    directory = data[start:end]
    if directory[:4] != CENTRAL and size:
        if ARCHIVE_EXTRA in bytes(directory[:4096]) or (
            data[:4] == ZIP_LOCAL and LOCAL_HEADER.unpack_from(data, 0)[2] & (ENCRYPTED | MASKED)
        ):
            yield Found("", Kind.ZIP_CENTRAL_DIRECTORY, "central directory encrypted")
            return
        yield from _local_scan(data, meter)
        return
    total = 0
    position = 0
    count = 0
    while position + CENTRAL_HEADER.size <= len(directory) and directory[position : position + 4] == CENTRAL:
        count += 1
        meter.check_members(count)
        meter.check_time()
        fields = CENTRAL_HEADER.unpack_from(directory, position)
        flags, method, usize, csize = fields[3], fields[4], fields[9], fields[8]
        name_length, extra_length, comment_length, local = fields[10], fields[11], fields[12], fields[16]
        cursor = position + CENTRAL_HEADER.size
        name = _name(directory[cursor : cursor + name_length], flags)
        extras = _extras(directory[cursor + name_length : cursor + name_length + extra_length])
        position = cursor + name_length + extra_length + comment_length
        usize, csize, local = _zip64(extras, usize, csize, local)
        total += usize
        entry = _member(data, local + shift, name, flags, method, extras, usize, csize, meter, want)
        if entry is not None:
            yield entry
    if count == 0 and size:
        raise Undecidable("zip central directory empty or damaged")
    if total > meter.budgets.ratio_floor and total > meter.budgets.max_ratio * len(data):
        yield Unread("", f"members expand to {total} bytes from {len(data)}: over the ratio limit")


def _member(
    data: memoryview,
    local: int,
    name: str,
    flags: int,
    method: int,
    extras: dict[int, memoryview],
    usize: int,
    csize: int,
    meter: Meter,
    want: Want,
) -> Entry | None:
    if not 0 <= local <= len(data) - LOCAL_HEADER.size or data[local : local + 4] != ZIP_LOCAL:
        kind = _kind(flags, method, extras)
        if kind is not None:
            return Found(name, kind, "central directory")
        return Unread(name, "local header missing (truncated or damaged archive)")
    _, _, local_flags, local_method, _, _, _, _, _, name_length, extra_length = LOCAL_HEADER.unpack_from(
        data, local
    )
    body = local + LOCAL_HEADER.size + name_length + extra_length
    local_extras = _extras(data[local + LOCAL_HEADER.size + name_length : body])
    kind = _kind(flags, method, extras) or _kind(local_flags, local_method, local_extras)
    if kind is not None:
        return Found(name, kind)
    if name.endswith("/") or usize == 0:
        return None
    if body + csize > len(data):
        return Unread(name, "member data truncated")
    if usize > meter.budgets.ratio_floor and usize > meter.budgets.max_ratio * max(csize, 1):
        return Unread(
            name, f"compression ratio over {meter.budgets.max_ratio}:1 ({usize} bytes from {csize})"
        )
    stream = _stream(method, data[body : body + csize], name, usize)
    if stream is None:
        return Unread(name, f"compression method {method} not supported: contents not inspected")
    try:
        return Contents(name, take(stream, meter, want, csize, usize))
    except MessageBudgetExceeded:
        raise
    except Undecidable as exc:
        return Unread(name, str(exc))
