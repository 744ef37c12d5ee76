"""gzip: decompressed (within the budgets) for what it holds, and a tar inside read member by member.

Concatenated gzip members are one stream, as ``gzip -d`` gives them. The member's name is the header's
``FNAME`` when there is one. Only the first ``HEAD`` bytes are inflated unless they show an archive or a
document (a ``.tar.gz`` is inflated whole, then walked as a tar).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from mimawari.gateway.budgets import Meter
from mimawari.gateway.magic import GZIP, Format, identify
from mimawari.gateway.members import CHUNK, Contents, Entry, Want, read_exactly
from mimawari.gateway.tar import read_tar
from mimawari.gateway.verdict import Undecidable

FEXTRA, FNAME = 0x04, 0x08


class Gunzip:
    """Every gzip member in turn, as one stream."""

    def __init__(self, data: memoryview) -> None:
        self.decompressor = zlib.decompressobj(31)
        self.pending: bytes | memoryview = data

    def read(self, size: int) -> bytes:
        while True:
            if self.decompressor.eof:
                rest = self.decompressor.unused_data
                if not rest.startswith(GZIP):
                    return b""
                self.decompressor = zlib.decompressobj(31)
                self.pending = rest
            if not self.pending:
                raise Undecidable("gzip data truncated")
            try:
                out = self.decompressor.decompress(self.pending, size)
            except zlib.error as exc:
                raise Undecidable(f"corrupt gzip data ({exc})") from None
            self.pending = self.decompressor.unconsumed_tail
            if out:
                return out


def stored_name(data: memoryview) -> str:
    """The original file name from the header (``FNAME``), or ``""``."""
    if len(data) < 10:
        return ""
    flags = data[3]
    position = 10
    if flags & FEXTRA:
        if len(data) < 12:
            return ""
        position += 2 + int.from_bytes(data[10:12], "little")
    if not flags & FNAME:
        return ""
    end = bytes(data[position : position + 1024]).find(b"\x00")
    return bytes(data[position : position + end]).decode("latin-1") if end > 0 else ""


def read_gzip(data: memoryview, meter: Meter, want: Want) -> Iterator[Entry]:
    name = stored_name(data) or "(gzip contents)"
    stream = Gunzip(data)
    head = read_exactly(stream, 1024, meter)
    if not want(head):
        yield Contents(name, None)
        return
    parts = [head]
    produced = len(head)
    while chunk := stream.read(CHUNK):
        produced += len(chunk)
        meter.spend(len(chunk))
        meter.check_ratio(produced, len(data))
        parts.append(chunk)
    contents = b"".join(parts)
    if identify(contents) is Format.TAR:
        yield from read_tar(memoryview(contents), meter, want)
    else:
        yield Contents(name, contents)
