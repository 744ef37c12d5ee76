"""Finding reports in files: the report documents inside paths, archives, compressed files and e-mails.

Reporters send aggregate reports as ``.xml``, ``.xml.gz`` or ``.zip`` (RFC 7489 §7.2.1.1), SMTP TLS
reports as JSON, gzipped or not (RFC 8460 §5.3), failure reports as ARF e-mails (RFC 6591); users keep
them as files, in mbox files or Maildirs, or as the e-mails that carried them. ``documents`` walks paths
and yields each report found as a ``Document`` — its kind sniffed from the content, never from the name
— or an ``Unreadable`` saying why a file or part could not be used. The bytes are read only when a
document is opened, as a stream: gzip and zip are decompressed on the fly and bounded by
``ContainerLimits``, so a hostile archive stops with a ``ReportError`` at the limit, early and in flat
memory. Sniffing is in ``sniffing.py``, the bounded gzip and zip streams in ``archives.py``, reading
e-mails (MIME parts, mbox) in ``mailfiles.py``.

A document found in files keeps no bytes, only how to open its layers again (file → zip → member), so
holding thousands of them costs little; a zip nested in a decompressed stream is copied to a temporary
file each time one of its members is opened.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, BinaryIO

from mimawari.dmarc import mailfiles
from mimawari.dmarc.archives import (
    DEFAULT_LIMITS,
    ContainerLimits,
    guarded,
    gunzip,
    open_zip,
    printable,
    size_text,
)
from mimawari.dmarc.model import ReportError, ReportKind
from mimawari.dmarc.sniffing import Container, NotReport, sniff

__all__ = ["ContainerLimits", "Document", "Unreadable", "documents", "messages_documents"]

HEAD_BYTES = 8192
"""How much of a document is read to sniff what it is."""


Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True)
class Document:
    """One report found: where (``reports/google.zip!google.com!example.com!1.xml``,
    ``inbox.mbox#12 report.xml.gz``, ``Maildir/cur/1234:2,S part 2``) and what kind, sniffed."""

    origin: str
    kind: ReportKind
    reader: Opener = field(repr=False, compare=False)

    def open(self) -> AbstractContextManager[BinaryIO]:
        """The report's bytes, decompressed, as a stream (a failure report: the whole report e-mail).
        Opening or reading raises ``ReportError`` when the content turns out damaged or over a limit."""
        return self.reader()


@dataclass(frozen=True)
class Unreadable:
    """A file, member or attachment that holds no usable report, and why (one line)."""

    origin: str
    error: str


def documents(
    paths: Iterable[Path], limits: ContainerLimits = DEFAULT_LIMITS
) -> Iterator[Document | Unreadable]:
    """The reports in files and directories (recursed in name order; Maildirs read as mailboxes),
    in a deterministic order. Never raises for what it reads: every problem is an ``Unreadable``."""
    for found in files(paths):
        if isinstance(found, Unreadable):
            yield found
        else:
            yield from found.documents(limits)


@dataclass(frozen=True)
class FileUnit:
    """One file to read: a report file (sniffed) or a Maildir message (an e-mail)."""

    path: Path
    message: bool = False

    def documents(self, limits: ContainerLimits = DEFAULT_LIMITS) -> Iterator[Document | Unreadable]:
        layer = _file_layer(self.path, limits)
        return _email(layer, limits) if self.message else _expand(layer, limits)


def files(paths: Iterable[Path]) -> Iterator[FileUnit | Unreadable]:
    """The files ``documents`` reads, in its order: a unit of work each (``dmarc parse`` reads them in
    parallel)."""
    for path in paths:
        if path.is_dir():
            yield from _directory(path, path.resolve(), set())
        else:
            yield FileUnit(path)


def messages_documents(
    message: bytes, origin: str, limits: ContainerLimits = DEFAULT_LIMITS
) -> Iterator[Document | Unreadable]:
    """The reports in one e-mail (its attachments, or the message itself when it is a failure report)."""
    if len(message) > limits.max_message_bytes:
        yield Unreadable(origin, f"e-mail larger than the limit of {size_text(limits.max_message_bytes)}")
        return
    yield from _email(_Layer(origin, 0, partial(_bytes_stream, message), seekable=True), limits, message)


# --- where bytes come from: a layer is something that can be (re)opened as a stream --------------------


@dataclass(frozen=True)
class _Layer:
    origin: str
    depth: int
    """How many containers were opened to reach it."""
    opener: Opener
    seekable: bool
    """Cheap to seek (a file, bytes in memory); a decompressed stream is not, and a zip in it is spooled."""


def _expand(layer: _Layer, limits: ContainerLimits) -> Iterator[Document | Unreadable]:
    try:
        with layer.opener() as stream:
            head = _read_head(stream)
    except ReportError as exc:
        yield Unreadable(layer.origin, str(exc))
        return
    yield from _classify(layer, head, limits)


def _classify(
    layer: _Layer, head: bytes, limits: ContainerLimits, *, declared: bool = True
) -> Iterator[Document | Unreadable]:
    """``declared``: the content is expected to be a report, so not being one is worth saying (an e-mail's
    logo is not)."""
    content = sniff(head)
    if isinstance(content, ReportKind):
        yield Document(layer.origin, content, layer.opener)
    elif isinstance(content, NotReport):
        if declared:
            yield Unreadable(layer.origin, content.reason)
    elif not declared and content in {Container.MBOX, Container.EMAIL}:
        pass  # a text file attached to an e-mail that merely looks like mail carries no report
    elif content is Container.MBOX:
        yield from _mbox(layer, limits)
    elif layer.depth >= limits.max_depth:
        yield Unreadable(
            layer.origin, f"nested too deep: more than {limits.max_depth} containers inside each other"
        )
    elif content is Container.GZIP:
        inner = _Layer(layer.origin, layer.depth + 1, partial(_gunzip_stream, layer, limits), seekable=False)
        yield from _expand(inner, limits)
    elif content is Container.ZIP:
        yield from _zip(layer, limits)
    else:
        yield from _email(layer, limits)


# --- files and directories --------------------------------------------------------------------------------


def _file_layer(path: Path, limits: ContainerLimits) -> _Layer:
    return _Layer(str(path), 0, partial(_file_stream, path, limits), seekable=True)


@contextmanager
def _file_stream(path: Path, limits: ContainerLimits) -> Iterator[BinaryIO]:
    # O_NONBLOCK: opening a FIFO that sits among the reports must not hang; it is refused below.
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ReportError(_os_reason(exc)) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ReportError("not a regular file" + (" (directory)" if stat.S_ISDIR(status.st_mode) else ""))
        if status.st_size > limits.max_file_bytes:
            raise ReportError(f"file larger than the limit of {size_text(limits.max_file_bytes)}")
        file = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with file:
        yield guarded(file)


def _directory(directory: Path, root: Path, seen: set[tuple[int, int]]) -> Iterator[FileUnit | Unreadable]:
    try:
        identity = directory.stat()
        if (identity.st_dev, identity.st_ino) in seen:  # a bind mount looping back
            return
        seen.add((identity.st_dev, identity.st_ino))
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        yield Unreadable(str(directory), _os_reason(exc))
        return
    names = {entry.name for entry in entries if entry.is_dir(follow_symlinks=False)}
    if {"cur", "new"} <= names:
        yield from _maildir(directory, entries, root, seen)
        return
    for entry in entries:
        if entry.name.startswith("."):  # version control, editors' files
            continue
        yield from _entry(directory / entry.name, entry, root, seen)


def _entry(
    path: Path, entry: os.DirEntry[str], root: Path, seen: set[tuple[int, int]]
) -> Iterator[FileUnit | Unreadable]:
    if entry.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            yield Unreadable(str(path), "broken symbolic link")
            return
        # A link inside the tree is not followed: its target is read where it is (and a link to a parent
        # directory would loop). A link out of the tree is not followed either, and said so.
        if not target.is_relative_to(root):
            yield Unreadable(str(path), f"not followed: symbolic link out of {root}")
    elif entry.is_dir(follow_symlinks=False):
        yield from _directory(path, root, seen)
    else:
        yield FileUnit(path)


def _maildir(
    directory: Path, entries: list[os.DirEntry[str]], root: Path, seen: set[tuple[int, int]]
) -> Iterator[FileUnit | Unreadable]:
    """cur/ and new/ hold one message per file (tmp/ holds deliveries in progress); Maildir++ folders are
    ``.Name`` subdirectories, other subdirectories folders of the file-system layout."""
    for folder in ("cur", "new"):
        try:
            with os.scandir(directory / folder) as listing:
                messages = sorted(
                    (entry for entry in listing if not entry.name.startswith(".")), key=lambda e: e.name
                )
        except OSError as exc:
            yield Unreadable(str(directory / folder), _os_reason(exc))
            continue
        for message in messages:
            path = directory / folder / message.name
            if message.is_symlink() or message.is_dir():
                yield from _entry(path, message, root, seen)
            else:
                yield FileUnit(path, message=True)
    for entry in entries:
        if entry.name not in {"cur", "new", "tmp"} and entry.is_dir(follow_symlinks=False):
            yield from _directory(directory / entry.name, root, seen)


# --- gzip and zip ------------------------------------------------------------------------------------------


@contextmanager
def _gunzip_stream(parent: _Layer, limits: ContainerLimits) -> Iterator[BinaryIO]:
    with parent.opener() as compressed:
        yield gunzip(compressed, limits)


def _zip(layer: _Layer, limits: ContainerLimits) -> Iterator[Document | Unreadable]:
    try:
        with layer.opener() as raw, open_zip(raw, seekable=layer.seekable, limits=limits) as archive:
            if not archive.members:
                yield Unreadable(layer.origin, "empty zip: no files in it")
            for index, info in enumerate(archive.members):
                origin = f"{layer.origin}!{printable(info.filename)}"
                try:
                    with archive.open(info) as stream:
                        head = _read_head(stream)
                except ReportError as exc:
                    yield Unreadable(origin, str(exc))
                    continue
                opener = partial(_zip_member, layer, index, limits)
                yield from _classify(_Layer(origin, layer.depth + 1, opener, seekable=False), head, limits)
    except ReportError as exc:
        yield Unreadable(layer.origin, str(exc))


@contextmanager
def _zip_member(parent: _Layer, index: int, limits: ContainerLimits) -> Iterator[BinaryIO]:
    with parent.opener() as raw, open_zip(raw, seekable=parent.seekable, limits=limits) as archive:
        if index >= len(archive.members):
            raise ReportError("the zip changed since it was listed")
        with archive.open(archive.members[index]) as stream:
            yield stream


# --- e-mail -----------------------------------------------------------------------------------------------


def _email(
    layer: _Layer, limits: ContainerLimits, message: bytes | None = None
) -> Iterator[Document | Unreadable]:
    try:
        if message is None:
            with layer.opener() as stream:
                message = _read_message(stream, limits)
        contents = mailfiles.read_message(message, HEAD_BYTES)
    except ReportError as exc:
        yield Unreadable(layer.origin, str(exc))
        return
    if contents.failure_report:
        yield Document(layer.origin, ReportKind.FAILURE, layer.opener)
        return
    found = False
    for part in contents.parts:
        origin = f"{layer.origin} {part.label}"
        if part.problem:
            if part.declared:
                found = True
                yield Unreadable(origin, part.problem)
            continue
        opener = partial(_part_stream, layer, part.section, limits)
        for item in _classify(
            _Layer(origin, layer.depth + 1, opener, seekable=True), part.head, limits, declared=part.declared
        ):
            found = True
            yield item
    if not found:
        yield Unreadable(
            layer.origin,
            "no DMARC report in this e-mail" + (f" ({contents.problem})" if contents.problem else ""),
        )


@contextmanager
def _part_stream(
    message_layer: _Layer, section: tuple[int, ...], limits: ContainerLimits
) -> Iterator[BinaryIO]:
    with message_layer.opener() as stream:
        message = _read_message(stream, limits)
    yield io.BytesIO(mailfiles.part_content(message, section))


def _mbox(layer: _Layer, limits: ContainerLimits) -> Iterator[Document | Unreadable]:
    try:
        with layer.opener() as stream:
            for found in mailfiles.mbox_messages(stream, limits.max_message_bytes):
                origin = f"{layer.origin}#{found.number}"
                if found.message is None:
                    yield Unreadable(
                        origin, f"e-mail larger than the limit of {size_text(limits.max_message_bytes)}"
                    )
                    continue
                opener = partial(_mbox_message_stream, layer, found.start, found.end)
                yield from _email(_Layer(origin, layer.depth, opener, seekable=True), limits, found.message)
    except ReportError as exc:
        yield Unreadable(layer.origin, str(exc))


@contextmanager
def _mbox_message_stream(mbox: _Layer, start: int, end: int) -> Iterator[BinaryIO]:
    with mbox.opener() as stream:
        message = mailfiles.mbox_message(stream, start, end, seekable=mbox.seekable)
    yield io.BytesIO(message)


def _read_message(stream: IO[bytes], limits: ContainerLimits) -> bytes:
    message = stream.read(limits.max_message_bytes + 1)
    if len(message) > limits.max_message_bytes:
        raise ReportError(f"e-mail larger than the limit of {size_text(limits.max_message_bytes)}")
    return message


@contextmanager
def _bytes_stream(data: bytes) -> Iterator[BinaryIO]:
    yield io.BytesIO(data)


# --- shared -----------------------------------------------------------------------------------------------


def _read_head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < HEAD_BYTES:
        data = stream.read(HEAD_BYTES - len(head))
        if not data:
            break
        head += data
    return head


def _os_reason(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}"
