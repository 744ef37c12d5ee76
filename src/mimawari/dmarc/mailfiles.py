"""Reading the e-mails that carry reports: their MIME parts, mbox files and Maildirs.

A report e-mail carries aggregate and SMTP TLS reports as attachments (RFC 7489 §7.2.1.1, RFC 8460
§5.3); a failure report *is* an e-mail, ``multipart/report`` with a ``message/feedback-report`` part
(RFC 5965 §2, RFC 6591). The stdlib ``email`` parser never gives up on broken MIME, but some header
shapes make it raise anything: every such failure becomes one ``ReportError``. ``containers.py`` turns
what is found here into documents.
"""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import errors, policy
from email.message import Message
from email.parser import BytesParser
from typing import IO

from mimawari.dmarc.archives import printable
from mimawari.dmarc.failure import is_failure_report
from mimawari.dmarc.model import ReportError

REPORT_TYPES = frozenset(
    {
        "application/zip", "application/x-zip-compressed", "application/x-zip", "application/gzip",
        "application/x-gzip", "text/xml", "application/xml", "application/tlsrpt+gzip",
        "application/tlsrpt+json", "application/json", "application/octet-stream", "message/rfc822",
    }
)  # fmt: skip
"""Content types that announce a report (octet-stream: some reporters send everything as it, and a
forwarded report e-mail). A part of another type is used only when it has a file name and its bytes
sniff as a report, and is otherwise left alone (a logo, a signature)."""

_FIELD = re.compile(rb"[A-Za-z0-9][A-Za-z0-9-]*[ \t]*:")
_COMMON_FIELD = re.compile(
    rb"^(?:from|received|return-path|mime-version|message-id|date|subject|delivered-to|to)[ \t]*:",
    re.I | re.M,
)
_LINE_BYTES = 64 << 10
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)


def looks_like_message(head: bytes) -> bool:
    """An e-mail starts with header fields, and one of them is one every e-mail has."""
    headers = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    return _FIELD.match(head) is not None and _COMMON_FIELD.search(headers) is not None


def looks_like_mbox(head: bytes) -> bool:
    first, _, rest = head.partition(b"\n")
    return first.startswith(b"From ") and looks_like_message(rest)


@dataclass(frozen=True)
class MessagePart:
    section: tuple[int, ...]
    """IMAP section number (RFC 3501 §6.4.5): ``(2,)`` is the second part, ``(1,)`` a one-part body."""
    label: str
    """The file name when the part has one of its own, else ``part 2.1``."""
    content_type: str
    declared: bool
    """The content type announces a report: when it holds none, that is worth saying."""
    head: bytes
    """The first bytes of the decoded content, for sniffing."""
    problem: str = ""


@dataclass(frozen=True)
class MessageContents:
    failure_report: bool
    parts: tuple[MessagePart, ...] = ()
    problem: str = ""
    """What is wrong with the MIME structure, to explain why no report was found."""


def read_message(message: bytes, head_bytes: int) -> MessageContents:
    """The parts of an e-mail that may hold reports (or that the e-mail is a failure report)."""
    try:
        parsed = _parse(message)
        if is_failure_report(parsed):
            return MessageContents(failure_report=True)
        candidates = [(section, part, part.get_filename()) for section, part in _leaves(parsed, ())]
        names = [name for _, _, name in candidates if name]
        parts = []
        for section, part, name in candidates:
            content_type = part.get_content_type()
            if content_type not in REPORT_TYPES and not name:
                continue  # the e-mail's own text, inline images
            content, problem = _decoded(part)
            if name and names.count(name) == 1:
                label = printable(name)
            else:
                label = "part " + ".".join(map(str, section))
            parts.append(
                MessagePart(
                    section, label, content_type, content_type in REPORT_TYPES, content[:head_bytes], problem
                )
            )
        return MessageContents(False, tuple(parts), _mime_problem(parsed))
    except ReportError:
        raise
    except Exception as exc:  # the email package raises many kinds on hostile headers (issues in CPython)
        raise ReportError(f"malformed e-mail: {type(exc).__name__}: {printable(str(exc))}") from None


def part_content(message: bytes, section: tuple[int, ...]) -> bytes:
    """The decoded content of one part, found again by its section number."""
    try:
        for found, part in _leaves(_parse(message), ()):
            if found == section:
                content, problem = _decoded(part)
                if problem:
                    raise ReportError(problem)
                return content
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(f"malformed e-mail: {type(exc).__name__}: {printable(str(exc))}") from None
    raise ReportError(f"the e-mail has no part {'.'.join(map(str, section))} any more")


def _parse(message: bytes) -> Message:
    # compat32: finding the report parts needs only content types, file names and payloads, and the
    # default policy's header objects cost ten times as much on a mailbox of reports (docs/bench.md).
    return BytesParser(policy=policy.compat32).parsebytes(message)


def _children(message: Message) -> list[Message]:
    if message.get_content_maintype() != "multipart" or not message.is_multipart():
        return []
    payload = message.get_payload()
    return [part for part in payload if isinstance(part, Message)] if isinstance(payload, list) else []


def _leaves(message: Message, section: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], Message]]:
    """The parts that hold content, with their sections. A message/rfc822 part is a leaf: a forwarded
    e-mail is read as an e-mail of its own."""
    if message.get_content_maintype() != "multipart" or not message.is_multipart():
        yield (section or (1,)), message
        return
    for number, child in enumerate(_children(message), start=1):
        yield from _leaves(child, (*section, number))


def _decoded(part: Message) -> tuple[bytes, str]:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        if not isinstance(inner, Message):
            return b"", "damaged attached e-mail"
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
        if encoding in {"base64", "quoted-printable"} and isinstance(text := inner.get_payload(), str):
            # RFC 2046 §5.2.1 forbids encoding message/rfc822, yet some clients (and Python's own
            # add_attachment) do it: the parser then sees the encoded text as a header-less body.
            raw = text.encode("ascii", errors="replace")
            return (base64.b64decode(raw) if encoding == "base64" else quopri.decodestring(raw)), ""
        return inner.as_bytes(policy=policy.default.clone(refold_source="none")), ""
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes):
        return b"", "damaged content"
    if any(isinstance(defect, errors.InvalidBase64LengthDefect) for defect in part.defects):
        return content, "damaged base64 encoding (its length is impossible)"
    return content, ""


def _mime_problem(message: Message) -> str:
    names = []
    for part in message.walk():
        for defect in part.defects:
            name = re.sub(r"(?<!^)(?=[A-Z])", " ", type(defect).__name__.removesuffix("Defect")).lower()
            if name not in names:
                names.append(name)
    return "malformed MIME: " + ", ".join(names) if names else ""


# --- mbox ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MboxMessage:
    number: int
    """1-based, in file order."""
    start: int
    end: int
    """The message's byte range in the mbox, after its ``From `` line."""
    message: bytes | None
    """None when larger than the limit (not kept in memory)."""


def mbox_messages(stream: IO[bytes], max_message_bytes: int) -> Iterator[MboxMessage]:
    """The messages of an mbox file, read line by line so a large mbox is never held whole.

    A message starts at a ``From `` line at the start of the file or after a blank line: writers put one
    there, and requiring it keeps an unquoted ``From `` in a body (mboxo) from splitting a message."""
    number = offset = 0
    start: int | None = None
    lines: list[bytes] = []
    size = 0
    at_line_start = previous_blank = True
    while line := stream.readline(_LINE_BYTES):
        if at_line_start and previous_blank and line.startswith(b"From "):
            if start is not None:
                yield MboxMessage(
                    number, start, offset, _unmbox(b"".join(lines)) if size <= max_message_bytes else None
                )
            number, start, lines, size = number + 1, offset + len(line), [], 0
        elif start is not None:
            size += len(line)
            if size <= max_message_bytes:
                lines.append(line)
            else:
                lines = []
        offset += len(line)
        previous_blank = at_line_start and line in (b"\n", b"\r\n")
        at_line_start = line.endswith(b"\n")
    if start is not None:
        yield MboxMessage(
            number, start, offset, _unmbox(b"".join(lines)) if size <= max_message_bytes else None
        )


def mbox_message(stream: IO[bytes], start: int, end: int, *, seekable: bool) -> bytes:
    """One message read again from its byte range."""
    if seekable:
        stream.seek(start)
    else:
        skipped = 0
        while skipped < start and (data := stream.read(min(_LINE_BYTES, start - skipped))):
            skipped += len(data)
    raw = stream.read(end - start)
    if len(raw) != end - start:
        raise ReportError("the mbox changed since it was read")
    return _unmbox(raw)


def _unmbox(raw: bytes) -> bytes:
    """Drop the blank line that separates it from the next ``From `` line and undo mboxrd quoting."""
    if raw.endswith(b"\r\n\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n\n"):
        raw = raw[:-1]
    return _QUOTED_FROM.sub(rb"\1", raw)
