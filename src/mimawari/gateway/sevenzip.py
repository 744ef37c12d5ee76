"""7z: encrypted data or encrypted headers, from the archive's own header (7zFormat.txt).

The signature header points at the next header, either a plain ``Header`` or an ``EncodedHeader`` (the
header, compressed and perhaps encrypted, described by a streams-info block). A coder with method id
``06F10701`` (7zAES: AES-256 with a SHA-256 key) in the encoded header's folder means the file list itself
is encrypted (``7z -mhe``); in a data folder, that folder's files are encrypted. Neither needs any
decryption. A non-encrypted compressed header is decoded here with ``lzma`` to reach the file list;
unencrypted members are decompressed (LZMA, LZMA2, the branch filters, delta, deflate, bzip2, copy, in
simple chains) only as far as their first bytes say they matter. BCJ2 and other multi-stream coders are
not decoded: their members are undecidable.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from collections.abc import Iterator
from typing import Any

from mimawari.gateway.budgets import MessageBudgetExceeded, Meter
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
    read_exactly,
    take,
)
from mimawari.gateway.sevenzip_header import (
    ADDITIONAL_STREAMS,
    ARCHIVE_PROPERTIES,
    ENCODED_HEADER,
    END,
    FILES,
    HEADER,
    MAIN_STREAMS,
    Coder,
    Cursor,
    Folder,
    Streams,
    read_files,
    read_streams,
)
from mimawari.gateway.verdict import Kind, Undecidable

SIGNATURE_HEADER = struct.Struct("<6sBBIQQI")
MAX_HEADER = 64 * 1024 * 1024
MAX_DICTIONARY = 256 * 1024 * 1024
BRANCH_FILTERS = {
    b"\x03\x03\x01\x03": lzma.FILTER_X86,
    b"\x03\x03\x02\x05": lzma.FILTER_POWERPC,
    b"\x03\x03\x04\x01": lzma.FILTER_IA64,
    b"\x03\x03\x05\x01": lzma.FILTER_ARM,
    b"\x03\x03\x07\x01": lzma.FILTER_ARMTHUMB,
    b"\x03\x03\x08\x05": lzma.FILTER_SPARC,
}


def _chain(folder: Folder) -> list[Coder] | None:
    """The coders from the folder's output back to its packed stream, when each has one input and one
    output (stream ``i`` is coder ``i``'s): the order ``lzma`` wants its filters in."""
    coders = folder.coders
    if not all(c.inputs == c.outputs == 1 for c in coders) or len(folder.packed) != 1:
        return None
    feeds = dict(folder.bindings)  # the coder whose input is bound -> the coder whose output feeds it
    bound = set(feeds.values())
    main = [index for index in range(len(coders)) if index not in bound]
    if len(main) != 1:
        return None
    path = [main[0]]
    while path[-1] in feeds and len(path) <= len(coders):
        path.append(feeds[path[-1]])
    if len(path) != len(coders) or path[-1] != folder.packed[0] or len(set(path)) != len(path):
        return None
    return [coders[index] for index in path]


def _decoder(folder: Folder, packed: memoryview) -> Stream:
    """A stream of the folder's output: one ``lzma`` filter chain, or a lone deflate, bzip2 or copy."""
    chain = _chain(folder)
    methods = [coder.method for coder in chain or () if coder.method != b"\x00"]
    if chain is not None and methods == [b"\x04\x01\x08"]:
        return Inflating(packed, -15)
    if chain is not None and methods == [b"\x04\x02\x02"]:
        return Decompressing(packed, bz2.BZ2Decompressor())
    if chain is not None and not methods:
        return Stored(packed)
    size = min(max(folder.unpack_sizes, default=0), MAX_DICTIONARY)
    known = [_filter(coder, size) for coder in chain or () if coder.method != b"\x00"]
    filters = [f for f in known if f is not None]
    if (
        len(filters) != len(known)
        or not filters
        or filters[-1]["id"] not in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2)
    ):
        names = "+".join(coder.method.hex() for coder in folder.coders)
        raise Undecidable(f"7z coders {names} not supported: contents not inspected")
    try:
        return Decompressing(packed, lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters))
    except (lzma.LZMAError, ValueError):
        raise Undecidable("7z coder properties invalid") from None


def _filter(coder: Coder, size: int) -> dict[str, Any] | None:
    """The ``lzma`` filter for a coder; the dictionary no larger than the output (``size``), since a
    declared 4 GiB dictionary is memory the decoder would reserve for nothing."""
    properties = coder.properties
    if coder.method == b"\x03\x01\x01" and len(properties) >= 5:
        (dictionary,) = struct.unpack_from("<I", properties, 1)
        first = properties[0]
        return {
            "id": lzma.FILTER_LZMA1,
            "lc": first % 9,
            "lp": (first // 9) % 5,
            "pb": first // 45,
            "dict_size": max(4096, min(dictionary, size)),
        }
    if coder.method == b"\x21" and len(properties) >= 1 and properties[0] <= 40:
        bits = properties[0]
        dictionary = 0xFFFFFFFF if bits == 40 else (2 | (bits & 1)) << (bits // 2 + 11)
        return {"id": lzma.FILTER_LZMA2, "dict_size": max(4096, min(dictionary, size))}
    if coder.method == b"\x03" and len(properties) >= 1:
        return {"id": lzma.FILTER_DELTA, "dist": properties[0] + 1}
    if coder.method in BRANCH_FILTERS:
        return {"id": BRANCH_FILTERS[coder.method]}
    return None


def _pack_offsets(streams: Streams, length: int) -> list[tuple[int, int]]:
    """Where each folder's (single) packed stream lies in the archive: (start, size)."""
    start = SIGNATURE_HEADER.size + streams.pack_position
    offsets = []
    index = 0
    for folder in streams.folders:
        if len(folder.packed) != 1 or index >= len(streams.pack_sizes):
            offsets.append((-1, 0))
            index += len(folder.packed)
            continue
        size = streams.pack_sizes[index]
        offsets.append((start, size))
        start += sum(streams.pack_sizes[index : index + len(folder.packed)])
        index += len(folder.packed)
    if start > length:
        raise Undecidable("7z archive truncated")
    return offsets


def _header(data: memoryview, meter: Meter) -> tuple[Cursor, Streams] | None:
    """The plain header (decoded when it was encoded), or ``None`` when it is encrypted."""
    if len(data) < SIGNATURE_HEADER.size:
        raise Undecidable("7z archive truncated")
    _, _, _, start_crc, offset, size, crc = SIGNATURE_HEADER.unpack_from(data, 0)
    if zlib.crc32(data[12:32]) != start_crc:
        raise Undecidable("7z start header damaged (CRC mismatch)")
    begin = SIGNATURE_HEADER.size + offset
    if size > MAX_HEADER or begin + size > len(data):
        raise Undecidable("7z archive truncated (header beyond the end)")
    raw = data[begin : begin + size]
    if zlib.crc32(raw) != crc:
        raise Undecidable("7z header damaged (CRC mismatch)")
    header = bytes(raw)
    for _ in range(4):
        cursor = Cursor(header)
        kind = cursor.byte()
        if kind == HEADER:
            return cursor, Streams()
        if kind != ENCODED_HEADER:
            raise Undecidable("7z header damaged")
        encoded = read_streams(cursor)
        if any(folder.encrypted for folder in encoded.folders):
            return None
        if not encoded.folders:
            raise Undecidable("7z encoded header damaged")
        (start, packed), folder = _pack_offsets(encoded, len(data))[0], encoded.folders[0]
        if start < 0 or folder.size > MAX_HEADER:
            raise Undecidable("7z encoded header not supported")
        header = read_exactly(_decoder(folder, data[start : start + packed]), folder.size, meter)
        if len(header) != folder.size:
            raise Undecidable("7z encoded header truncated")
    raise Undecidable("7z header encoded too many times")


def read_7z(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    if len(data) >= SIGNATURE_HEADER.size and not any(data[12:32]):
        return  # an empty archive: no header at all
    header = _header(data, meter)
    if header is None:
        yield Found("", Kind.SEVENZIP_HEADERS, "file list encrypted")
        return
    cursor, streams = header
    names: list[str] = []
    empty: list[bool] = []
    kind = cursor.byte()
    if kind == ARCHIVE_PROPERTIES:
        while cursor.byte() != END:
            cursor.take(cursor.number())
        kind = cursor.byte()
    if kind == ADDITIONAL_STREAMS:
        read_streams(cursor)
        kind = cursor.byte()
    if kind == MAIN_STREAMS:
        streams = read_streams(cursor)
        kind = cursor.byte()
    if kind == FILES:
        names, empty = read_files(cursor, meter)
        kind = cursor.byte()
    if kind != END:
        raise Undecidable("7z header damaged")
    yield from _members(data, streams, [n for n, e in zip(names, empty, strict=True) if not e], meter, want)


def _members(
    data: memoryview, streams: Streams, names: list[str], meter: Meter, want: Want
) -> Iterator[Entry]:
    sizes = streams.member_sizes or [[folder.size] for folder in streams.folders]
    offsets = _pack_offsets(streams, len(data))
    position = 0
    for folder, members, (start, packed) in zip(streams.folders, sizes, offsets, strict=True):
        folder_names = names[position : position + len(members)]
        folder_names += [f"#{position + index}" for index in range(len(folder_names), len(members))]
        position += len(members)
        meter.check_time()
        if folder.encrypted:
            for name in folder_names:
                yield Found(name, Kind.SEVENZIP, "data encrypted")
            continue
        done = 0
        try:
            for entry in _folder_members(data, folder, members, folder_names, start, packed, meter, want):
                done += 1
                yield entry
        except MessageBudgetExceeded:
            raise
        except Undecidable as exc:
            for name in folder_names[done:]:  # the member being read, and those behind it in the block
                yield Unread(name, str(exc))


def _folder_members(
    data: memoryview,
    folder: Folder,
    sizes: list[int],
    names: list[str],
    start: int,
    packed: int,
    meter: Meter,
    want: Want,
) -> Iterator[Entry]:
    if start < 0:
        raise Undecidable("7z folder with several packed streams: contents not inspected")
    if folder.size > meter.budgets.ratio_floor and folder.size > meter.budgets.max_ratio * max(packed, 1):
        raise Undecidable(
            f"compression ratio over {meter.budgets.max_ratio}:1 ({folder.size} bytes from {packed})"
        )
    stream = _decoder(folder, data[start : start + packed])
    for index, (name, size) in enumerate(zip(names, sizes, strict=True)):
        last = index == len(sizes) - 1
        yield Contents(name, take(stream, meter, want, packed, size, drain=not last) if size else None)
