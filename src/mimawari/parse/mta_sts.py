"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the policy file, and MX pattern matching.

Parsers never raise: what is wrong is listed in ``problems``, in words a domain owner can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mimawari.parse.taglist import TagProblem, Whitespace, is_extension_field, split_tag_list

MAX_AGE_LIMIT = 31_557_600
"""RFC 8461 §3.2: max_age is at most 31557600 seconds (about one year)."""
MAX_AGE_RECOMMENDED = 86_400
"""RFC 8461 §3.2 (and §10.2): values of weeks or more are recommended; below a day policies lapse quickly."""

_STS_VERSION = re.compile(r"^v=STSv1\s*(;|$)")
_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def is_sts_record(text: str) -> bool:
    """True for a TXT value senders keep (RFC 8461 §3.1: it begins with ``v=STSv1;``)."""
    return bool(_STS_VERSION.match(text))


@dataclass(frozen=True)
class StsRecord:
    """A parsed ``_mta-sts`` TXT record."""

    text: str
    fields: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    @property
    def id(self) -> str | None:
        return self.field("id")

    @property
    def valid(self) -> bool:
        return not self.problems


def parse_sts_record(text: str) -> StsRecord:
    tag_list = split_tag_list(text, whitespace=Whitespace.FIELD_DELIM)
    fields = tag_list.tags
    problems: list[str] = []
    for part in tag_list.parts:
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(f"not a name=value field: {part.text!r}")
        elif part.problem is TagProblem.DUPLICATE:
            problems.append(f"field {part.name!r} appears more than once")
    record = StsRecord(text, fields)
    if not fields or fields[0] != ("v", "STSv1"):
        problems.append("the record must begin with v=STSv1")
    policy_id = record.id
    if policy_id is None:
        problems.append("required field id is missing")
    elif not _STS_ID.match(policy_id):
        problems.append(f"id={policy_id!r} must be 1 to 32 letters and digits")
    for name, value in fields:
        if name in ("v", "id"):
            continue
        if not is_extension_field(name, value):
            problems.append(f"field {name}={value!r} is not a valid extension field")
    return StsRecord(text, fields, tuple(problems))


class StsMode(StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True)
class StsPolicy:
    """A parsed policy file (RFC 8461 §3.2). Fields are None when missing or invalid."""

    version: str | None = None
    mode: StsMode | None = None
    max_age: int | None = None
    mx: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    def covers(self, host: str) -> bool:
        """True when an MX host matches one of the policy's ``mx`` patterns (RFC 8461 §4.1)."""
        return any(mx_matches(pattern, host) for pattern in self.mx)

    def to_text(self) -> str:
        """The policy in file form, e.g. for a fix (LF line ends, which senders accept: errata 6253)."""
        lines = [f"version: {self.version or 'STSv1'}", f"mode: {(self.mode or StsMode.TESTING).value}"]
        lines += [f"mx: {pattern}" for pattern in self.mx]
        lines.append(f"max_age: {self.max_age if self.max_age is not None else 604800}")
        return "\n".join(lines) + "\n"


def valid_mx_pattern(pattern: str) -> bool:
    """``mail.example.com`` or ``*.example.com``: a domain name, optionally with a leading ``*.`` label."""
    name = pattern.lower().removeprefix("*.").rstrip(".")
    labels = name.split(".")
    return len(labels) >= 2 and len(name) <= 253 and all(_LABEL.match(label) for label in labels)


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: exact match, or ``*.`` matching exactly one left-most label (not the bare parent)."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return pattern == host


def _policy_fields(body: str, problems: list[str]) -> tuple[dict[str, str], list[str]]:
    """The policy's ``key: value`` lines: single fields (first kept) and the mx patterns in order."""
    values: dict[str, str] = {}
    mx: list[str] = []
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip(" \t")
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip(" \t")
        if not sep or not key:
            problems.append(f"not a key: value line: {line[:80]!r}")
        elif key == "mx" and valid_mx_pattern(value):
            mx.append(value.lower().rstrip("."))
        elif key == "mx":
            problems.append(f"mx: {value!r} is not a host name or *.domain pattern")
        elif key in values and key in ("version", "mode", "max_age"):
            problems.append(f"{key} appears more than once")
        else:
            values.setdefault(key, value)
    return values, mx


def _max_age(values: dict[str, str], problems: list[str]) -> int | None:
    text = values.get("max_age")
    if text is None:
        problems.append("required field max_age is missing")
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_AGE_LIMIT:
        problems.append(f"max_age: {text!r} is not a number of seconds from 0 to {MAX_AGE_LIMIT}")
        return None
    return int(text)


def parse_sts_policy(body: str) -> StsPolicy:
    """Parse a policy body; lines end in CRLF or LF (RFC 8461 errata 6253), unknown keys are ignored."""
    problems: list[str] = []
    values, mx = _policy_fields(body, problems)
    version = values.get("version")
    if version is None:
        problems.append("required field version is missing")
    elif version != "STSv1":
        problems.append(f"version: {version!r} is not STSv1")
        version = None
    mode: StsMode | None = None
    if "mode" not in values:
        problems.append("required field mode is missing")
    else:
        try:
            mode = StsMode(values["mode"])
        except ValueError:
            problems.append(f"mode: {values['mode']!r} is not enforce, testing or none")
    max_age = _max_age(values, problems)
    if not mx and mode is not StsMode.NONE:
        problems.append("no mx patterns: the policy allows no MX host")
    return StsPolicy(version, mode, max_age, tuple(dict.fromkeys(mx)), tuple(problems))
