"""gzip and zip read as bounded streams: the zip-bomb and gzip-bomb guards of ``containers.py``.

Both decompress on the fly, count what they hand out, and raise ``ReportError`` past the size limit per
document or past the ratio of output to compressed input actually read — zip headers can lie about both
sizes, so the declared sizes are checked first and the real bytes again while reading. Memory stays flat:
nothing is decompressed ahead of what the reader asks for.
"""

from __future__ import annotations

import io
import itertools
import lzma
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING, BinaryIO

from mimawari.dmarc.model import ReportError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_CHUNK = 64 << 10
_RATIO_FLOOR = 1 << 20
"""Ratios are judged only past 1 MiB of output: a small repetitive XML report legitimately compresses far
beyond any bomb ratio, and under 1 MiB a bomb does no harm."""
_SPOOL_IN_MEMORY = 8 << 20
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
                NotImplementedError, zlib.error, lzma.LZMAError)  # fmt: skip
"""What zipfile and the decompressors under it raise on damaged data."""
_UNNAMED: dict[type[Exception], str] = {EOFError: "unexpected end of data"}
"""For errors raised without a message."""


@dataclass(frozen=True)
class ContainerLimits:
    max_file_bytes: int = 1 << 30
    """A file on disk."""
    max_decompressed_bytes: int = 512 << 20
    """One document after gunzip or unzip."""
    max_ratio: int = 200
    """Decompressed / compressed bytes, per zip member and per gzip stream: the bomb guard."""
    max_members: int = 10_000
    """Per zip."""
    max_depth: int = 3
    """Containers inside each other: zip in zip, gzip in zip, a zip attached to an e-mail."""
    max_message_bytes: int = 64 << 20
    """One e-mail."""


DEFAULT_LIMITS = ContainerLimits()


def guarded(stream: IO[bytes]) -> BinaryIO:
    """A stream whose read errors (a disk error, say) become one-line ``ReportError``s."""
    return io.BufferedReader(_Guarded(stream))


def gunzip(compressed: IO[bytes], limits: ContainerLimits) -> BinaryIO:
    return io.BufferedReader(_Gunzip(compressed, limits))


class ZipReader:
    """An open zip archive whose members are read as bounded streams."""

    def __init__(self, archive: zipfile.ZipFile, counted: _CountedFile, limits: ContainerLimits) -> None:
        self._archive = archive
        self._counted = counted
        self._limits = limits
        # __MACOSX/ holds the resource forks the macOS archiver adds beside each file.
        self.members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]

    def problem(self, info: zipfile.ZipInfo) -> str | None:
        """Why a member cannot be read, judged from the headers before reading it."""
        name = printable(info.filename)
        if info.flag_bits & 0x1:
            return "password-protected zip member"
        if info.compress_type not in _ZIP_METHODS:
            return f"zip member compressed with an unsupported method ({info.compress_type})"
        if info.file_size > self._limits.max_decompressed_bytes:
            limit = size_text(self._limits.max_decompressed_bytes)
            return f"member {name} expands beyond {limit}, the limit per document"
        if info.file_size > _RATIO_FLOOR and info.file_size > self._limits.max_ratio * info.compress_size:
            return f"zip bomb: member {name} expands beyond ratio {self._limits.max_ratio}"
        return None

    @contextmanager
    def open(self, info: zipfile.ZipInfo) -> Iterator[BinaryIO]:
        problem = self.problem(info)
        if problem:
            raise ReportError(problem)
        name = printable(info.filename)
        try:
            member = self._archive.open(info)
        except ReportError:
            raise
        except _READ_ERRORS as exc:
            raise ReportError(f"damaged zip member {name}: {exc}") from None
        # The compressed bytes actually read count, not the sizes the headers declare.
        start = self._counted.consumed
        check = partial(self._check, start, f"member {name}")
        with member:
            yield io.BufferedReader(_Guarded(member, check, f"damaged zip member {name}"))

    def _check(self, start: int, member: str, given_out: int) -> None:
        check_expansion(given_out, self._counted.consumed - start, self._limits, "zip bomb", member)


def open_zip(raw: IO[bytes], *, seekable: bool, limits: ContainerLimits) -> AbstractContextManager[ZipReader]:
    """``seekable``: the stream is cheap to seek (a file, bytes in memory). A zip inside a decompressed
    stream is first copied to a temporary file, kept in memory while small, since zipfile seeks."""
    return _open_zip(raw, seekable, limits)


@contextmanager
def _open_zip(raw: IO[bytes], seekable: bool, limits: ContainerLimits) -> Iterator[ZipReader]:
    with _seekable(raw, seekable) as file:
        counted = _CountedFile(file)
        try:
            members = _declared_members(counted)
            if members is None:
                raise ReportError("truncated or damaged zip: no end of central directory record")
            if members > limits.max_members:
                raise ReportError(f"zip with {members} members, over the limit of {limits.max_members}")
            archive = zipfile.ZipFile(counted)
        except ReportError:
            raise
        except _READ_ERRORS as exc:
            raise ReportError(f"damaged zip: {exc}") from None
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_members:
                raise ReportError(f"zip with {len(infos)} members, over the limit of {limits.max_members}")
            if _overlapping(infos):
                raise ReportError("zip bomb: members overlap each other")
            yield ZipReader(archive, counted, limits)


@contextmanager
def _seekable(raw: IO[bytes], seekable: bool) -> Iterator[IO[bytes]]:
    if seekable:
        yield raw
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        try:
            shutil.copyfileobj(raw, spool, _CHUNK)
        except OSError as exc:
            raise ReportError(
                f"cannot copy a nested zip to a temporary file: {exc.strerror or exc}"
            ) from None
        spool.seek(0)
        yield spool


def _overlapping(infos: list[zipfile.ZipInfo]) -> bool:
    """Members sharing compressed bytes (the overlapping-files zip bomb); a local header takes at least
    30 bytes before its member's data."""
    spans = sorted((info.header_offset, info.header_offset + 30 + info.compress_size) for info in infos)
    return any(end > next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def _declared_members(archive: _CountedFile) -> int | None:
    """The member count in the end-of-central-directory record, read before zipfile loads the whole
    directory into memory; None when there is no record (a truncated zip). Zip64 counts (0xFFFF here)
    are checked after zipfile has read them."""
    size = archive.seek(0, os.SEEK_END)
    tail_size = min(size, 22 + 0xFFFF)
    archive.seek(size - tail_size)
    tail = archive.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    (members,) = struct.unpack_from("<H", tail, at + 10)
    return 0 if members == 0xFFFF else int(members)


class _CountedFile:
    """A seekable file that counts the bytes read from it: the compressed bytes a zip member used."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.consumed = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._file.read(size)
        self.consumed += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return True


class _Gunzip(io.RawIOBase):
    """gzip decompressed on the fly — several members, as gzip allows, and trailing zero padding — with
    the output bounded in size and in ratio to the input read so far."""

    def __init__(self, compressed: IO[bytes], limits: ContainerLimits) -> None:
        self._compressed = compressed
        self._limits = limits
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._read_in = 0
        self._given_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        while view.nbytes:
            if self._inflate.eof and not self._next_member():
                return 0
            data = self._inflate.unconsumed_tail or self._take()
            try:  # with no input left, zlib may still hold output of a long match
                out = self._inflate.decompress(data, view.nbytes)
            except zlib.error as exc:
                raise ReportError(f"corrupt gzip: {exc}") from None
            if out:
                self._given_out += len(out)
                check_expansion(
                    self._given_out, self._read_in, self._limits, "gzip bomb", "decompressed data"
                )
                view[: len(out)] = out
                return len(out)
            if not data and not self._inflate.eof:
                raise ReportError("truncated gzip")
        return 0

    def _take(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        data = self._compressed.read(_CHUNK)
        self._read_in += len(data)
        return data

    def _next_member(self) -> bool:
        """After a member: another member, or zero padding to the end (both as the gzip module reads)."""
        rest = self._inflate.unused_data.lstrip(b"\0")
        while len(rest) < 2:
            more = self._take()
            if not more:
                if rest:
                    raise ReportError("trailing data after the gzip stream")
                return False
            rest = (rest + more).lstrip(b"\0")
        if not rest.startswith(b"\x1f\x8b"):
            raise ReportError("trailing data after the gzip stream")
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = rest
        return True


class _Guarded(io.RawIOBase):
    """A stream whose read errors become one-line ``ReportError``s and whose output may be bounded."""

    def __init__(
        self, inner: IO[bytes], check: Callable[[int], None] | None = None, what: str = "cannot read"
    ) -> None:
        self._inner = inner
        self._check = check
        self._what = what
        self._given_out = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._check is None and self._inner.seekable()

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        # zipfile reads as many compressed bytes as output is asked for: small reads keep the count of
        # compressed bytes close to what the decompressor really used.
        size = view.nbytes if self._check is None else min(view.nbytes, _CHUNK)
        try:
            data = self._inner.read(size)
        except ReportError:
            raise
        except _READ_ERRORS as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ReportError(
                f"{self._what}: {reason or _UNNAMED.get(type(exc), type(exc).__name__)}"
            ) from None
        self._given_out += len(data)
        if self._check is not None:
            self._check(self._given_out)
        view[: len(data)] = data
        return len(data)


def check_expansion(given_out: int, read_in: int, limits: ContainerLimits, bomb: str, subject: str) -> None:
    if given_out > limits.max_decompressed_bytes:
        raise ReportError(
            f"{subject} expands beyond {size_text(limits.max_decompressed_bytes)}, the limit per document"
        )
    if given_out > _RATIO_FLOOR and given_out > limits.max_ratio * read_in:
        raise ReportError(f"{bomb}: {subject} expands beyond ratio {limits.max_ratio}")


def printable(text: str) -> str:
    """A name from an archive or an e-mail made safe to show on one line."""
    return "".join(c if c.isprintable() else "?" for c in text)[:300]


def size_text(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift and count % (1 << shift) == 0:
            return f"{count >> shift} {unit}"
    return f"{count} bytes"
