"""SPF records (RFC 7208): record selection (§4.5) and the term grammar (§4.6.1, §5, §6, §12).

The parser never raises. A record with any syntax error is a permerror for receivers (§4.6: the whole
record is checked, not only the terms evaluated), so ``SpfRecord.problems`` lists every error found,
one sentence each, and ``SpfRecord.terms`` holds the terms that did parse (for reports and fixes).
Macro strings are parsed by ``mimawari.parse.spf_macro``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from mimawari.parse.spf_macro import MacroString, parse_domain_spec, parse_macro_string

VERSION = "v=spf1"
_QUALIFIERS = "+-?~"
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$", re.DOTALL)
_DIRECTIVE = re.compile(r"^([+?~-]?)([A-Za-z0-9]*)(.*)$", re.DOTALL)
# qnum of §12: no leading zeros, 0-255.
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"^{_QNUM}(?:\.{_QNUM}){{3}}$")
_IP6_CHARS = re.compile(r"^[0-9A-Fa-f:.]+$")
_CIDR4 = re.compile(r"^(?:0|[1-9][0-9]?)$")
_CIDR6 = re.compile(r"^(?:0|[1-9][0-9]{0,2})$")
# dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], taken from the end of the term.
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?$")


class Qualifier(StrEnum):
    PASS = "+"
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"


LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
"""Mechanisms that cost a DNS lookup (§4.6.4); the ``redirect`` modifier costs one too."""


@dataclass(frozen=True)
class Mechanism:
    """A directive: qualifier, mechanism name (lower case) and its arguments.

    ``domain_spec`` is the unexpanded target (None when the mechanism uses the current domain);
    ``network`` the ip4/ip6 network; ``cidr4``/``cidr6`` the prefix lengths of a/mx (and ip4/ip6).
    """

    text: str
    qualifier: Qualifier
    name: str
    domain_spec: MacroString | None = None
    network: str = ""
    cidr4: int = 32
    cidr6: int = 128

    @property
    def costs_lookup(self) -> bool:
        return self.name in LOOKUP_MECHANISMS

    @property
    def target_text(self) -> str:
        """The target as written, or empty when it is the current domain."""
        return self.domain_spec.text if self.domain_spec is not None else ""


@dataclass(frozen=True)
class Modifier:
    """``name=value``; ``value`` is a parsed macro string (a domain-spec for redirect and exp)."""

    text: str
    name: str
    value: MacroString


Term = Mechanism | Modifier


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...] = ()
    problems: tuple[str, ...] = ()
    invalid_terms: tuple[str, ...] = ()
    """The words that did not parse, verbatim."""

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    def modifier(self, name: str) -> Modifier | None:
        return next((t for t in self.terms if isinstance(t, Modifier) and t.name == name), None)

    @property
    def all(self) -> Mechanism | None:
        """The first ``all``; terms after it are never evaluated (§5.1)."""
        return next((m for m in self.mechanisms if m.name == "all"), None)

    @property
    def redirect(self) -> Modifier | None:
        """The redirect that applies: none when the record has ``all`` (§5.1, §6.1)."""
        return None if self.all is not None else self.modifier("redirect")

    @property
    def evaluated_mechanisms(self) -> tuple[Mechanism, ...]:
        """The mechanisms a receiver can reach: those up to and including the first ``all``."""
        reached: list[Mechanism] = []
        for mechanism in self.mechanisms:
            reached.append(mechanism)
            if mechanism.name == "all":
                break
        return tuple(reached)

    @property
    def lookup_terms(self) -> int:
        """DNS-lookup terms a receiver evaluates at most in this record alone (§4.6.4)."""
        return sum(m.costs_lookup for m in self.evaluated_mechanisms) + (self.redirect is not None)


def is_spf_record(text: str) -> bool:
    """True for a TXT value a receiver keeps (§4.5): ``v=spf1`` (any case) then a space or the end."""
    return text[:6].lower() == VERSION and (len(text) == 6 or text[6] == " ")


def select_spf_records(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(value for value in values if is_spf_record(value))


def parse_spf(text: str) -> SpfRecord:
    if not is_spf_record(text):
        return SpfRecord(text, problems=("the record does not start with v=spf1",))
    terms: list[Term] = []
    problems: list[str] = []
    invalid: list[str] = []
    for word in text[6:].split(" "):
        if not word:
            continue  # 1*SP between terms; trailing spaces are allowed (§12 record)
        term = parse_term(word)
        if isinstance(term, str):
            problems.append(term)
            invalid.append(word)
        else:
            terms.append(term)
    for name in ("redirect", "exp"):
        if sum(isinstance(t, Modifier) and t.name == name for t in terms) > 1:
            problems.append(f"the {name} modifier appears more than once (RFC 7208 §6)")
    return SpfRecord(text, tuple(terms), tuple(problems), tuple(invalid))


def parse_term(word: str) -> Term | str:
    """One term, or a sentence saying why it is invalid."""
    if not word.isascii() or not word.isprintable():
        return f"{word!r}: SPF records are printable US-ASCII (RFC 7208 §3.1, §12)"
    modifier = _MODIFIER.match(word)
    if modifier:  # '=' right after the name, before any ':' or '/', makes a modifier (§4.6.1)
        return _parse_modifier(word, modifier.group(1).lower(), modifier.group(2))
    match = _DIRECTIVE.match(word)
    assert match is not None
    qualifier, name, rest = match.group(1) or "+", match.group(2).lower(), match.group(3)
    parser = _MECHANISMS.get(name)
    if parser is None:
        return f"{word!r}: unknown mechanism {name or word!r} (RFC 7208 §5)"
    result = parser(rest)
    if isinstance(result, str):
        return f"{word!r}: {result}"
    domain_spec, network, cidr4, cidr6 = result
    return Mechanism(word, Qualifier(qualifier), name, domain_spec, network, cidr4, cidr6)


def _parse_modifier(word: str, name: str, value: str) -> Modifier | str:
    if name in ("redirect", "exp"):
        spec = parse_domain_spec(value)
        if isinstance(spec, str):
            return f"{word!r}: {spec}"
        return Modifier(word, name, spec)
    parsed = parse_macro_string(value)  # unknown modifiers are ignored, but must be well-formed (§6)
    if isinstance(parsed, str):
        return f"{word!r}: {parsed}"
    return Modifier(word, name, parsed)


_Args = tuple[MacroString | None, str, int, int]


def _no_argument(rest: str) -> _Args | str:
    return (None, "", 32, 128) if not rest else "this mechanism takes no argument"


def _required_domain(rest: str) -> _Args | str:
    if not rest.startswith(":") or len(rest) == 1:
        return "a ':' and a domain are required"
    spec = parse_domain_spec(rest[1:])
    return spec if isinstance(spec, str) else (spec, "", 32, 128)


def _optional_domain(rest: str) -> _Args | str:
    if not rest:
        return (None, "", 32, 128)
    return _required_domain(rest) if rest.startswith(":") else "expected ':' and a domain"


def _domain_and_cidr(rest: str) -> _Args | str:
    cidr = _DUAL_CIDR.search(rest)
    assert cidr is not None
    lengths = _dual_cidr(cidr.group(1), cidr.group(2))
    if isinstance(lengths, str):
        return lengths
    target = _optional_domain(rest[: cidr.start()])
    return target if isinstance(target, str) else (target[0], "", *lengths)


def _dual_cidr(cidr4: str | None, cidr6: str | None) -> tuple[int, int] | str:
    if cidr4 is not None and not (_CIDR4.match(cidr4) and int(cidr4) <= 32):
        return f"invalid IPv4 prefix length /{cidr4}"
    if cidr6 is not None and not (_CIDR6.match(cidr6) and int(cidr6) <= 128):
        return f"invalid IPv6 prefix length /{cidr6}"
    return (int(cidr4) if cidr4 else 32, int(cidr6) if cidr6 else 128)


def _ip4(rest: str) -> _Args | str:
    address, _, length = rest[1:].partition("/")
    if not rest.startswith(":") or not _IP4.match(address):
        return "expected ':' and an IPv4 address in dotted-quad form"
    if "/" in rest and not (_CIDR4.match(length) and int(length) <= 32):
        return f"invalid IPv4 prefix length /{length}"
    prefix = int(length) if length else 32
    return (None, str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)), prefix, 128)


def _ip6(rest: str) -> _Args | str:
    address, _, length = rest[1:].partition("/")
    if not rest.startswith(":") or not _IP6_CHARS.match(address):
        return "expected ':' and an IPv6 address"
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return f"{address!r} is not an IPv6 address"
    if "/" in rest and not (_CIDR6.match(length) and int(length) <= 128):
        return f"invalid IPv6 prefix length /{length}"
    prefix = int(length) if length else 128
    return (None, str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)), 32, prefix)


def _ptr(rest: str) -> _Args | str:
    return _optional_domain(rest)


_MECHANISMS = {
    "all": _no_argument,
    "include": _required_domain,
    "a": _domain_and_cidr,
    "mx": _domain_and_cidr,
    "ptr": _ptr,
    "ip4": _ip4,
    "ip6": _ip6,
    "exists": _required_domain,
}
