"""DMARC records (RFC 7489 §6.3, RFC 9989 §4.7–4.8): tag-list parsing and the policy a receiver applies.

The parser never raises: what is wrong is listed in ``DmarcRecord.problems`` (one sentence each), and
``DmarcRecord.rebuilt`` gives the corrected record a domain owner can publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from mimawari.parse.taglist import TagProblem, split_tag_list

_VERSION = re.compile(r"^\s*v\s*=\s*DMARC1\s*(;|$)")
_TAG_NAME = re.compile(r"[a-z]+")  # matched after case folding
_PRINTABLE = re.compile(r"^[\x20-\x3a\x3c-\x7e]+$")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(.+)$", re.IGNORECASE)
# RFC 9989 §4.8 obs-dmarc-report-size; RFC 7489 §6.2 allowed it as a size limit on reports.
_SIZE = re.compile(r"^(.*?)!(\d+[kmgt]?)$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_LOCAL_PART = re.compile(r"^[^\s@<>()\[\],;:\\\"]+$")

KNOWN_TAGS = ("v", "p", "sp", "np", "t", "psd", "adkim", "aspf", "rua", "ruf", "fo")
"""Tags RFC 9989 registers (§9.4); unknown tags MUST be ignored by receivers (§4.7)."""

REMOVED_TAGS = {
    "pct": "t=y (testing mode) replaces pct=0; other values are ignored by RFC 9989 receivers",
    "rf": "nothing: failure reports always use the AFRF format",
    "ri": "nothing: aggregate reports are sent about daily (RFC 9990)",
}
"""RFC 7489 tags that RFC 9989 removed (Appendix C), with what replaces them."""


class Policy(StrEnum):
    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"

    @property
    def strength(self) -> int:
        """0 for none, 1 for quarantine, 2 for reject."""
        return list(Policy).index(self)

    def weakened(self) -> Policy:
        """One level down, as RFC 9989 §4.7 ``t=y`` asks receivers to apply."""
        return list(Policy)[max(self.strength - 1, 0)]


def is_dmarc_record(text: str) -> bool:
    """True for a TXT value a receiver keeps as a DMARC record: it starts with ``v=DMARC1``."""
    return bool(_VERSION.match(text))


def looks_like_dmarc(text: str) -> bool:
    """A TXT value meant as DMARC that receivers discard (``v=dmarc1``, ``p=none; v=DMARC1`` …)."""
    return not is_dmarc_record(text) and "dmarc1" in text.lower()


@dataclass(frozen=True)
class ReportUri:
    """One URI of ``rua``/``ruf`` (RFC 9989 §4.6, §4.8): a mailto: address with an optional size."""

    text: str
    scheme: str = ""
    address: str = ""
    host: str = ""
    size: str = ""
    """The obsolete ``!size`` suffix (RFC 7489 §6.2), without the ``!``; RFC 9989 reporters ignore it."""
    problem: str = ""

    @property
    def valid(self) -> bool:
        return not self.problem

    @property
    def without_size(self) -> str:
        return self.text[: -len(self.size) - 1] if self.size else self.text


def parse_report_uri(text: str) -> ReportUri:
    """Parse one reporting URI; ``problem`` says why receivers would ignore it."""
    text = text.strip()
    body, size = text, ""
    if sized := _SIZE.match(text):
        body, size = sized.group(1), sized.group(2)
    scheme_match = _SCHEME.match(body)
    if not scheme_match:
        hint = " (missing mailto:)" if "@" in body else ""
        return ReportUri(text, size=size, problem=f"{text!r} is not a URI{hint}")
    scheme, rest = scheme_match.group(1).lower(), scheme_match.group(2)
    if "!" in body:
        return ReportUri(text, scheme, size=size, problem=f"{text!r}: '!' must be percent-encoded")
    if scheme != "mailto":
        host = rest.removeprefix("//").split("/", 1)[0].split(":", 1)[0].lower()
        return ReportUri(text, scheme, host=host, size=size)
    address = unquote(rest.split("?", 1)[0]).strip()
    local, at, host = address.rpartition("@")
    host = host.rstrip(".").lower()
    if not at or not _LOCAL_PART.match(local) or not _valid_host(host):
        return ReportUri(text, scheme, address, host, size, f"{text!r} is not a valid mailto: address")
    return ReportUri(text, scheme, address, host, size)


def _valid_host(host: str) -> bool:
    labels = host.split(".")
    return len(labels) >= 2 and len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _fo_valid(value: str) -> bool:
    options = value.split(":")
    return (
        all(o in ("0", "1", "d", "s") for o in options)
        and len(set(options)) == len(options)
        and not {"0", "1"} <= set(options)
    )


_VALUES = {
    "p": ("none", "quarantine", "reject"),
    "sp": ("none", "quarantine", "reject"),
    "np": ("none", "quarantine", "reject"),
    "adkim": ("r", "s"),
    "aspf": ("r", "s"),
    "t": ("y", "n"),
    "psd": ("y", "n", "u"),
}


def _value_problem(key: str, value: str) -> str:
    """Why ``key=value`` is not valid, or "" (unknown tags are never invalid: receivers ignore them)."""
    if key in _VALUES and value.lower() not in _VALUES[key]:
        choices = ", ".join(_VALUES[key])
        return f"{key}={value} is not {choices.rsplit(', ', 1)[0]} or {choices.rsplit(', ', 1)[1]}"
    if key == "pct" and not (value.isdigit() and int(value) <= 100):
        return f"pct={value} is not a whole number from 0 to 100"
    if key == "ri" and not (value.isdigit() and int(value) < 2**32):
        return f"ri={value} is not a number of seconds"
    if key == "fo" and not _fo_valid(value.lower()):
        return f"fo={value} is not a colon-separated list of 0 or 1, d, s"
    if key == "rf" and not all(re.fullmatch(r"[a-z0-9-]+", f) for f in value.lower().split(":")):
        return f"rf={value} is not a colon-separated list of report formats"
    return ""


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

    def valid(self, name: str) -> bool:
        """True when tag ``name`` is present with a valid value."""
        value = self.tag(name)
        if value is None or not value:
            return False
        if name in ("rua", "ruf"):
            return all(uri.valid for uri in self.report_uris(name))
        return not _value_problem(name, value)

    @property
    def pct(self) -> int | None:
        value = self.tag("pct")
        return int(value) if value is not None and value.isdigit() and int(value) <= 100 else None

    @property
    def rua(self) -> tuple[str, ...]:
        value = self.tag("rua")
        return tuple(uri.strip() for uri in value.split(",") if uri.strip()) if value else ()

    @property
    def ruf(self) -> tuple[str, ...]:
        value = self.tag("ruf")
        return tuple(uri.strip() for uri in value.split(",") if uri.strip()) if value else ()

    def report_uris(self, name: str) -> tuple[ReportUri, ...]:
        """The parsed URIs of ``rua`` or ``ruf``."""
        return tuple(parse_report_uri(uri) for uri in (self.rua if name == "rua" else self.ruf))

    @property
    def testing(self) -> bool:
        """RFC 9989 §4.7 ``t=y``: receivers apply the policy one level below the one published."""
        return (self.tag("t") or "").lower() == "y"

    @property
    def psd(self) -> str | None:
        """The RFC 9989 ``psd`` flag (y, n or u) when valid, else None."""
        value = (self.tag("psd") or "").lower()
        return value if value in ("y", "n", "u") else None

    def alignment(self, name: str) -> str:
        """``adkim``/``aspf`` as receivers read it: "s" (strict) or "r" (relaxed, also the default)."""
        return "s" if (self.tag(name) or "").lower() == "s" else "r"

    @property
    def unknown_tags(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.tags if key not in KNOWN_TAGS and key not in REMOVED_TAGS)

    @property
    def removed_tags(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.tags if key in REMOVED_TAGS)

    def effective_policy(self, *, subdomain: bool, nonexistent: bool = False) -> Policy | None:
        """The policy receivers apply (RFC 7489 §6.6.3, RFC 9989 §4.10.1); None when they apply no DMARC.

        A subdomain without its own record gets ``np`` when it does not exist and ``np`` is given, else
        ``sp`` when given, else ``p``. A record whose ``p``, ``sp`` or ``np`` is missing or invalid still
        counts as ``p=none`` when it has a valid reporting URI, else not at all.
        """
        broken = self.policy("p") is None or any(
            self.tag(name) is not None and self.policy(name) is None for name in ("sp", "np")
        )
        if broken:
            return Policy.NONE if any(uri.valid for uri in self.report_uris("rua")) else None
        if subdomain and nonexistent and self.tag("np") is not None:
            return self.policy("np")
        if subdomain and self.tag("sp") is not None:
            return self.policy("sp")
        return self.policy("p")

    def enforced_policy(self, *, subdomain: bool, nonexistent: bool = False) -> Policy | None:
        """``effective_policy`` after ``t=y`` testing mode, which lowers it by one level (RFC 9989 §4.7)."""
        policy = self.effective_policy(subdomain=subdomain, nonexistent=nonexistent)
        return policy.weakened() if policy is not None and self.testing else policy

    def with_tag(self, name: str, value: str | None) -> str:
        """The record text with tag ``name`` set to ``value`` (appended if new, dropped if None)."""
        tags = [(k, value if k == name else v) for k, v in self.tags if k != name or value is not None]
        if value is not None and self.tag(name) is None:
            tags.append((name, value))
        return "; ".join(f"{k}={v}" for k, v in tags)

    def rebuilt(self, **changes: str | None) -> str:
        """A clean record: ``v=DMARC1; p=…`` first, the valid tags kept in order, ``changes`` applied.

        Tags with invalid values are dropped (receivers would use the default); a missing or invalid
        ``p`` becomes ``p=none``; invalid URIs are dropped from ``rua``/``ruf``. Unknown and removed tags
        are kept: other checks say what to do with them.
        """
        tags: dict[str, str] = {}
        for key, value in self.tags:
            if key == "v" or not value:
                continue
            if key in ("rua", "ruf"):
                kept = [uri.text for uri in self.report_uris(key) if uri.valid]
                if kept:
                    tags[key] = ",".join(kept)
            elif not _value_problem(key, value):
                tags[key] = value
        for key, new in changes.items():
            if new is None:
                tags.pop(key, None)
            else:
                tags[key] = new
        ordered = {"p": tags.pop("p", "none"), **tags}
        return "; ".join(["v=DMARC1", *(f"{key}={value}" for key, value in ordered.items())])


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC TXT value. Never raises: what is wrong is listed in ``problems``."""
    tag_list = split_tag_list(text, fold_case=True, tag_name=_TAG_NAME)
    tags = tag_list.tags
    problems: list[str] = []
    # An empty part (";;") is not reported: it changes nothing a receiver reads.
    for part in tag_list.parts:
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(f"not a tag=value pair: {part.text!r}")
        elif part.problem is TagProblem.DUPLICATE:
            problems.append(f"tag {part.name!r} appears more than once; receivers may use either value")
        elif part.problem is None and not part.value:
            problems.append(f"tag {part.name!r} has no value")
        elif part.problem is None and not _PRINTABLE.match(part.value):
            problems.append(f"tag {part.name!r} has characters outside printable ASCII")
    record = DmarcRecord(text, tags)
    if not tags or tags[0] != ("v", "DMARC1"):
        problems.append("the record must start with v=DMARC1")
    if record.tag("p") is None:
        problems.append("required tag p is missing")
    for key, value in tags:
        if key in ("rua", "ruf"):
            problems.extend(f"{key}: {uri.problem}" for uri in record.report_uris(key) if not uri.valid)
        elif value and (problem := _value_problem(key, value)):
            problems.append(problem)
    return DmarcRecord(text, tags, tuple(problems))
