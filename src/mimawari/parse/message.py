"""A raw e-mail message read the way a careful receiver reads it: structure, identities, unsubscribe, hops.

``parse_message(raw)`` is pure and total — it never raises, whatever the bytes — and returns what the
message checks and the sender-requirement matrix need:

* RFC 5322 structure (§2.1.1, §2.2, §3.6): exactly one From with exactly one address, exactly one
  parseable Date, one well-formed Message-ID (which Gmail requires of bulk senders), at most one of the
  singular fields, every header line a field with a colon, no line over 998 characters, CR and LF only as
  a pair, no 8-bit header bytes unless they are UTF-8 (RFC 6532, which needs SMTPUTF8 in transit);
* ``List-Unsubscribe`` (RFC 2369) and ``List-Unsubscribe-Post`` (RFC 8058) — see ``message_body``;
* every DKIM-Signature's tags and replay facts (``dkim_signature``), ARC sets (``message_arc``);
* the ``Received`` chain (``message_received``), ``Return-Path``.

The header section is split here, line by line on the raw bytes, because the problems are in the bytes
(a bare CR, a line without a colon) that the ``email`` package quietly repairs. The ``email`` package is
used for what it does well — address lists, dates, MIME parts — each call guarded. Messages longer than
``MAX_MESSAGE_BYTES`` are read up to that size and marked ``truncated``.
"""

from __future__ import annotations

import email.utils
import re
from collections import Counter
from dataclasses import dataclass, field

from mimawari.parse.dkim_signature import DkimSignature, ReplayRisk, parse_dkim_signature, replay_risk
from mimawari.parse.message_arc import ArcHeaders, arc_headers
from mimawari.parse.message_body import ListUnsubscribe, parse_list_unsubscribe, visible_unsubscribe
from mimawari.parse.message_received import ReceivedHop, last_external_hop, parse_received

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
"""Bytes of a message analysed; the rest is ignored (and the message is ``truncated``)."""
MAX_LINE = 998
"""RFC 5322 §2.1.1: a line is at most 998 characters, CRLF excluded."""
MAX_FIELDS = 1000
MAX_SIGNATURES = 10
MAX_HOPS = 50
MAX_PROBLEMS = 20
EXACTLY_ONE = ("from", "date")
AT_MOST_ONE = (
    "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to", "references", "subject",
    "list-unsubscribe", "list-unsubscribe-post", "return-path",
)  # fmt: skip
"""RFC 5322 §3.6 (the table's "max 1"); RFC 2369/8058 and RFC 5321 §4.4 for the last three."""

_FIELD_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_MESSAGE_ID = re.compile(r"^\s*<[^<>@\s]+@[^<>@\s]+>\s*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$")


@dataclass(frozen=True)
class FormatProblem:
    """An RFC 5322 structure problem; ``serious`` when receivers reject or misread such messages (no or
    several From or Date fields, a broken header line, undeclared 8-bit bytes, a bare CR)."""

    text: str
    serious: bool = False


@dataclass(frozen=True)
class HeaderField:
    name: str
    """As written (case kept)."""
    value: str
    """Unfolded, decoded as UTF-8 (invalid bytes replaced), surrounding whitespace removed."""

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class SignatureFacts:
    signature: DkimSignature
    replay: ReplayRisk


@dataclass(frozen=True)
class ParsedMessage:
    """Everything ``parse_message`` learned; ``problems`` are the RFC 5322 structure problems."""

    size: int
    truncated: bool = False
    fields: tuple[HeaderField, ...] = ()
    problems: tuple[FormatProblem, ...] = ()
    notes: tuple[str, ...] = ()
    """Facts worth saying that are not problems (LF line endings of a saved file, UTF-8 headers)."""
    from_addresses: tuple[str, ...] = ()
    from_domain: str = ""
    """The RFC5322.From domain DMARC is about (lower case, IDNA); empty when From has not exactly one
    address with a valid domain."""
    date: str = ""
    """The Date as ISO 8601; empty when absent or unparseable."""
    message_id: str = ""
    subject: str = ""
    return_path: str | None = None
    """The address in ``Return-Path`` (``""`` for ``<>``, a bounce); None when there is no such field."""
    unsubscribe: ListUnsubscribe = field(default_factory=ListUnsubscribe)
    visible_unsubscribe: tuple[str, ...] = ()
    """Where the body shows an unsubscribe link or words (``text/html: link https://…``)."""
    signatures: tuple[SignatureFacts, ...] = ()
    arc: ArcHeaders = field(default_factory=ArcHeaders)
    received: tuple[ReceivedHop, ...] = ()
    """Topmost first."""
    utf8_headers: bool = False

    def count(self, name: str) -> int:
        return sum(1 for f in self.fields if f.key == name.lower())

    def values(self, name: str) -> tuple[str, ...]:
        return tuple(f.value for f in self.fields if f.key == name.lower())

    @property
    def last_hop(self) -> ReceivedHop | None:
        return last_external_hop(self.received)


@dataclass
class _Lines:
    """The raw header lines and what the line scan noticed."""

    header: list[tuple[int, bytes]]
    problems: list[FormatProblem]
    notes: list[str]


def parse_message(raw: bytes) -> ParsedMessage:
    """Read ``raw`` (the message as received, headers and body). Never raises."""
    truncated = len(raw) > MAX_MESSAGE_BYTES
    data = raw[:MAX_MESSAGE_BYTES]
    lines = _scan_lines(data)
    fields, field_problems = _fields(lines.header)
    problems = [*lines.problems, *field_problems]
    notes = list(lines.notes)
    if truncated:
        problems.append(
            FormatProblem(f"the message is larger than {MAX_MESSAGE_BYTES:,} bytes; only that much was read")
        )
    if not data.strip():
        problems.append(FormatProblem("the message is empty", serious=True))
    occurrences = Counter(f.key for f in fields)
    for name in EXACTLY_ONE:
        if occurrences[name] != 1:
            problems.append(
                FormatProblem(
                    f"{occurrences[name]} {_title(name)} fields: exactly one is required (RFC 5322 §3.6)",
                    serious=True,
                )
            )
    for name in AT_MOST_ONE:
        if occurrences[name] > 1:
            problems.append(
                FormatProblem(f"{occurrences[name]} {_title(name)} fields: at most one is allowed")
            )
    values = {name: tuple(f.value for f in fields if f.key == name) for name in occurrences}
    first = {name: found[0] for name, found in values.items() if found}
    addresses, from_domain = _from(first.get("from"), problems)
    if occurrences["from"] != 1:
        from_domain = ""  # RFC 7489 §6.6.1: no single author domain, nothing to align with
    date = _date(first.get("date"), problems)
    message_id = first.get("message-id", "")
    if not message_id:
        problems.append(
            FormatProblem("no Message-ID field (RFC 5322 §3.6.4 SHOULD; Gmail requires it of bulk senders)")
        )
    elif not _MESSAGE_ID.match(message_id):
        problems.append(
            FormatProblem(f"Message-ID {message_id[:80]!r} is not <left@right> (RFC 5322 §3.6.4)")
        )
    utf8 = any(any(ord(c) > 0x7E for c in f.name + f.value) for f in fields)
    if utf8:
        notes.append("header fields hold UTF-8 (RFC 6532): the message needs SMTPUTF8 in transit")
    unsubscribe = parse_list_unsubscribe(
        values.get("list-unsubscribe", ()), values.get("list-unsubscribe-post", ())
    )
    signatures = tuple(
        SignatureFacts(signature, replay_risk(signature, occurrences))
        for signature in (
            parse_dkim_signature(i, v)
            for i, v in enumerate(values.get("dkim-signature", ())[:MAX_SIGNATURES])
        )
    )
    received = tuple(parse_received(i, v) for i, v in enumerate(values.get("received", ())[:MAX_HOPS]))
    return ParsedMessage(
        size=len(raw),
        truncated=truncated,
        fields=fields,
        problems=tuple(dict.fromkeys(problems))[:MAX_PROBLEMS],
        notes=tuple(dict.fromkeys(notes)),
        from_addresses=addresses,
        from_domain=from_domain,
        date=date,
        message_id=message_id,
        subject=first.get("subject", ""),
        return_path=_return_path(first.get("return-path")),
        unsubscribe=unsubscribe,
        visible_unsubscribe=visible_unsubscribe(data, unsubscribe),
        signatures=signatures,
        arc=arc_headers(values),
        received=received,
        utf8_headers=utf8,
    )


def _title(name: str) -> str:
    return {"message-id": "Message-ID", "list-unsubscribe-post": "List-Unsubscribe-Post"}.get(
        name, "-".join(part.capitalize() for part in name.split("-"))
    )


def _scan_lines(data: bytes) -> _Lines:
    """Split the header section off and note line-level problems of the whole message."""
    problems: list[FormatProblem] = []
    notes: list[str] = []
    raw_lines = data.split(b"\n")
    crlf = sum(1 for line in raw_lines[:-1] if line.endswith(b"\r"))
    lf_only = len(raw_lines) - 1 - crlf
    if crlf and lf_only:
        problems.append(
            FormatProblem(
                f"{lf_only} lines end in a bare LF among CRLF lines: CR and LF must come as a pair (RFC 5322 §2.2)"
            )
        )
    elif lf_only:
        notes.append("lines end in LF, not CRLF: usual for a saved file, read as CRLF")
    header: list[tuple[int, bytes]] = []
    body_start = len(raw_lines)
    long_lines: list[int] = []
    bare_cr = 0
    for number, line in enumerate(raw_lines, start=1):
        content = line[:-1] if line.endswith(b"\r") else line
        if b"\r" in content:
            bare_cr += 1
        if len(content) > MAX_LINE:
            long_lines.append(number)
        if body_start == len(raw_lines):
            if content == b"":
                body_start = number
            else:
                header.append((number, content))
    if bare_cr:
        problems.append(
            FormatProblem(
                f"{bare_cr} lines hold a bare CR: CR and LF must come as a pair (RFC 5322 §2.2)", serious=True
            )
        )
    if long_lines:
        problems.append(
            FormatProblem(
                f"{len(long_lines)} lines are longer than {MAX_LINE} characters (first: line {long_lines[0]}; "
                "RFC 5322 §2.1.1) — servers may break them"
            )
        )
    return _Lines(header, problems, notes)


def _fields(header: list[tuple[int, bytes]]) -> tuple[tuple[HeaderField, ...], list[FormatProblem]]:
    problems: list[FormatProblem] = []
    fields: list[tuple[bytes, bytearray]] = []
    eight_bit = False
    for number, line in header:
        if any(b > 0x7F for b in line):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                eight_bit = True
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1][1].extend(line)
            else:
                problems.append(
                    FormatProblem(
                        f"line {number} continues a header field, but none came before it", serious=True
                    )
                )
            continue
        match = _FIELD_NAME.match(line)
        if match is None:
            if number == 1 and line.startswith(b"From "):
                continue  # an mbox "From " separator line, not part of the message
            problems.append(
                FormatProblem(f"line {number} is not a header field (no colon): {_shown(line)}", serious=True)
            )
            continue
        if len(fields) < MAX_FIELDS:
            fields.append((match.group(1), bytearray(line[match.end() :])))
    if eight_bit:
        problems.append(
            FormatProblem(
                "header fields hold 8-bit bytes that are not UTF-8 (RFC 5322 §2.2 allows US-ASCII only)",
                serious=True,
            )
        )
    decoded = tuple(
        HeaderField(name.decode("ascii", "replace"), bytes(value).decode("utf-8", "replace").strip())
        for name, value in fields
    )
    return decoded, problems


def _shown(line: bytes) -> str:
    return repr(line[:60].decode("utf-8", "replace"))


def _from(value: str | None, problems: list[FormatProblem]) -> tuple[tuple[str, ...], str]:
    if value is None:
        return (), ""
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # the address parser of some stdlib versions chokes on hostile input
        pairs = []
    addresses = tuple(address for _name, address in pairs if address)
    if len(addresses) != 1:
        problems.append(
            FormatProblem(
                f"From holds {len(addresses)} addresses ({value[:80]!r}): exactly one is required "
                "(RFC 7489 §6.6.1; Gmail and Yahoo reject others)",
                serious=True,
            )
        )
        return addresses, ""
    local, at, domain = addresses[0].rpartition("@")
    domain = domain.strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii") if any(ord(c) > 0x7F for c in domain) else domain
    except UnicodeError:
        domain = ""
    if not at or not local or not _DOMAIN.match(domain):
        problems.append(
            FormatProblem(
                f"From address {addresses[0][:80]!r} has no valid domain (RFC 5322 §3.4.1)", serious=True
            )
        )
        return addresses, ""
    return addresses, domain


def _date(value: str | None, problems: list[FormatProblem]) -> str:
    if value is None:
        return ""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(FormatProblem(f"Date {value[:60]!r} is not an RFC 5322 §3.3 date", serious=True))
        return ""
    return parsed.isoformat()


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    inner = value.strip()
    if inner.startswith("<") and ">" in inner:
        inner = inner[1 : inner.index(">")]
    return inner.strip()
