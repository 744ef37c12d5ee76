"""A reader for OLE2 compound files ([MS-CFB]), only as far as the gateway needs: the streams at the root.

The gateway reads hostile files, so this is written for that rather than taken from olefile: every
sector number is checked against the file, every chain against cycles (a chain can never be longer than
the FAT has entries), the directory walk against loops, and anything that does not add up raises
``Undecidable`` with a one-line reason, never another exception. Work is linear in the file's size.

A last sector cut short is accepted (several writers do not pad the file), a sector that starts past the
end of the file is not: the file was truncated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from mimawari.gateway.verdict import Undecidable

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_REGULAR_SECTOR = 0xFFFFFFFA
END_OF_CHAIN = 0xFFFFFFFE
FREE_SECTOR = 0xFFFFFFFF
NO_STREAM = 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5


@dataclass(frozen=True)
class Entry:
    """One directory entry ([MS-CFB] 2.6)."""

    name: str
    kind: int
    left: int
    right: int
    child: int
    start: int
    size: int


class CompoundFile:
    """The parsed header, FAT, mini FAT and directory of a compound file held in memory."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise Undecidable(f"OLE2 compound file truncated: {len(data)} bytes, shorter than its header")
        if not data.startswith(SIGNATURE):
            raise Undecidable("not an OLE2 compound file (no D0 CF 11 E0 signature)")
        self.data = data
        (major, byte_order, sector_shift, mini_shift) = struct.unpack_from("<HHHH", data, 26)
        if byte_order != 0xFFFE:
            raise Undecidable(f"OLE2 header: byte order mark {byte_order:#06x}, not 0xFFFE")
        if (major, sector_shift) not in ((3, 9), (4, 12)):
            raise Undecidable(f"OLE2 header: version {major} with sector size 2^{sector_shift}")
        if mini_shift != 6:
            raise Undecidable(f"OLE2 header: mini sector size 2^{mini_shift}, not 64")
        self.sector_size = 1 << sector_shift
        self.sectors = max(0, (len(data) - 1) // self.sector_size)
        """How many sectors start inside the file after the header (the last may be short)."""
        fat_sectors, first_dir = struct.unpack_from("<II", data, 44)
        self.mini_cutoff, first_minifat, minifat_sectors, first_difat, difat_sectors = struct.unpack_from(
            "<IIIII", data, 56
        )
        self.fat = self._read_fat(fat_sectors, first_difat, difat_sectors)
        self.minifat = self._read_table(self._chain(first_minifat), minifat_sectors, "mini FAT")
        self.entries = self._read_directory(first_dir)
        root = self.entries[0]
        if root.kind != ROOT:
            raise Undecidable("OLE2 directory: the first entry is not the root")
        self.mini_stream = self._read_chain(root.start, root.size, "the mini stream") if root.size else b""

    # --- sectors and chains -------------------------------------------------------------------------

    def _sector(self, number: int) -> bytes:
        if number >= self.sectors:
            raise Undecidable(f"OLE2 truncated: sector {number} lies past the end of the file")
        start = (number + 1) * self.sector_size
        return self.data[start : start + self.sector_size]

    def _chain(self, start: int) -> list[int]:
        """The sector numbers of the chain from ``start``; no chain for ``END_OF_CHAIN``/free."""
        chain: list[int] = []
        sector = start
        limit = len(self.fat)
        while sector not in (END_OF_CHAIN, FREE_SECTOR):
            if sector > MAX_REGULAR_SECTOR or sector >= limit:
                raise Undecidable(f"OLE2 chain points to sector {sector:#x}, outside the FAT")
            if len(chain) >= limit:
                raise Undecidable("OLE2 sector chain loops (longer than the FAT)")
            chain.append(sector)
            sector = self.fat[sector]
        return chain

    def _read_fat(self, fat_sectors: int, first_difat: int, difat_sectors: int) -> tuple[int, ...]:
        per_sector = self.sector_size // 4
        if fat_sectors > self.sectors + 1:
            raise Undecidable(f"OLE2 header claims {fat_sectors} FAT sectors in a file of {self.sectors}")
        locations = list(struct.unpack_from("<109I", self.data, 76))
        sector, seen = first_difat, 0
        while len(locations) < fat_sectors and sector not in (END_OF_CHAIN, FREE_SECTOR):
            seen += 1
            if seen > difat_sectors or seen > self.sectors:
                raise Undecidable("OLE2 DIFAT chain loops or is longer than the header says")
            block = struct.unpack(f"<{per_sector}I", self._sector(sector).ljust(self.sector_size, b"\xff"))
            locations.extend(block[:-1])
            sector = block[-1]
        if len(locations) < fat_sectors:
            raise Undecidable("OLE2 DIFAT ends before listing every FAT sector")
        fat: list[int] = []
        for location in locations[:fat_sectors]:
            if location > MAX_REGULAR_SECTOR:
                raise Undecidable(f"OLE2 FAT sector number {location:#x} is not a sector")
            fat.extend(
                struct.unpack(f"<{per_sector}I", self._sector(location).ljust(self.sector_size, b"\xff"))
            )
        return tuple(fat)

    def _read_table(self, chain: list[int], expected: int, what: str) -> tuple[int, ...]:
        if len(chain) < expected:
            raise Undecidable(f"OLE2 {what} chain has {len(chain)} sectors, the header says {expected}")
        raw = b"".join(self._sector(s).ljust(self.sector_size, b"\xff") for s in chain)
        return struct.unpack(f"<{len(raw) // 4}I", raw)

    def _read_chain(self, start: int, size: int, what: str) -> bytes:
        chain = self._chain(start)
        if size > len(chain) * self.sector_size:
            raise Undecidable(f"OLE2 {what} is shorter than its size of {size} bytes")
        needed = -(-size // self.sector_size)
        raw = b"".join(self._sector(s) for s in chain[:needed])
        if len(raw) < size:
            raise Undecidable(f"OLE2 truncated inside {what}")
        return raw[:size]

    def _read_mini(self, start: int, size: int, name: str) -> bytes:
        pieces: list[bytes] = []
        sector, count = start, 0
        needed = -(-size // 64)
        while count < needed:
            if sector >= len(self.minifat) or sector > MAX_REGULAR_SECTOR:
                raise Undecidable(f"OLE2 stream {name!r}: mini sector {sector:#x} outside the mini FAT")
            piece = self.mini_stream[sector * 64 : sector * 64 + 64]
            if len(piece) < 64 and count < needed - 1:
                raise Undecidable(f"OLE2 stream {name!r} runs past the end of the mini stream")
            pieces.append(piece)
            count += 1
            sector = self.minifat[sector]
        raw = b"".join(pieces)
        if len(raw) < size:
            raise Undecidable(f"OLE2 stream {name!r} runs past the end of the mini stream")
        return raw[:size]

    # --- directory ----------------------------------------------------------------------------------

    def _read_directory(self, first: int) -> tuple[Entry, ...]:
        raw = b"".join(self._sector(s).ljust(self.sector_size, b"\0") for s in self._chain(first))
        if len(raw) < 128:
            raise Undecidable("OLE2 directory is empty")
        entries: list[Entry] = []
        for offset in range(0, len(raw) - 127, 128):
            name_bytes, length, kind, left, right, child = struct.unpack_from("<64sHBxIII", raw, offset)
            start, size_low, size_high = struct.unpack_from("<III", raw, offset + 116)
            length = min(max(length - 2, 0), 62)
            name = name_bytes[:length].decode("utf-16-le", errors="replace")
            size = size_low if self.sector_size == 512 else size_low | size_high << 32
            entries.append(Entry(name, kind, left, right, child, start, size))
        return tuple(entries)

    def root_streams(self) -> dict[str, Entry]:
        """The streams and storages directly under the root, by case-folded name (names in a compound
        file compare case-insensitively). The red-black tree is walked with a visited set: a hostile
        directory whose siblings point back up ends the walk instead of looping."""
        found: dict[str, Entry] = {}
        pending, seen = [self.entries[0].child], set[int]()
        while pending:
            index = pending.pop()
            if index == NO_STREAM or index in seen:
                continue
            if index >= len(self.entries):
                raise Undecidable(f"OLE2 directory entry {index} points outside the directory")
            seen.add(index)
            entry = self.entries[index]
            if entry.kind in (STORAGE, STREAM):
                found.setdefault(entry.name.casefold(), entry)
            pending += (entry.left, entry.right)
        return found

    def read(self, entry: Entry) -> bytes:
        """A stream's bytes: from the mini stream below the cut-off, else from the FAT's chain."""
        if entry.kind != STREAM:
            raise Undecidable(f"OLE2 entry {entry.name!r} is not a stream")
        if entry.size > len(self.data):
            raise Undecidable(f"OLE2 stream {entry.name!r} claims {entry.size} bytes, more than the file")
        if entry.size == 0:
            return b""
        if entry.size < self.mini_cutoff:
            return self._read_mini(entry.start, entry.size, entry.name)
        return self._read_chain(entry.start, entry.size, f"stream {entry.name!r}")
