"""Streaming reader of DMARC aggregate reports (RFC 7489 appendix C, RFC 9990).

    document = read_aggregate(stream)        # reads as far as the header
    document.header                          # AggregateHeader
    for record in document.records(): ...    # AggregateRecord, one at a time

**A report is valid only once ``records()`` has been exhausted without error.** ``ReportError`` can come
at any record (a report cut short, a bad value in record 180 000): store the header and the records in
one transaction and roll it back on ``ReportError``, so a broken report leaves nothing behind.

Memory stays flat whatever the size: the XML is fed to libxml2 (lxml) in chunks, only ``<record>`` and
header elements raise events, and each record is dropped from the tree once it has been read.

Hostile input is refused before libxml2 sees it: a document that declares anything (``<!DOCTYPE``,
``<!ENTITY``) is rejected, so no entity can be defined, expanded or fetched, and no encoding other than
ASCII-compatible ones is accepted (in UTF-7, UTF-16 or EBCDIC, ``<!DOCTYPE`` would hide from that scan).
The parser is set up without DTD loading or network access all the same. Sizes, record counts, text
lengths, nesting depth and parsing time are bounded by ``AggregateLimits``.

Lenient where real reporters differ: any namespace on ``<feedback>`` (none in RFC 7489, reporters' own,
``urn:ietf:params:xml:ns:dmarc-2.0`` in RFC 9990), whitespace around values, the case of keywords, empty
optional elements, unknown elements (RFC 9990 extensions) and zero-record reports.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, Protocol, cast

from lxml import etree  # type: ignore[import-untyped]

from mimawari.dmarc.aggregate_fields import DMARC2_NAMESPACE, Node, ReportMetadata, split_tag
from mimawari.dmarc.aggregate_prolog import (
    check_prolog,
    drop_default_namespace,
    first_element_name,
    refuse_declarations,
)
from mimawari.dmarc.aggregate_records import RecordReader
from mimawari.dmarc.model import AggregateHeader, AggregateRecord, PublishedPolicy, ReportError

__all__ = ["AggregateDocument", "AggregateLimits", "looks_like_aggregate", "read_aggregate"]

CHUNK_BYTES = 64 * 1024

# Events are raised for these elements only (in any namespace): the rest of the document is read from
# the tree, in C, instead of costing a Python step per element.
_EVENT_TAGS = ("{*}record", "{*}report_metadata", "{*}policy_published")

_HEADER_PARTS = frozenset(("report_metadata", "policy_published"))

# The byte scan refuses every markup declaration, so these settings are a second line: no DTD is loaded,
# nothing is fetched, and the undefined entity that remains is reported as such by libxml2.
_PARSER_OPTIONS = {
    "resolve_entities": "internal",
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "collect_ids": False,
    "remove_blank_text": True,
    "remove_comments": True,
    "remove_pis": True,
}


@dataclass(frozen=True)
class AggregateLimits:
    """What one document may cost; past any of these it is refused with ``ReportError``."""

    max_bytes: int = 512 * 2**20
    """XML bytes read (after any decompression by the caller: this is what stops a gzip bomb)."""
    max_records: int = 5_000_000
    max_seconds: float = 120.0
    """Time spent parsing one document; the caller's own time between records is not counted."""
    max_depth: int = 20
    """Nesting levels (the root is 1), checked on every element the schema does not define. Stray
    children of text-only elements are ignored unchecked; libxml2 caps any nesting at 256."""
    max_text: int = 64 * 1024
    """Characters in one element's text."""
    max_record_bytes: int = 2**20
    """XML read without completing a record (or the header), checked per chunk: real records are a
    few hundred bytes to a few kilobytes, and an endless one would otherwise grow the tree."""


class _Element(Node, Protocol):
    """The part of lxml's element API this module uses, beyond reading (lxml has no type information)."""

    def __iter__(self) -> Iterator[_Element]: ...
    def __getitem__(self, index: int) -> _Element: ...
    def __delitem__(self, index: int) -> None: ...
    def getparent(self) -> _Element | None: ...


class AggregateDocument:
    """A report whose header has been read; ``records()`` streams the rest (once)."""

    def __init__(self, header: AggregateHeader, records: Iterator[AggregateRecord]) -> None:
        self.header = header
        self._records: Iterator[AggregateRecord] | None = records

    def records(self) -> Iterator[AggregateRecord]:
        """Every record, in document order. Raises ``ReportError`` as soon as the document turns out to
        be unusable; the report is valid only when this iterator ends normally."""
        records, self._records = self._records, None
        if records is None:
            raise RuntimeError("AggregateDocument.records() can be iterated only once")
        return records


def looks_like_aggregate(head: bytes) -> bool:
    """Whether the first bytes of a file look like a DMARC aggregate report: XML whose root element is
    ``<feedback>`` (any namespace prefix). Cheap, for sorting attachments; proves nothing."""
    name = first_element_name(head)
    return name is not None and name.rpartition(b":")[2] == b"feedback"


def read_aggregate(stream: BinaryIO, limits: AggregateLimits = AggregateLimits()) -> AggregateDocument:
    """Read the header of the aggregate report in ``stream`` (uncompressed XML bytes) and return the
    document, whose ``records()`` reads the rest. Raises ``ReportError`` (one line, why)."""
    reader = _Reader(stream, limits)
    records = reader.walk()
    if next(records, None) is not None or reader.header is None:  # pragma: no cover - walk's contract
        raise RuntimeError("the reader did not stop at the header")
    return AggregateDocument(reader.header, cast("Iterator[AggregateRecord]", records))


class _Reader:
    """One document: feeds chunks to the parser, turns events into the header and records."""

    def __init__(self, stream: BinaryIO, limits: AggregateLimits) -> None:
        self._stream = stream
        self._limits = limits
        self._parser = etree.XMLPullParser(events=("end",), tag=_EVENT_TAGS, **_PARSER_OPTIONS)
        self._fields = RecordReader(limits.max_text, limits.max_depth)
        self._root: _Element | None = None
        self._version = ""
        self._metadata: ReportMetadata | None = None
        self._policy: PublishedPolicy | None = None
        self.header: AggregateHeader | None = None
        self._records = 0
        self._spent = 0.0
        self._default_namespace = ""  # dropped from the root's start tag (see drop_default_namespace)

    def walk(self) -> Iterator[AggregateRecord | None]:
        """None once the header is read (just before the first record, or at the end of a report
        without records), then the records in order."""
        clock = time.perf_counter
        started = clock()
        limits = self._limits
        fields = self._fields
        names = fields.names
        since_record = 0  # bytes fed since a record was last complete
        for chunk in self._chunks():
            self._feed(chunk)
            since_record += len(chunk)
            for _, element in self._parser.read_events():
                root = self._root
                if root is None:
                    root = self._find_root(element)
                # The common case: a record that is the root's first child (all before it was read).
                if (names.get(element.tag) != "record" or root[0] is not element) and not self._other_end(
                    root, element
                ):
                    continue
                if self.header is None:
                    self._complete_header(before_record=True)
                    self._spent += clock() - started
                    yield None
                    started = clock()
                self._records += 1
                if self._records > limits.max_records:
                    raise ReportError(f"the report has more than {limits.max_records} records")
                record = fields.record(element, self._records)
                # Dropped without a Python proxy alive, libxml2 frees the subtree; with one, lxml would
                # first move it to a document of its own (three times the cost).
                del element
                del root[0]
                since_record = 0
                self._spent += clock() - started
                yield record
                started = clock()
            if since_record > limits.max_record_bytes:
                raise ReportError(
                    f"more than {limits.max_record_bytes} bytes of XML without a complete <record>"
                )
            if self._spent + clock() - started > limits.max_seconds:
                raise ReportError(f"parsing took longer than {limits.max_seconds:g} s")
        if self._close():
            yield None

    def _find_root(self, element: _Element) -> _Element:
        """The document's root, from the first element that raised an event: it must be <feedback>."""
        root = element
        while (parent := root.getparent()) is not None:
            root = parent
        namespace, name = split_tag(root.tag)
        if name != "feedback":
            raise _wrong_root(root)
        self._root = root
        self._fields.use_namespace(namespace or self._default_namespace)
        return root

    def _other_end(self, root: _Element, element: _Element) -> bool:
        """Any end event but the common case; whether ``element`` is a record to read now (it is,
        once the root's children before it are read and dropped)."""
        name = self._fields.names.get(element.tag)
        if element.getparent() is not root:
            return False  # nested inside an unknown element: dropped with it
        if name == "record":
            self._drain(root, element)
            return True
        if name in _HEADER_PARTS and self.header is not None:
            raise ReportError(f"<{name}> comes after the first <record>: the header must come first")
        return False  # header parts are read when the first record (or the end) comes

    def _chunks(self) -> Iterator[bytes]:
        """The XML in chunks, each scanned for declarations before the parser sees it."""
        max_bytes = self._limits.max_bytes
        first = self._stream.read(CHUNK_BYTES)
        if not first:
            raise ReportError("the report is empty")
        first = check_prolog(first)
        refuse_declarations(first, 0)
        name = first_element_name(first)
        if name is not None and name.rpartition(b":")[2] != b"feedback":
            shown = name[:64].decode("ascii", "replace")
            shown = shown if shown.isprintable() else repr(shown)
            raise ReportError(f"the root element is <{shown}>, not <feedback>: not a DMARC aggregate report")
        first, self._default_namespace = drop_default_namespace(first)
        total = len(first)
        tail = first[-8:]
        chunk = first
        while chunk:
            if total > max_bytes:
                raise ReportError(f"the report is larger than {max_bytes} bytes")
            yield chunk
            chunk = self._stream.read(CHUNK_BYTES)
            total += len(chunk)
            window = tail + chunk
            refuse_declarations(window, total - len(window))
            tail = window[-8:]

    def _feed(self, chunk: bytes) -> None:
        try:
            self._parser.feed(chunk)
        except etree.XMLSyntaxError as error:
            raise _malformed(error) from None

    def _close(self) -> bool:
        """End the document; whether that completed the header (a report without records)."""
        try:
            root = self._parser.close()
        except etree.XMLSyntaxError as error:
            raise _malformed(error) from None
        if self._root is None:
            self._find_root(root)
        self._drain(root, None)
        if self.header is not None:
            return False
        self._complete_header(before_record=False)
        return True

    def _drain(self, root: _Element, stop: _Element | None) -> None:
        """Read and drop the root's children that come before ``stop`` (all of them if None): the
        header elements, and extensions or unknown elements between records."""
        while len(root):
            child = root[0]
            if child is stop:
                return
            self._root_child(child)
            del root[0]

    def _root_child(self, child: _Element) -> None:
        fields = self._fields
        name = fields.names.get(child.tag)
        if name in _HEADER_PARTS and self.header is not None:
            raise ReportError(f"<{name}> comes after the first <record>: the header must come first")
        if name == "version":
            self._version = fields.text(child, "version")
        elif name == "report_metadata":
            if self._metadata is not None:
                raise ReportError("the report has more than one <report_metadata>")
            self._metadata = fields.report_metadata(child)
        elif name == "policy_published":
            if self._policy is not None:
                raise ReportError("the report has more than one <policy_published>")
            self._policy = fields.policy_published(child)
        else:
            fields.unknown(child, 2)

    def _complete_header(self, *, before_record: bool) -> None:
        metadata, policy = self._metadata, self._policy
        if metadata is None or policy is None:
            missing = "report_metadata" if metadata is None else "policy_published"
            if before_record:
                raise ReportError(f"a <record> comes before <{missing}>: the header must come first")
            raise ReportError(f"the report has no <{missing}>")
        self.header = AggregateHeader(
            version="2.0" if self._fields.namespace == DMARC2_NAMESPACE else self._version,
            org_name=metadata.org_name,
            email=metadata.email,
            report_id=metadata.report_id,
            begin=_timestamp(metadata.begin, "begin"),
            end=_timestamp(metadata.end, "end"),
            policy=policy,
            extra_contact_info=metadata.extra_contact_info,
            generator=metadata.generator,
            errors=metadata.errors,
        )


def _timestamp(seconds: int, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ReportError(f"date_range/{name} {seconds} is not a usable Unix time") from None


def _malformed(error: etree.XMLSyntaxError) -> ReportError:
    message = " ".join(str(error.msg or error).split())
    return ReportError(f"malformed or truncated XML: {message}")


def _wrong_root(root: _Element) -> ReportError:
    name = split_tag(root.tag)[1][:64]
    return ReportError(f"the root element is <{name}>, not <feedback>: not a DMARC aggregate report")
