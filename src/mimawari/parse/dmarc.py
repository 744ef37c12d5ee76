"""DMARC records (RFC 7489 §6.3, RFC 9989): tag-list parsing and the policy a receiver applies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_VERSION = re.compile(r"^\s*v\s*=\s*DMARC1\s*(;|$)")


class Policy(StrEnum):
    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


def is_dmarc_record(text: str) -> bool:
    """True for a TXT value a receiver keeps as a DMARC record: it starts with ``v=DMARC1``."""
    return bool(_VERSION.match(text))


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record: its tags in order (names lower-cased) and the problems found."""

    text: str
    tags: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()

    def tag(self, name: str) -> str | None:
        return next((value for key, value in self.tags if key == name), None)

    def policy(self, name: str) -> Policy | None:
        value = self.tag(name)
        try:
            return Policy(value.lower()) if value is not None else None
        except ValueError:
            return None

    @property
    def pct(self) -> int | None:
        value = self.tag("pct")
        return int(value) if value is not None and value.isdigit() and int(value) <= 100 else None

    @property
    def rua(self) -> tuple[str, ...]:
        value = self.tag("rua")
        return tuple(uri.strip() for uri in value.split(",") if uri.strip()) if value else ()

    def effective_policy(self, *, subdomain: bool) -> Policy | None:
        """The policy receivers apply (RFC 7489 §6.6.3); None when they apply no DMARC at all.

        A subdomain without its own record gets ``sp`` when given, else ``p``. A record whose ``p`` is
        missing or invalid still counts as ``p=none`` when it has a reporting address, else not at all.
        """
        if self.policy("p") is None:
            return Policy.NONE if any(uri.lower().startswith("mailto:") for uri in self.rua) else None
        if subdomain and self.tag("sp") is not None:
            return self.policy("sp") or self.policy("p")
        return self.policy("p")

    def with_tag(self, name: str, value: str | None) -> str:
        """The record text with tag ``name`` set to ``value`` (appended if new, dropped if None)."""
        tags = [(k, value if k == name else v) for k, v in self.tags if k != name or value is not None]
        if value is not None and self.tag(name) is None:
            tags.append((name, value))
        return "; ".join(f"{k}={v}" for k, v in tags)


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC TXT value. Never raises: what is wrong is listed in ``problems``."""
    tags: list[tuple[str, str]] = []
    problems: list[str] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key:
            problems.append(f"not a tag=value pair: {part.strip()!r}")
        elif any(k == key for k, _ in tags):
            problems.append(f"tag {key!r} appears more than once")
        else:
            tags.append((key, value))
    record = DmarcRecord(text, tuple(tags))
    if not tags or tags[0] != ("v", "DMARC1"):
        problems.append("the record must start with v=DMARC1")
    if record.tag("p") is None:
        problems.append("required tag p is missing")
    elif record.policy("p") is None:
        problems.append(f"p={record.tag('p')} is not none, quarantine or reject")
    if record.tag("sp") is not None and record.policy("sp") is None:
        problems.append(f"sp={record.tag('sp')} is not none, quarantine or reject")
    if record.tag("pct") is not None and record.pct is None:
        problems.append(f"pct={record.tag('pct')} is not a whole number from 0 to 100")
    return DmarcRecord(text, tuple(tags), tuple(problems))
