"""What an archive reader hands back, and the budgeted decompression every reader shares.

A reader (``zip``, ``sevenzip``, ``rar``, ``gzip``) takes the archive's bytes, the message's ``Meter``
and a ``want`` predicate, and yields one entry per finding: ``Found`` (encryption; an empty name is the
archive itself, e.g. its headers), ``Unread`` (a member it cannot judge, with the reason) or ``Contents``
(a member examined; its bytes only when ``want`` said its first ``HEAD`` bytes are worth reading, so a
text file in a zip costs one KiB of inflation, not its whole size). A problem with the whole archive is
raised as ``Undecidable``, after whatever was found before it.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from mimawari.gateway.budgets import Meter
from mimawari.gateway.magic import HEAD
from mimawari.gateway.verdict import Kind, Undecidable

CHUNK = 256 * 1024
"""Decompressed bytes produced per step, between budget checks."""


@dataclass(frozen=True)
class Found:
    name: str
    kind: Kind
    detail: str = ""


@dataclass(frozen=True)
class Unread:
    name: str
    reason: str


@dataclass(frozen=True)
class Contents:
    name: str
    data: bytes | None
    """``None``: examined, and its first bytes say it is neither an archive nor a document."""


Entry = Found | Unread | Contents
Want = Callable[[bytes], bool]


class Reader(Protocol):
    def __call__(self, data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]: ...


class Stream(Protocol):
    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; ``b""`` only at the end. Raises ``Undecidable`` on corrupt input."""
        ...


class Stored:
    """A member stored without compression: slices of the archive, no copy until read."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.position = 0

    def read(self, size: int) -> bytes:
        chunk = bytes(self.data[self.position : self.position + size])
        self.position += len(chunk)
        return chunk


class Inflating:
    """zlib (raw deflate with ``wbits=-15``, gzip with ``31``), fed from a memoryview."""

    def __init__(self, data: memoryview, wbits: int) -> None:
        self.decompressor = zlib.decompressobj(wbits)
        self.pending: bytes | memoryview = data

    def read(self, size: int) -> bytes:
        while not self.decompressor.eof:
            if not self.pending:
                raise Undecidable("compressed data truncated")
            try:
                out = self.decompressor.decompress(self.pending, size)
            except zlib.error as exc:
                raise Undecidable(f"corrupt deflate data ({exc})") from None
            self.pending = self.decompressor.unconsumed_tail
            if out:
                return out
        return b""

    @property
    def unused(self) -> bytes:
        return self.decompressor.unused_data


class Decompressing:
    """``lzma`` and ``bz2`` decompressors (same interface: ``max_length``, ``needs_input``, ``eof``)."""

    def __init__(self, data: memoryview, decompressor: lzma.LZMADecompressor | bz2.BZ2Decompressor) -> None:
        self.decompressor = decompressor
        self.pending: bytes | memoryview | None = data

    def read(self, size: int) -> bytes:
        decompressor = self.decompressor
        while not decompressor.eof:
            if self.pending is None and decompressor.needs_input:
                raise Undecidable("compressed data truncated")
            try:
                out = decompressor.decompress(self.pending or b"", size)
            except (lzma.LZMAError, OSError, EOFError) as exc:
                raise Undecidable(f"corrupt compressed data ({exc})") from None
            self.pending = None
            if out:
                return out
        return b""


def read_exactly(stream: Stream, size: int, meter: Meter) -> bytes:
    """``size`` bytes, or fewer at the end of the stream, counted against the budget."""
    parts = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, CHUNK))
        if not chunk:
            break
        meter.spend(len(chunk))
        parts.append(chunk)
        left -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def take(
    stream: Stream, meter: Meter, want: Want, compressed: int, size: int = -1, drain: bool = False
) -> bytes | None:
    """A member's contents if its head is ``want``-ed, else ``None`` (the rest is not decompressed, unless
    ``drain``: a solid block holds the next member after this one).

    ``size`` (when known) stops the read there; the ratio check runs on the bytes produced, whatever the
    header claimed."""
    head = read_exactly(stream, HEAD if size < 0 else min(size, HEAD), meter)
    if not want(head):
        if drain and size > len(head):
            skip(stream, size - len(head), meter)
        return None
    parts = [head]
    produced = len(head)
    while size < 0 or produced < size:
        chunk = stream.read(CHUNK if size < 0 else min(CHUNK, size - produced))
        if not chunk:
            break
        produced += len(chunk)
        meter.spend(len(chunk))
        meter.check_ratio(produced, compressed)
        parts.append(chunk)
    if size >= 0 and produced < size:
        raise Undecidable(f"member truncated ({produced} of {size} bytes)")
    return b"".join(parts)


def skip(stream: Stream, size: int, meter: Meter) -> None:
    """Decompress and drop ``size`` bytes (a member of a solid block that nobody wants)."""
    left = size
    while left > 0:
        chunk = stream.read(min(left, CHUNK))
        if not chunk:
            raise Undecidable("solid block shorter than its members")
        meter.spend(len(chunk))
        left -= len(chunk)
