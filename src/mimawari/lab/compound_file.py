"""A small writer of OLE2 compound files ([MS-CFB] version 3), for the lab's Office documents.

Only what the lab needs: streams at the root, no storages. Streams under 4096 bytes go to the mini
stream, the others to 512-byte sectors, as the format requires; no timestamps or class ids, so the same
streams always give the same bytes. olefile and msoffcrypto-tool open what it writes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STREAM, ROOT = 2, 5


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\0" * (-len(data) % size)


def _chain(first: int, count: int) -> list[int]:
    """FAT (or mini FAT) entries of ``count`` consecutive sectors from ``first``."""
    return [first + i + 1 for i in range(count - 1)] + [END_OF_CHAIN] if count else []


def _entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0"
    if len(encoded) > 64:
        raise ValueError(f"stream name too long for a compound file: {name!r}")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded),
        kind,
        1,  # black: a tree with every node black and all on the right is still a valid search tree
        NO_STREAM,
        right,
        child,
        b"",
        0,
        0,
        0,
        start,
        size,
    )


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """An OLE2 file holding ``streams`` (name → bytes) at its root."""
    # Siblings are ordered as [MS-CFB] 2.6.4 compares names: shorter first, then by upper case.
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    mini = [n for n in names if 0 < len(streams[n]) < MINI_CUTOFF]
    big = [n for n in names if len(streams[n]) >= MINI_CUTOFF]

    mini_stream = b""
    minifat: list[int] = []
    starts: dict[str, int] = {}
    for name in mini:
        starts[name] = len(mini_stream) // MINI_SECTOR
        count = -(-len(streams[name]) // MINI_SECTOR)
        minifat += _chain(starts[name], count)
        mini_stream += _pad(streams[name], MINI_SECTOR)

    directory_sectors = -(-(len(names) + 1) // (SECTOR // 128))
    minifat_sectors = -(-len(minifat) * 4 // SECTOR)
    container_sectors = -(-len(mini_stream) // SECTOR)
    big_sectors = [-(-len(streams[n]) // SECTOR) for n in big]
    payload = directory_sectors + minifat_sectors + container_sectors + sum(big_sectors)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + payload:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("too large for a compound file without DIFAT sectors (about 7 MB)")

    fat = [FAT_SECTOR] * fat_sectors
    directory_start = len(fat)
    fat += _chain(directory_start, directory_sectors)
    minifat_start = len(fat) if minifat_sectors else END_OF_CHAIN
    fat += _chain(len(fat), minifat_sectors)
    container_start = len(fat) if container_sectors else END_OF_CHAIN
    fat += _chain(len(fat), container_sectors)
    for name, count in zip(big, big_sectors, strict=True):
        starts[name] = len(fat)
        fat += _chain(len(fat), count)
    fat += [FREE] * (-len(fat) % (SECTOR // 4))

    index = {name: i + 1 for i, name in enumerate(names)}
    entries = [
        _entry(
            "Root Entry",
            ROOT,
            index[names[0]] if names else NO_STREAM,
            NO_STREAM,
            container_start,
            len(mini_stream),
        )
    ]
    for i, name in enumerate(names):
        right = index[names[i + 1]] if i + 1 < len(names) else NO_STREAM
        start = starts.get(name, END_OF_CHAIN)
        entries.append(_entry(name, STREAM, NO_STREAM, right, start, len(streams[name])))
    empty = struct.pack("<64sHBBIII", b"", 0, 0, 0, NO_STREAM, NO_STREAM, NO_STREAM) + b"\0" * 48

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        SIGNATURE,
        b"",
        0x003E,
        3,
        0xFFFE,
        9,
        6,
        b"",
        0,
        fat_sectors,
        directory_start,
        0,
        MINI_CUTOFF,
        minifat_start,
        minifat_sectors,
        END_OF_CHAIN,
        0,
    )
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header += struct.pack("<109I", *difat)
    body = [
        struct.pack(f"<{len(fat)}I", *fat),
        _pad(b"".join(entries) + empty * (directory_sectors * 4 - len(entries)), SECTOR),
        _pad(struct.pack(f"<{len(minifat)}I", *minifat), SECTOR) if minifat else b"",
        _pad(mini_stream, SECTOR),
        *(_pad(streams[name], SECTOR) for name in big),
    ]
    return header + b"".join(body)
