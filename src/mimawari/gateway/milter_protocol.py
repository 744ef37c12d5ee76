"""The Sendmail milter protocol (version 6) on the wire: packets, commands, replies and flags. Pure.

Every packet is a 4-byte big-endian length (covering the command byte and the data), one command byte,
and the data; strings in the data end with NUL. The MTA opens with ``SMFIC_OPTNEG`` (version, the
actions it allows, the protocol steps it can skip or not wait for) and the filter answers with what it
wants out of that. The names follow libmilter's ``mfdef.h``, the only specification there is; Postfix's
``milter8.c`` is the other side we talk to.

This module knows the bytes and nothing of sessions; ``milter`` runs the conversation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag

PROTOCOL_VERSION = 6
MAX_PACKET = 1 << 20
"""Longest packet accepted. Body chunks are at most 64 KiB unless a filter asks for more (we do not);
a header is limited by the MTA (Postfix: ``header_size_limit``, 100 KiB). Longer means a broken peer."""
CHUNK = 65535
"""The largest body chunk an MTA sends, and the size ``SMFIR_REPLBODY`` is sent in."""

# Commands, MTA to filter.
ABORT = b"A"
BODY = b"B"
CONNECT = b"C"
MACRO = b"D"
BODYEOB = b"E"
HELO = b"H"
QUIT_NC = b"K"
HEADER = b"L"
MAIL = b"M"
EOH = b"N"
OPTNEG = b"O"
QUIT = b"Q"
RCPT = b"R"
DATA = b"T"
UNKNOWN = b"U"
COMMANDS = frozenset(
    [
        ABORT,
        BODY,
        CONNECT,
        MACRO,
        BODYEOB,
        HELO,
        QUIT_NC,
        HEADER,
        MAIL,
        EOH,
        OPTNEG,
        QUIT,
        RCPT,
        DATA,
        UNKNOWN,
    ]
)

# Replies, filter to MTA.
ACCEPT = b"a"
CONTINUE = b"c"
DISCARD = b"d"
REJECT = b"r"
TEMPFAIL = b"t"
SKIP = b"s"
REPLYCODE = b"y"
ADDHEADER = b"h"
CHGHEADER = b"m"
REPLBODY = b"b"
QUARANTINE = b"q"


class Action(IntFlag):
    """What a filter may do to a message at end of data (``SMFIF_*``)."""

    ADDHDRS = 0x01
    CHGBODY = 0x02
    ADDRCPT = 0x04
    DELRCPT = 0x08
    CHGHDRS = 0x10
    QUARANTINE = 0x20
    CHGFROM = 0x40
    ADDRCPT_PAR = 0x80
    SETSYMLIST = 0x100


class Step(IntFlag):
    """Protocol steps a filter does without (``NO*``) or does not answer (``NR_*``) (``SMFIP_*``)."""

    NOCONNECT = 0x01
    NOHELO = 0x02
    NOMAIL = 0x04
    NORCPT = 0x08
    NOBODY = 0x10
    NOHDRS = 0x20
    NOEOH = 0x40
    NR_HDR = 0x80
    NOUNKNOWN = 0x100
    NODATA = 0x200
    SKIP = 0x400
    RCPT_REJ = 0x800
    NR_CONN = 0x1000
    NR_HELO = 0x2000
    NR_MAIL = 0x4000
    NR_RCPT = 0x8000
    NR_DATA = 0x10000
    NR_UNKN = 0x20000
    NR_EOH = 0x40000
    NR_BODY = 0x80000
    HDR_LEADSPC = 0x100000


WANTED_ACTIONS = Action.ADDHDRS | Action.CHGHDRS | Action.CHGBODY | Action.QUARANTINE
WANTED_STEPS = (
    # HELO, DATA and unknown commands say nothing about attachments; headers need no answer one by one.
    Step.NOHELO | Step.NODATA | Step.NOUNKNOWN | Step.NR_HDR | Step.SKIP | Step.HDR_LEADSPC
)
"""Asked for, as far as the MTA offers each; ``SKIP`` lets an oversized body stop arriving."""

NO_REPLY_STEPS = {
    CONNECT: Step.NR_CONN,
    HELO: Step.NR_HELO,
    MAIL: Step.NR_MAIL,
    RCPT: Step.NR_RCPT,
    DATA: Step.NR_DATA,
    UNKNOWN: Step.NR_UNKN,
    HEADER: Step.NR_HDR,
    EOH: Step.NR_EOH,
    BODY: Step.NR_BODY,
}

_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer broke the protocol; the message is one line for the log and the connection is closed."""


@dataclass(frozen=True)
class Negotiation:
    version: int
    actions: Action
    steps: Step


def packet(command: bytes, data: bytes = b"") -> bytes:
    return _LENGTH.pack(len(data) + 1) + command + data


def packet_length(prefix: bytes) -> int:
    """The length a 4-byte prefix announces, checked against ``MAX_PACKET``."""
    (length,) = _LENGTH.unpack(prefix)
    if length == 0:
        raise ProtocolError("a packet of length 0 (no command byte)")
    if length > MAX_PACKET:
        raise ProtocolError(f"a packet of {length} bytes, more than the limit of {MAX_PACKET}")
    return int(length)


def parse_optneg(data: bytes) -> Negotiation:
    if len(data) < 12:
        raise ProtocolError(f"an option negotiation of {len(data)} bytes, not 12")
    version, actions, steps = struct.unpack(">III", data[:12])
    return Negotiation(version, Action(actions), Step(steps))


def negotiate(offer: Negotiation) -> Negotiation:
    """Our answer to the MTA's offer: what we want of what it offers. Version 2 is the oldest whose
    replies we could send; anything below it is refused."""
    if offer.version < 2:
        raise ProtocolError(f"the MTA speaks milter protocol version {offer.version}, older than 2")
    return Negotiation(
        min(offer.version, PROTOCOL_VERSION), offer.actions & WANTED_ACTIONS, offer.steps & WANTED_STEPS
    )


def optneg_reply(answer: Negotiation) -> bytes:
    return packet(OPTNEG, struct.pack(">III", answer.version, answer.actions, answer.steps))


def strings(data: bytes) -> list[str]:
    """NUL-terminated strings; bytes that are not UTF-8 are kept as surrogate escapes."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [part.decode("utf-8", "surrogateescape") for part in parts]


def parse_macros(data: bytes) -> tuple[bytes, dict[str, str]]:
    """``SMFIC_MACRO``: the command the macros belong to, then name/value pairs. Names lose their
    braces (``{mail_addr}`` → ``mail_addr``) so that ``{i}`` and ``i`` are one name."""
    if not data:
        raise ProtocolError("a macro packet without the command it belongs to")
    fields = strings(data[1:])
    pairs = zip(fields[0::2], fields[1::2], strict=False)
    return data[:1], {name.strip("{}"): value for name, value in pairs}


@dataclass(frozen=True)
class Connect:
    host: str
    family: str
    """``4``, ``6``, ``L`` (a local socket) or ``U`` (unknown)."""
    port: int
    address: str


def parse_connect(data: bytes) -> Connect:
    host, _, rest = data.partition(b"\0")
    if not rest:
        raise ProtocolError("a connect packet without an address family")
    family = rest[:1].decode("ascii", "replace")
    if family == "U":
        return Connect(host.decode("utf-8", "replace"), family, 0, "")
    if len(rest) < 3:
        raise ProtocolError("a connect packet cut short")
    (port,) = struct.unpack(">H", rest[1:3])
    address = rest[3:].split(b"\0", 1)[0].decode("utf-8", "replace")
    return Connect(host.decode("utf-8", "replace"), family, port, address)


def parse_header(data: bytes) -> tuple[bytes, bytes]:
    """``SMFIC_HEADER``: the name and the value, raw bytes (the value may be folded over lines)."""
    name, separator, rest = data.partition(b"\0")
    if not separator:
        raise ProtocolError("a header packet without a value")
    return name, rest[:-1] if rest.endswith(b"\0") else rest


def envelope_address(data: bytes) -> str:
    """The address of ``SMFIC_MAIL`` / ``SMFIC_RCPT`` (its first string, ``<user@host>``; ESMTP
    parameters follow), without the angle brackets."""
    fields = strings(data)
    return fields[0].strip().removeprefix("<").removesuffix(">") if fields else ""


def reply_code(code: str, status: str, lines: list[str]) -> bytes:
    """``SMFIR_REPLYCODE``: ``550 5.7.1 text``, several lines joined as an SMTP multi-line reply.
    ``%`` is doubled because Sendmail reads the text as a format string."""
    texts = [line.replace("%", "%%") for line in lines] or [""]
    rows = [f"{code}{'-' if n < len(texts) - 1 else ' '}{status} {text}" for n, text in enumerate(texts)]
    return packet(REPLYCODE, "\r\n".join(rows).encode("utf-8") + b"\0")


def add_header(name: str, value: str) -> bytes:
    return packet(ADDHEADER, name.encode("ascii") + b"\0" + value.encode("utf-8") + b"\0")


def change_header(name: str, index: int, value: str) -> bytes:
    """``SMFIR_CHGHEADER``: the ``index``-th (from 1) header called ``name`` gets ``value``; an empty
    value deletes it."""
    return packet(
        CHGHEADER, struct.pack(">I", index) + name.encode("ascii") + b"\0" + value.encode("utf-8") + b"\0"
    )


def replace_body(body: bytes) -> list[bytes]:
    """``SMFIR_REPLBODY`` packets carrying ``body`` in chunks; an empty body is one empty packet."""
    return [packet(REPLBODY, body[start : start + CHUNK]) for start in range(0, len(body), CHUNK)] or [
        packet(REPLBODY)
    ]


def quarantine(reason: str) -> bytes:
    return packet(QUARANTINE, reason.encode("utf-8") + b"\0")
