"""Tag-lists: the ``name=value; name=value`` syntax of DKIM, DMARC, BIMI, TLS-RPT and MTA-STS records.

RFC 6376 §3.2 defines the tag-list; DMARC (RFC 7489 §6.4), BIMI, TLS-RPT (RFC 8460 §3) and MTA-STS
(RFC 8461 §3.1) reuse it with their own whitespace rules and tag names. ``split_tag_list`` does only the
part they share: split on ``;``, separate names from values, and say which parts are not pairs or repeat
an earlier name. What a protocol requires of its tags (``v=`` first, allowed values, the wording of its
problems) stays in that protocol's parser. Pure and total: never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum

# RFC 8460 §3 tlsrpt-ext-name/-value and RFC 8461 §3.1 sts-ext-name/-value, which are the same. Used with
# ``match``: ``$`` also accepts one trailing newline, which the parsers have always let through.
_EXT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_EXT_VALUE = re.compile(r"^[\x21-\x3a\x3c\x3e-\x7e]+$")


class Whitespace(Enum):
    """Where a protocol lets whitespace stand around tags, and which whitespace."""

    FWS = "fws"
    """RFC 6376 §3.2 (DKIM, DMARC, BIMI): folding whitespace around names, ``=`` and values. Stripped
    leniently: any whitespace ``str.strip`` knows, not only SP, HTAB and CRLF."""
    FIELD_DELIM = "field-delim"
    """RFC 8460 §3 / RFC 8461 §3.1 (TLS-RPT, MTA-STS): ``field-delim = *WSP ";" *WSP``. Only spaces and
    tabs, only around ``;``: whitespace next to ``=`` stays in the name or value, for the protocol to
    reject."""


class TagProblem(StrEnum):
    """What is wrong with one part of a tag-list, before any protocol rule."""

    EMPTY = "empty"
    """Nothing between two ``;`` (or before the first). An empty *last* part, from a record that ends in
    ``;``, is allowed by every grammar and not reported."""
    NOT_A_PAIR = "not a pair"
    """No ``=``, or an empty name, or a name that does not match the protocol's pattern."""
    DUPLICATE = "duplicate"
    """The name was seen before; the first value is the one kept in ``TagList.tags``."""


@dataclass(frozen=True)
class TagPart:
    """One ``;``-separated part of a record, in the order it appears."""

    text: str
    """The part with its surrounding whitespace removed, as problems quote it."""
    name: str = ""
    """The name (lower-cased when the caller folds case); for ``NOT_A_PAIR`` whatever stood before ``=``."""
    value: str = ""
    problem: TagProblem | None = None


@dataclass(frozen=True)
class TagList:
    """A record split into parts; ``tags`` are the well-formed ones, first occurrence of each name."""

    parts: tuple[TagPart, ...]

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """``(name, value)`` pairs in record order, without malformed parts or repeated names."""
        return tuple((part.name, part.value) for part in self.parts if part.problem is None)


def split_tag_list(
    text: str,
    *,
    whitespace: Whitespace = Whitespace.FWS,
    fold_case: bool = False,
    tag_name: re.Pattern[str] | None = None,
) -> TagList:
    """Split ``text`` into its parts; every part except an empty last one is kept, problems included.

    ``fold_case`` lower-cases names before they are checked and compared (DMARC and BIMI names are
    case-insensitive; RFC 6376 §3.2 makes DKIM's case-sensitive, and the TLS-RPT and MTA-STS grammars
    spell theirs with ``%s``). ``tag_name`` must ``fullmatch`` a name for the part to be a pair; without
    it any non-empty name is, and the protocol checks names itself.
    """
    strip_chars = " \t" if whitespace is Whitespace.FIELD_DELIM else None
    raw_parts = text.split(";")
    parts: list[TagPart] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_parts):
        part = raw.strip(strip_chars)
        if not part:
            if index != len(raw_parts) - 1:
                parts.append(TagPart(part, problem=TagProblem.EMPTY))
            continue
        name, sep, value = part.partition("=")
        if whitespace is Whitespace.FWS:
            name, value = name.strip(), value.strip()
        if fold_case:
            name = name.lower()
        if not sep or not name or (tag_name is not None and not tag_name.fullmatch(name)):
            parts.append(TagPart(part, name, value, TagProblem.NOT_A_PAIR))
        elif name in seen:
            parts.append(TagPart(part, name, value, TagProblem.DUPLICATE))
        else:
            seen.add(name)
            parts.append(TagPart(part, name, value))
    return TagList(tuple(parts))


def is_extension_field(name: str, value: str) -> bool:
    """True for a well-formed TLS-RPT or MTA-STS extension field (RFC 8460 §3, RFC 8461 §3.1)."""
    return bool(_EXT_NAME.match(name) and _EXT_VALUE.match(value))
