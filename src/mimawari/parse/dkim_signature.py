"""DKIM-Signature header fields (RFC 6376 §3.5) and what makes a signature replayable.

A DKIM signature stays valid wherever the signed message goes, so a spammer who gets one signed message
can send it again to millions ("DKIM replay"). Three properties of a signature make that easier:

* ``l=`` (body length, §3.5 and §8.2): only the first ``l`` octets of the body are signed, so anything
  appended — a different offer, a link — keeps the signature valid;
* no ``x=`` (expiry, §3.5): the signature stays valid for as long as the key is published;
* header fields not *oversigned* (§5.4.2, §8.15): a verifier hashes the last instance of each name in
  ``h=`` counting from the bottom, so a header field signed once can be added again on top — a second
  ``Subject`` or ``To`` that many mail clients display — without breaking the signature. Listing a name
  once more than it occurs signs its absence, and the signature breaks when one is added.

Parsing uses the shared tag-list splitter; never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mimawari.parse.taglist import TagProblem, split_tag_list

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_WHITESPACE = re.compile(r"[ \t\r\n]+")
REQUIRED_TAGS = ("v", "a", "b", "bh", "d", "h", "s")
"""RFC 6376 §3.5: the tags a signature cannot do without."""
PROTECTED_FIELDS = (
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "reply-to",
    "sender",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "content-type",
)
"""Header fields whose added copy changes what a reader sees or does (RFC 6376 §8.15 names From,
Subject, Date, To, Cc; RFC 8058 §4 the unsubscribe pair; Content-Type decides what body is shown)."""
MAX_VALUE = 200
"""Characters of a signature kept for evidence (``b=`` left out)."""


@dataclass(frozen=True)
class DkimSignature:
    """One DKIM-Signature field, its tags read with RFC 6376 defaults. ``index`` 0 is the topmost."""

    index: int
    text: str
    """The field without its ``b=`` value, cut to ``MAX_VALUE`` characters, for evidence."""
    domain: str = ""
    """``d=``, lower case."""
    selector: str = ""
    """``s=``, lower case."""
    algorithm: str = ""
    """``a=``, lower case: ``rsa-sha256``, ``ed25519-sha256`` or ``rsa-sha1`` (RFC 8301 forbids it)."""
    canonicalization: str = "simple/simple"
    identity: str = ""
    """``i=``; empty when absent (it then defaults to ``@`` plus ``d=``)."""
    body_length: int | None = None
    """``l=``: the signed body length; None when the whole body is signed."""
    timestamp: int | None = None
    """``t=``, Unix seconds."""
    expires: int | None = None
    """``x=``, Unix seconds; None: never expires."""
    signed_fields: tuple[str, ...] = ()
    """``h=``, lower case, in order, repeats kept (a repeat is an oversigned or multiply signed field)."""
    problems: tuple[str, ...] = ()
    """Why a verifier must reject the field as malformed (RFC 6376 §6.1.1 PERMFAIL)."""

    @property
    def key_name(self) -> str:
        """Where the key lives: ``<s>._domainkey.<d>`` (RFC 6376 §3.6.2.1)."""
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def well_formed(self) -> bool:
        return not self.problems

    def signs(self, name: str) -> int:
        """How many times ``h=`` lists the header field ``name``."""
        return self.signed_fields.count(name.lower())


@dataclass(frozen=True)
class ReplayRisk:
    """What makes one signature replayable with changes, from the signature and the message's fields."""

    body_length: int | None
    """``l=``: everything after this many body octets can be changed."""
    expires: int | None
    """``x=``; None means the signature never expires."""
    not_oversigned: tuple[str, ...]
    """Protected fields the message has that ``h=`` lists no more times than they occur: another copy
    can be added without breaking the signature."""
    unsigned: tuple[str, ...]
    """Protected fields the message has that ``h=`` does not list at all."""

    @property
    def risky(self) -> bool:
        return self.body_length is not None or bool(self.not_oversigned) or bool(self.unsigned)


def parse_dkim_signature(index: int, value: str) -> DkimSignature:
    """Parse a DKIM-Signature field value (unfolded or not). Never raises."""
    tag_list = split_tag_list(value, tag_name=_TAG_NAME)
    problems: list[str] = []
    for part in tag_list.parts:
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(f"{part.text[:40]!r} is not a tag=value pair (RFC 6376 §3.2)")
        elif part.problem is TagProblem.DUPLICATE:
            problems.append(f"{part.name}= appears twice, which invalidates the signature (RFC 6376 §3.2)")
    tags = {
        name: _WHITESPACE.sub("", v) if name in ("b", "bh", "h") else v.strip() for name, v in tag_list.tags
    }
    problems.extend(f"no {name}= tag (RFC 6376 §3.5)" for name in REQUIRED_TAGS if name not in tags)
    if "v" in tags and tags["v"] != "1":
        problems.append(f"v={tags['v']}: the version must be 1")
    numbers = {name: _number(name, tags.get(name), problems) for name in ("l", "t", "x")}
    domain = tags.get("d", "").rstrip(".").lower()
    identity = tags.get("i", "")
    if identity and domain:
        i_domain = identity.rpartition("@")[2].rstrip(".").lower()
        if i_domain != domain and not i_domain.endswith("." + domain):
            problems.append(f"i={identity}: not in d={domain} or a subdomain (RFC 6376 §3.5)")
    expires, timestamp = numbers["x"], numbers["t"]
    if expires is not None and timestamp is not None and expires < timestamp:
        problems.append(f"x={expires} is before t={timestamp} (RFC 6376 §3.5)")
    signed_fields = tuple(name.strip().lower() for name in tags.get("h", "").split(":") if name.strip())
    if "h" in tags and "from" not in signed_fields:
        problems.append("h= does not list From, which must be signed (RFC 6376 §5.4)")
    shown = "; ".join(f"{name}={'…' if name == 'b' else tags[name]}" for name, _value in tag_list.tags)
    return DkimSignature(
        index,
        shown[:MAX_VALUE] + ("…" if len(shown) > MAX_VALUE else ""),
        domain,
        tags.get("s", "").rstrip(".").lower(),
        tags.get("a", "").lower(),
        tags.get("c", "simple/simple").lower() or "simple/simple",
        identity,
        numbers["l"],
        timestamp,
        expires,
        signed_fields,
        tuple(problems),
    )


def _number(name: str, value: str | None, problems: list[str]) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 76:
        problems.append(f"{name}={value[:20]} is not a decimal number (RFC 6376 §3.5)")
        return None
    return int(value)


def replay_risk(signature: DkimSignature, occurrences: Mapping[str, int]) -> ReplayRisk:
    """The replay facts of ``signature`` for a message with ``occurrences`` (field name → count)."""
    present = [name for name in PROTECTED_FIELDS if occurrences.get(name, 0) > 0]
    return ReplayRisk(
        signature.body_length,
        signature.expires,
        tuple(n for n in present if 0 < signature.signs(n) <= occurrences[n]),
        tuple(n for n in present if signature.signs(n) == 0),
    )
