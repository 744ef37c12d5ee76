"""SPF macros (RFC 7208 §7): parsing macro strings and domain-specs, and expanding them.

Parsing is separate from expansion so that a record's syntax can be checked whole before anything is
evaluated (§4.6). Expansion needs the values of the letters; ``%{p}`` needs DNS, so the evaluator
resolves it first and passes the result in ``MacroValues.validated``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote

MACRO_LETTERS = "slodiphcrtv"
EXP_ONLY_LETTERS = "crt"
"""Letters allowed only in explanation text (§7.2)."""
DELIMITERS = ".-+,/_="
_EXPAND = re.compile(r"%\{([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)\}")
_ESCAPES = {"%%": "%", "%_": " ", "%-": "%20"}
# toplabel of §12: alphanumerics with at least one letter, or LDH with inner hyphens.
_TOPLABEL = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$")


@dataclass(frozen=True)
class Macro:
    """``%{letter digits r delimiters}``; ``upper`` means URL-escape the result (§7.3)."""

    letter: str
    digits: int | None = None
    reverse: bool = False
    delimiters: str = ""
    upper: bool = False


@dataclass(frozen=True)
class MacroString:
    """A parsed macro-string: literal text pieces and macros, in order."""

    text: str
    parts: tuple[str | Macro, ...] = ()

    @property
    def letters(self) -> frozenset[str]:
        return frozenset(p.letter for p in self.parts if isinstance(p, Macro))

    @property
    def has_macros(self) -> bool:
        return any(isinstance(p, Macro) for p in self.parts)


def parse_macro_string(text: str, *, explanation: bool = False) -> MacroString | str:
    """A macro-string (or, with ``explanation``, an explain-string that may hold spaces and c/r/t)."""
    parsed = _parse(text, explanation)
    return parsed if isinstance(parsed, str) else parsed[0]


def _parse(text: str, explanation: bool) -> tuple[MacroString, bool] | str:
    """The parsed string, and whether it ends in a macro-expand (``%{..}``, ``%%``, ``%_``, ``%-``)."""
    ends_in_macro = False
    parts: list[str | Macro] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char != "%":
            if not (0x21 <= ord(char) <= 0x7E or (explanation and char == " ")):
                return f"character {char!r} is not allowed in a macro string (RFC 7208 §7.1)"
            literal.append(char)
            position += 1
            ends_in_macro = False
            continue
        escape = text[position : position + 2]
        if escape in _ESCAPES:
            literal.append(_ESCAPES[escape])
            position += 2
            ends_in_macro = True
            continue
        match = _EXPAND.match(text, position)
        if match is None:
            return f"invalid macro at {text[position : position + 12]!r} (RFC 7208 §7.1)"
        macro = _macro(match, explanation)
        if isinstance(macro, str):
            return macro
        if literal:
            parts.append("".join(literal))
            literal.clear()
        parts.append(macro)
        position = match.end()
        ends_in_macro = True
    if literal:
        parts.append("".join(literal))
    return MacroString(text, tuple(parts)), ends_in_macro


def _macro(match: re.Match[str], explanation: bool) -> Macro | str:
    letter, digits, reverse, delimiters = match.groups()
    if letter.lower() not in MACRO_LETTERS:
        return f"unknown macro letter %{{{letter}}} (RFC 7208 §7.2)"
    if letter.lower() in EXP_ONLY_LETTERS and not explanation:
        return f"%{{{letter}}} is allowed only in explanation text (RFC 7208 §7.2)"
    if digits and int(digits) == 0:
        return f"{match.group(0)}: the number of parts must not be zero (RFC 7208 §7.3)"
    return Macro(
        letter.lower(),
        int(digits) if digits else None,
        bool(reverse),
        "".join(dict.fromkeys(delimiters)),
        letter.isupper(),
    )


def parse_domain_spec(text: str) -> MacroString | str:
    """A domain-spec (§12): a macro string ending in a macro or in ``.toplabel`` with optional dot."""
    if not text:
        return "the domain is empty"
    parsed = _parse(text, explanation=False)
    if isinstance(parsed, str):
        return parsed
    macro_string, ends_in_macro = parsed
    # domain-end: the spec ends in a macro-expand, or in "." toplabel ["."].
    if ends_in_macro:
        return macro_string
    body = text[:-1] if text.endswith(".") else text
    _, dot, toplabel = body.rpartition(".")
    if not dot or not _TOPLABEL.match(toplabel):
        return f"{text!r} does not end in a valid top-level label (RFC 7208 §7.1)"
    return macro_string


@dataclass(frozen=True)
class MacroValues:
    """What the letters expand to (§7.2). ``validated`` is the %{p} name, resolved by the caller."""

    sender: str
    domain: str
    ip: str
    helo: str
    validated: str = "unknown"
    receiver: str = "unknown"
    timestamp: int = 0

    def value(self, letter: str) -> str:
        local, _, sender_domain = self.sender.rpartition("@")
        address = ipaddress.ip_address(self.ip)
        values = {
            "s": self.sender,
            "l": local,
            "o": sender_domain,
            "d": self.domain,
            "i": _dotted(address),
            "p": self.validated,
            "v": "in-addr" if address.version == 4 else "ip6",
            "h": self.helo,
            "c": str(address),
            "r": self.receiver,
            "t": str(self.timestamp),
        }
        return values[letter]


def _dotted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """%{i}: dotted quad for IPv4, dot-separated nibbles for IPv6 (§7.3)."""
    if address.version == 4:
        return str(address)
    return ".".join(address.exploded.replace(":", ""))


def expand(macro_string: MacroString, values: MacroValues) -> str:
    pieces = []
    for part in macro_string.parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        value = values.value(part.letter)
        split = re.split("[" + re.escape(part.delimiters or ".") + "]", value)
        if part.reverse:
            split.reverse()
        if part.digits is not None:
            split = split[-part.digits :]
        value = ".".join(split)
        # Upper-case letters are URL-escaped: everything outside RFC 3986 "unreserved" (§7.3).
        pieces.append(quote(value, safe="") if part.upper else value)
    return "".join(pieces)


def target_name(expanded: str) -> str:
    """A domain-spec's expansion as a name to query: at most 253 characters, cut label by label from
    the left (§7.3), without the trailing dot."""
    name = expanded[:-1] if expanded.endswith(".") else expanded
    while len(name) > 253 and "." in name:
        name = name.split(".", 1)[1]
    return name
