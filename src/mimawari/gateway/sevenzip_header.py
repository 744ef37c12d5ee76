"""7z's header structures (7zFormat.txt): the property ids, the coders and folders of a streams-info block,
and a bounded reader of the header's numbers and bit vectors. ``sevenzip`` reads archives with them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mimawari.gateway.budgets import Meter
from mimawari.gateway.verdict import Undecidable

AES = b"\x06\xf1\x07\x01"
"""7zAES (AES-256 with a SHA-256 key derivation)."""
END, HEADER, ARCHIVE_PROPERTIES, ADDITIONAL_STREAMS, MAIN_STREAMS, FILES = 0, 1, 2, 3, 4, 5
PACK_INFO, UNPACK_INFO, SUBSTREAMS, SIZE, CRC, FOLDER, CODERS_UNPACK_SIZE, NUM_UNPACK_STREAM = range(6, 14)
EMPTY_STREAM, NAME, ENCODED_HEADER = 0x0E, 0x11, 0x17


@dataclass
class Coder:
    method: bytes
    inputs: int
    outputs: int
    properties: bytes


@dataclass
class Folder:
    coders: list[Coder]
    bindings: list[tuple[int, int]]
    packed: list[int]
    unpack_sizes: list[int] = field(default_factory=list)
    crc: bool = False

    @property
    def encrypted(self) -> bool:
        return any(coder.method == AES for coder in self.coders)

    @property
    def size(self) -> int:
        bound = {out for _, out in self.bindings}
        main = [size for index, size in enumerate(self.unpack_sizes) if index not in bound]
        return main[0] if main else 0


@dataclass
class Streams:
    pack_position: int = 0
    pack_sizes: list[int] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)
    member_sizes: list[list[int]] | None = None
    """Per folder, the sizes of the files in it (substreams)."""


class Cursor:
    """Reads the header's types: bytes, the variable-length NUMBER, bit vectors."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def byte(self) -> int:
        if self.position >= len(self.data):
            raise Undecidable("7z header truncated")
        value = self.data[self.position]
        self.position += 1
        return value

    def take(self, size: int) -> bytes:
        if size > len(self.data) - self.position:
            raise Undecidable("7z header truncated")
        value = self.data[self.position : self.position + size]
        self.position += size
        return value

    def number(self) -> int:
        first = self.byte()
        mask = 0x80
        value = 0
        for index in range(8):
            if not first & mask:
                return value | ((first & (mask - 1)) << (8 * index))
            value |= self.byte() << (8 * index)
            mask >>= 1
        return value

    def count(self) -> int:
        """A number of items that each take at least one byte: more than the bytes left is a lie."""
        value = self.number()
        if value > len(self.data) - self.position + 1:
            raise Undecidable("7z header damaged (impossible count)")
        return value

    def bits(self, count: int) -> list[bool]:
        raw = self.take((count + 7) // 8)
        return [bool(raw[index // 8] & (0x80 >> (index % 8))) for index in range(count)]

    def digests(self, count: int) -> list[bool]:
        defined = [True] * count if self.byte() else self.bits(count)
        self.take(4 * sum(defined))
        return defined

    def expect(self, kind: int) -> None:
        if self.byte() != kind:
            raise Undecidable("7z header damaged")


def _folder(cursor: Cursor) -> Folder:
    coders = []
    for _ in range(cursor.count()):
        flags = cursor.byte()
        if flags & 0x80:
            raise Undecidable("7z alternative coder methods are not supported")
        method = cursor.take(flags & 0x0F)
        inputs, outputs = (cursor.count(), cursor.count()) if flags & 0x10 else (1, 1)
        properties = cursor.take(cursor.count()) if flags & 0x20 else b""
        coders.append(Coder(method, inputs, outputs, properties))
    outputs = sum(coder.outputs for coder in coders)
    inputs = sum(coder.inputs for coder in coders)
    if not coders or outputs < 1 or inputs < outputs - 1:
        raise Undecidable("7z folder damaged")
    bindings = [(cursor.number(), cursor.number()) for _ in range(outputs - 1)]
    packed_count = inputs - len(bindings)
    if packed_count == 1:
        bound = {index for index, _ in bindings}
        packed = [index for index in range(inputs) if index not in bound][:1]
    else:
        packed = [cursor.number() for _ in range(packed_count)]
    return Folder(coders, bindings, packed)


def _pack_info(cursor: Cursor) -> tuple[int, list[int]]:
    position = cursor.number()
    count = cursor.count()
    sizes: list[int] = []
    while (kind := cursor.byte()) != END:
        if kind == SIZE:
            sizes = [cursor.number() for _ in range(count)]
        elif kind == CRC:
            cursor.digests(count)
        else:
            raise Undecidable("7z pack info damaged")
    return position, sizes


def read_streams(cursor: Cursor) -> Streams:
    streams = Streams()
    while (kind := cursor.byte()) != END:
        if kind == PACK_INFO:
            streams.pack_position, streams.pack_sizes = _pack_info(cursor)
        elif kind == UNPACK_INFO:
            cursor.expect(FOLDER)
            count = cursor.count()
            if cursor.byte():
                raise Undecidable("7z external folder lists are not supported")
            streams.folders = [_folder(cursor) for _ in range(count)]
            cursor.expect(CODERS_UNPACK_SIZE)
            for folder in streams.folders:
                folder.unpack_sizes = [cursor.number() for _ in range(sum(c.outputs for c in folder.coders))]
            while (sub := cursor.byte()) != END:
                if sub != CRC:
                    raise Undecidable("7z unpack info damaged")
                for folder, defined in zip(streams.folders, cursor.digests(count), strict=True):
                    folder.crc = defined
        elif kind == SUBSTREAMS:
            streams.member_sizes = _substreams(cursor, streams.folders)
        else:
            raise Undecidable(f"7z streams info damaged (property {kind})")
    return streams


def _substreams(cursor: Cursor, folders: list[Folder]) -> list[list[int]]:
    counts = [1] * len(folders)
    kind = cursor.byte()
    if kind == NUM_UNPACK_STREAM:
        counts = [cursor.count() for _ in folders]
        kind = cursor.byte()
    sizes: list[list[int]] = []
    for folder, count in zip(folders, counts, strict=True):
        if count == 0:
            sizes.append([])
            continue
        known = [cursor.number() for _ in range(count - 1)] if kind == SIZE else []
        if len(known) != count - 1 or sum(known) > folder.size:
            raise Undecidable("7z substream sizes damaged")
        sizes.append([*known, folder.size - sum(known)])
    if kind == SIZE:
        kind = cursor.byte()
    while kind != END:
        if kind != CRC:
            raise Undecidable("7z substreams info damaged")
        unknown = sum(
            count for folder, count in zip(folders, counts, strict=True) if not (count == 1 and folder.crc)
        )
        cursor.digests(unknown)
        kind = cursor.byte()
    return sizes


def read_files(cursor: Cursor, meter: Meter) -> tuple[list[str], list[bool]]:
    count = cursor.number()
    meter.check_members(count)
    empty = [False] * count
    names: list[str] = []
    while (kind := cursor.byte()) != END:
        body = cursor.take(cursor.number())
        if kind == EMPTY_STREAM:
            empty = Cursor(body).bits(count)
        elif kind == NAME and body[:1] == b"\x00":
            names = body[1:].decode("utf-16-le", "replace").split("\x00")[:count]
    names += [f"#{index}" for index in range(len(names), count)]
    return names, empty
