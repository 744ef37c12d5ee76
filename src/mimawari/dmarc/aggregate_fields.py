"""The elements of an aggregate report: the schema's names, the header (``report_metadata``,
``policy_published``) and what every part shares: text limits, and the nesting depth of elements the
schema does not define. Records are read by ``aggregate_records.py``; the streaming and the safety of the
XML itself are ``aggregate.py``'s and ``aggregate_prolog.py``'s.

Everything read is checked: a wrong value is a ``ReportError`` naming the element, never a silent
default.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from lxml import etree  # type: ignore[import-untyped]

from mimawari.dmarc.model import PublishedPolicy, ReportError

DMARC2_NAMESPACE = "urn:ietf:params:xml:ns:dmarc-2.0"

# The elements of RFC 7489 appendix C and RFC 9990, by parent; any other element is an extension or noise.
_SCHEMA = {
    "feedback": "version report_metadata policy_published extension record",
    "report_metadata": "org_name email extra_contact_info report_id date_range error generator",
    "date_range": "begin end",
    "policy_published": "domain version_published discovery_method adkim aspf p sp np pct fo testing",
    "record": "row identifiers auth_results",
    "row": "source_ip count policy_evaluated",
    "policy_evaluated": "disposition dkim spf reason",
    "reason": "type comment",
    "identifiers": "header_from envelope_from envelope_to",
    "auth_results": "dkim spf",
    "dkim": "domain selector result human_result",
    "spf": "domain scope result human_result",
}
_CHILDREN = {parent: frozenset(children.split()) for parent, children in _SCHEMA.items()}
# Interned, so that comparing a looked-up name with a literal is an identity check.
ELEMENT_NAMES = frozenset(
    sys.intern(name) for name in set(_SCHEMA).union(*(children.split() for children in _SCHEMA.values()))
)


@dataclass(frozen=True)
class ReportMetadata:
    """``report_metadata`` as read; the dates become datetimes in ``AggregateHeader``."""

    org_name: str
    email: str
    extra_contact_info: str
    report_id: str
    begin: int
    end: int
    generator: str
    errors: tuple[str, ...]


class Node(Protocol):
    """The part of lxml's element API read here (lxml ships no type information)."""

    tag: str
    text: str | None

    def __iter__(self) -> Iterator[Node]: ...
    def __len__(self) -> int: ...


def split_tag(tag: str) -> tuple[str, str]:
    """``{namespace}local`` → (namespace, local); no namespace → ("", local)."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def whole_number(text: str) -> int | None:
    """A non-negative integer of at most 18 digits (fits a signed 64-bit column), or None."""
    if not (text.isdigit() and text.isascii()):
        text = text.strip()
        if not (text.isdigit() and text.isascii()):
            return None
    return int(text) if len(text) <= 18 else None


def domain_form(text: str) -> str:
    """Domains compare case-insensitively, and a few reporters write the root's trailing dot."""
    return text.strip().lower().rstrip(".")


def shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


class FieldReader:
    """Reads the elements of one document (its namespace, its limits)."""

    def __init__(self, max_text: int, max_depth: int) -> None:
        self.max_text = max_text
        self.max_depth = max_depth
        self.namespace = ""
        self.names: dict[str, str] = {name: name for name in ELEMENT_NAMES}
        self._depth_tests: dict[int, Callable[[Node], bool]] = {}

    def use_namespace(self, namespace: str) -> None:
        """Match the schema's names in the root's namespace (and, leniently, in none)."""
        self.namespace = namespace
        if namespace:
            self.names.update({f"{{{namespace}}}{name}": name for name in ELEMENT_NAMES})

    # --- generic ------------------------------------------------------------------------------------

    def text(self, element: Node, where: str) -> str:
        value = element.text
        if value is None:
            return ""
        if len(value) > self.max_text:
            raise ReportError(f"<{where}> is longer than {self.max_text} characters")
        return value.strip()

    def unknown(self, element: Node, depth: int) -> None:
        """An element the schema does not define (an extension, or noise) at ``depth`` (root = 1):
        ignored, but it may not nest deeper than the limit."""
        levels = self.max_depth - depth + 1  # a descendant this far below is too deep
        if levels <= 0 or (len(element) and self._depth_test(levels)(element)):
            name = split_tag(element.tag)[1][:64]
            raise ReportError(f"elements nest deeper than {self.max_depth} levels (inside <{name}>)")

    def _depth_test(self, levels: int) -> Callable[[Node], bool]:
        test = self._depth_tests.get(levels)
        if test is None:
            test = etree.XPath("boolean(" + "/".join(["*"] * levels) + ")")
            self._depth_tests[levels] = test
        return test

    def children(self, element: Node, parent: str, depth: int, where: str = "") -> dict[str, Node]:
        """The children of ``element`` (a ``parent`` at ``depth``) by name, each at most once (but
        ``error``); unknown ones are checked and skipped, known ones out of place are refused."""
        allowed = _CHILDREN[parent]
        found: dict[str, Node] = {}
        for child in element:
            name = self.names.get(child.tag)
            if name is None:
                self.unknown(child, depth + 1)
            elif name not in allowed or (name in found and name != "error"):
                raise ReportError(f"{where}<{parent}> has an unexpected or repeated <{name}>")
            else:
                found[name] = child
        return found

    # --- header -------------------------------------------------------------------------------------

    def report_metadata(self, element: Node) -> ReportMetadata:
        found = self.children(element, "report_metadata", 2)
        texts = {
            name: self.text(found[name], name) if name in found else ""
            for name in ("org_name", "email", "extra_contact_info", "report_id", "generator")
        }
        for name in ("org_name", "report_id"):
            if not texts[name]:
                raise ReportError(f"report_metadata/{name} is missing or empty")
        if "date_range" not in found:
            raise ReportError("report_metadata/date_range is missing")
        dates = self.children(found["date_range"], "date_range", 3)
        seconds: list[int] = []
        for name in ("begin", "end"):
            if name not in dates:
                raise ReportError(f"date_range/{name} is missing")
            text = self.text(dates[name], name)
            value = whole_number(text)
            if value is None:
                raise ReportError(f"date_range/{name} {shown(text)} is not a Unix time in seconds")
            seconds.append(value)
        if seconds[0] > seconds[1]:
            raise ReportError(f"date_range: begin {seconds[0]} is after end {seconds[1]}")
        errors = (self.text(child, "error") for child in element if self.names.get(child.tag) == "error")
        return ReportMetadata(
            org_name=texts["org_name"],
            email=texts["email"],
            extra_contact_info=texts["extra_contact_info"],
            report_id=texts["report_id"],
            begin=seconds[0],
            end=seconds[1],
            generator=texts["generator"],
            errors=tuple(error for error in errors if error),
        )

    def policy_published(self, element: Node) -> PublishedPolicy:
        found = self.children(element, "policy_published", 2)
        values: dict[str, str | None] = {}
        for name in ("domain", "p", "sp", "np", "adkim", "aspf", "pct", "fo", "testing", "discovery_method"):
            text = self.text(found[name], name) if name in found else ""
            values[name] = text.lower() if text else None
        domain = domain_form(values.pop("domain") or "")
        if not domain:
            raise ReportError("policy_published/domain is missing or empty")
        pct_text = values.pop("pct")
        pct = None
        if pct_text is not None:
            pct = whole_number(pct_text)
            if pct is None or pct > 100:
                raise ReportError(f"policy_published/pct {shown(pct_text)} is not a percentage 0-100")
        return PublishedPolicy(domain=domain, pct=pct, **values)

    # --- records ------------------------------------------------------------------------------------
