"""The leaves of a message's MIME tree, each with its IMAP section number and its decoded bytes.

Sections follow RFC 3501 §6.4.5, as ``strip`` removes them: the children of a multipart are ``1``, ``2``,
…; a non-multipart message's body is ``1``; inside an attached ``message/rfc822`` at ``2``, its
multipart's children are ``2.1``, ``2.2`` and a single-part body is ``2.1``. The stdlib parser with the
``compat32`` policy never raises on a defect (it records it) and is the fastest of the stdlib policies.

A transfer encoding that cannot be undone (base64 with impossible padding) makes the leaf undecidable:
what a lenient mail client would make of it is anyone's guess. Unknown encodings are taken as they are.
uuencoded files inside a text body (``begin 644 name`` … ``end``) are leaves of their own, in the section
of the body that holds them.
"""

from __future__ import annotations

import binascii
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

MAX_NESTING = 64
"""Multiparts and attached messages inside each other; deeper is a parser attack, not mail."""
UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} ([^\r\n]+)\r?$", re.MULTILINE)
UU_END = re.compile(rb"^end\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Leaf:
    section: str
    name: str
    """The attachment's file name (``filename`` or ``name`` parameter), or ``""``; shown, never trusted."""
    data: bytes | None
    problem: str = ""
    """Why ``data`` is ``None``."""

    @property
    def path(self) -> str:
        return f"{self.section}/{self.name}" if self.name else self.section


def leaves(raw: bytes) -> Iterator[Leaf]:
    message = BytesParser(policy=compat32).parsebytes(raw)
    yield from _body(message, "", 0)


def _body(message: Message, prefix: str, nesting: int) -> Iterator[Leaf]:
    """The leaves of a (top-level or attached) message: children of its multipart, or its one body."""
    if message.is_multipart() and message.get_content_maintype() == "multipart":
        yield from _children(message, prefix, nesting)
    else:
        yield from _part(message, f"{prefix}.1" if prefix else "1", nesting)


def _children(multipart: Message, prefix: str, nesting: int) -> Iterator[Leaf]:
    payload = multipart.get_payload()
    if not isinstance(payload, list):
        yield Leaf(prefix or "1", "", None, "multipart without its boundary: parts not found")
        return
    for index, child in enumerate(payload, 1):
        if isinstance(child, Message):
            yield from _part(child, f"{prefix}.{index}" if prefix else str(index), nesting + 1)


def _part(part: Message, section: str, nesting: int) -> Iterator[Leaf]:
    if nesting > MAX_NESTING:
        yield Leaf(section, "", None, f"MIME structure nested deeper than {MAX_NESTING}")
        return
    if part.is_multipart():
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart":
            yield from _children(part, section, nesting)
        elif isinstance(payload, list):  # message/rfc822 and the like: one or more messages
            inners = [inner for inner in payload if isinstance(inner, Message)]
            if _encoding(part) in ("base64", "quoted-printable"):
                yield from _encoded_message(inners, section, _encoding(part), nesting)
                return
            for inner in inners:
                yield from _body(inner, section, nesting + 1)
        return
    if part.get_content_maintype() == "multipart":
        yield Leaf(section, "", None, "multipart without its boundary: parts not found")
        return
    name = _name(part)
    data, problem = _decoded(part)
    yield Leaf(section, name, data, problem)
    if data is not None and (data.startswith(b"begin") or b"\nbegin" in data):
        yield from _uuencoded(data, section)


def _name(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # a hostile parameter is not worth failing over: the name is only shown
        return ""
    return printable(name) if isinstance(name, str) else ""


def _encoding(part: Message) -> str:
    return str(part.get("content-transfer-encoding", "")).strip().lower()


def _encoded_message(inners: list[Message], section: str, encoding: str, nesting: int) -> Iterator[Leaf]:
    """An attached message with a transfer encoding (RFC 2046 §5.2.1 forbids it; mail clients decode it
    anyway): the parser took the encoded text for a message without headers, so it is written back,
    decoded, and parsed again."""
    buffer = io.BytesIO()
    for inner in inners:
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(inner)
    data, problem = _transfer_decoded(buffer.getvalue().lstrip(b"\r\n"), encoding)
    if data is None:
        yield Leaf(section, "", None, problem)
        return
    yield from _body(BytesParser(policy=compat32).parsebytes(data), section, nesting + 1)


def _decoded(part: Message) -> tuple[bytes | None, str]:
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None, "part body unreadable"
    try:
        raw = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        raw = payload.encode("utf-8", "surrogateescape")
    return _transfer_decoded(raw, _encoding(part))


def _transfer_decoded(raw: bytes, encoding: str) -> tuple[bytes | None, str]:
    if encoding == "base64":
        try:
            return binascii.a2b_base64(raw), ""
        except binascii.Error as exc:
            return None, f"base64 body damaged ({exc})"
    if encoding == "quoted-printable":
        return binascii.a2b_qp(raw), ""
    if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
        found = next(_uuencoded(raw, ""), None)
        if found is None or found.data is None:
            return None, found.problem if found else "uuencoded body without a begin line"
        return found.data, ""
    return raw, ""


def _uuencoded(text: bytes, section: str) -> Iterator[Leaf]:
    position = 0
    while (begin := UU_BEGIN.search(text, position)) is not None:
        name = printable(begin.group(1).decode("latin-1").strip())
        end = UU_END.search(text, begin.end())
        if end is None:
            yield Leaf(section, name, None, "uuencoded file truncated (no end line)")
            return
        position = end.end()
        decoded = bytearray()
        try:
            for line in text[begin.end() : end.start()].splitlines():
                if line and line != b"`":
                    length = (line[0] - 32) & 0x3F
                    decoded += binascii.a2b_uu(line[: 1 + (length * 4 + 2) // 3])
        except binascii.Error:
            yield Leaf(section, name, None, "uuencoded file damaged")
            continue
        yield Leaf(section, name, bytes(decoded))


def printable(name: str, separator: str = "_") -> str:
    """A name fit for one line of output: control characters and undecodable bytes replaced, and ``/``
    (the path separator of ``EncryptedPart.part``) by ``separator``."""
    if name.isprintable() and "/" not in name:
        return name[:200]
    return "".join(c if c.isprintable() else "_" for c in name[:200]).replace("/", separator)
