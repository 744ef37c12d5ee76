"""The fields of an aggregate report: from lxml elements to ``AggregateHeader`` parts and
``AggregateRecord`` (see ``aggregate.py`` for the streaming and the safety of the XML itself).

``FieldReader.record`` runs once per record, hundreds of thousands of times a report: it walks the
known structure in one pass, looks tags up in one dict, and keeps small caches of values that repeat
from record to record (domains, DKIM/SPF results, addresses), which skip the validation they already
passed. Everything it reads is checked: a wrong value is a ``ReportError`` naming the record and the
element, never a silent default.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from lxml import etree  # type: ignore[import-untyped]

from mimawari.dmarc.model import (
    AggregateRecord,
    DkimResult,
    PolicyOverride,
    PublishedPolicy,
    ReportError,
    SpfResult,
)

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

_DISPOSITIONS = {"none": "none", "quarantine": "quarantine", "reject": "reject", "pass": "pass"}
"""RFC 9990 adds ``pass`` (no action, passed DMARC under an enforcing policy)."""

# ``policy_evaluated`` dkim/spf say whether the identifier passed *aligned*. Some reporters copy the
# raw DKIM/SPF result there instead; anything but pass is not an aligned pass.
_ALIGNED = {"pass": "pass", "fail": "fail"} | dict.fromkeys(
    ("none", "neutral", "softfail", "hardfail", "policy", "temperror", "permerror", "unknown", "error"),
    "fail",
)

# RFC 7489's schema notes that SPF temperror and permerror are "commonly implemented" as these words.
_SPF_SYNONYMS = {"unknown": "temperror", "error": "permerror"}

_AUTH_KINDS = frozenset(("dkim", "spf"))
_AUTH_DETAILS = frozenset(("selector", "scope"))  # DKIM's selector, SPF's scope

_CACHE_ENTRIES = 4096  # per cache: values repeat within a report, and a hostile one cannot grow them


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


_RawAuth = tuple[str, str | None, str | None, str | None]
"""An auth_results entry as written: kind (dkim/spf), domain, selector or scope, result."""
_RawRow = tuple[str | None, str | None, str | None, str | None, str | None, tuple[PolicyOverride, ...]]
"""source_ip, count, disposition, dkim, spf as written (None: absent), and the override reasons."""
_AuthResults = tuple[tuple[DkimResult, ...], tuple[SpfResult, ...]]


def split_tag(tag: str) -> tuple[str, str]:
    """``{namespace}local`` → (namespace, local); no namespace → ("", local)."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def normalise_ip(text: str) -> str | None:
    """The ``ipaddress`` text form of an address, or None. inet_pton/inet_ntop give the same text
    ten times faster, except for IPv4-embedded IPv6 (``::ffff:192.0.2.1``), which they write dotted."""
    try:
        if ":" in text:
            packed = socket.inet_pton(socket.AF_INET6, text)
            value = socket.inet_ntop(socket.AF_INET6, packed)
            return str(ipaddress.IPv6Address(packed)) if "." in value else value
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        return None


def whole_number(text: str) -> int | None:
    """A non-negative integer of at most 18 digits (fits a signed 64-bit column), or None."""
    if not (text.isdigit() and text.isascii()):
        text = text.strip()
        if not (text.isdigit() and text.isascii()):
            return None
    return int(text) if len(text) <= 18 else None


def _domain_form(text: str) -> str:
    """Domains compare case-insensitively, and a few reporters write the root's trailing dot."""
    return text.strip().lower().rstrip(".")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


class FieldReader:
    """Reads the elements of one document; its caches live as long as the document."""

    def __init__(self, max_text: int, max_depth: int) -> None:
        self.max_text = max_text
        self.max_depth = max_depth
        self.namespace = ""
        self.names: dict[str, str] = {name: name for name in ELEMENT_NAMES}
        self._domains: dict[str, str] = {}
        self._addresses: dict[str, str] = {}
        self._auth: dict[tuple[_RawAuth, ...], _AuthResults] = {}
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

    def _children(self, element: Node, parent: str, depth: int, where: str = "") -> dict[str, Node]:
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
        found = self._children(element, "report_metadata", 2)
        texts = {
            name: self.text(found[name], name) if name in found else ""
            for name in ("org_name", "email", "extra_contact_info", "report_id", "generator")
        }
        for name in ("org_name", "report_id"):
            if not texts[name]:
                raise ReportError(f"report_metadata/{name} is missing or empty")
        if "date_range" not in found:
            raise ReportError("report_metadata/date_range is missing")
        dates = self._children(found["date_range"], "date_range", 3)
        seconds: list[int] = []
        for name in ("begin", "end"):
            if name not in dates:
                raise ReportError(f"date_range/{name} is missing")
            text = self.text(dates[name], name)
            value = whole_number(text)
            if value is None:
                raise ReportError(f"date_range/{name} {_shown(text)} is not a Unix time in seconds")
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
        found = self._children(element, "policy_published", 2)
        values: dict[str, str | None] = {}
        for name in ("domain", "p", "sp", "np", "adkim", "aspf", "pct", "fo", "testing", "discovery_method"):
            text = self.text(found[name], name) if name in found else ""
            values[name] = text.lower() if text else None
        domain = _domain_form(values.pop("domain") or "")
        if not domain:
            raise ReportError("policy_published/domain is missing or empty")
        pct_text = values.pop("pct")
        pct = None
        if pct_text is not None:
            pct = whole_number(pct_text)
            if pct is None or pct > 100:
                raise ReportError(f"policy_published/pct {_shown(pct_text)} is not a percentage 0-100")
        return PublishedPolicy(domain=domain, pct=pct, **values)

    # --- records ------------------------------------------------------------------------------------

    def record(self, record: Node, index: int) -> AggregateRecord:
        names = self.names
        row: _RawRow | None = None
        identifiers: tuple[str | None, str, str] | None = None
        auth: tuple[_RawAuth, ...] | None = None
        for part in record:
            section = names.get(part.tag)
            if section == "row" and row is None:
                row = self._row(part, index)
            elif section == "identifiers" and identifiers is None:
                identifiers = self._identifiers(part, index)
            elif section == "auth_results" and auth is None:
                auth = self._raw_auth_results(part, index)
            else:
                self._unexpected(part, section, 3, index, "record")
        if row is None:
            raise ReportError(f"record {index}: <row> is missing")
        source_ip, count, disposition, dkim, spf, reasons = row
        header_from, envelope_from, envelope_to = identifiers or (None, "", "")
        # Each lookup below hits a cache or a table on the common path; the methods validate the rest.
        address = self._addresses.get(source_ip) if source_ip is not None else None
        if address is None:
            address = self._source_ip(source_ip, index)
        if count is not None and count.isdigit() and count.isascii() and len(count) <= 18:
            number = int(count)
        else:
            number = self._count(count, index)
        sender = self._domains.get(header_from) if header_from else None
        if not sender:
            sender = self._required_domain(header_from, index)
        auth = auth or ()
        results = self._auth.get(auth)
        if results is None:
            results = self._auth_results(auth, index)
        # Positional, in the model's field order: keywords make this, the hottest call, a fifth slower.
        return AggregateRecord(
            address,
            number,
            _DISPOSITIONS.get(disposition or "")
            or self._keyword(disposition, _DISPOSITIONS, index, "policy_evaluated/disposition"),
            _ALIGNED.get(dkim or "") or self._keyword(dkim, _ALIGNED, index, "policy_evaluated/dkim"),
            _ALIGNED.get(spf or "") or self._keyword(spf, _ALIGNED, index, "policy_evaluated/spf"),
            sender,
            envelope_from,
            envelope_to,
            reasons,
            results[0],
            results[1],
        )

    def _row(self, row: Node, index: int) -> _RawRow:
        names = self.names
        source_ip = count = disposition = dkim = spf = None
        reasons: tuple[PolicyOverride, ...] = ()
        for field in row:
            name = names.get(field.tag)
            if name == "source_ip" and source_ip is None:
                source_ip = field.text or ""
            elif name == "count" and count is None:
                count = field.text or ""
            elif name == "policy_evaluated" and disposition is None:
                disposition = dkim = spf = ""
                for verdict in field:
                    name = names.get(verdict.tag)
                    if name == "disposition":
                        disposition = verdict.text or ""
                    elif name == "dkim":
                        dkim = verdict.text or ""
                    elif name == "spf":
                        spf = verdict.text or ""
                    elif name == "reason":
                        reasons += (self._reason(verdict, index),)
                    else:
                        self._unexpected(verdict, name, 5, index, "row/policy_evaluated")
            else:
                self._unexpected(field, name, 4, index, "row")
        return source_ip, count, disposition, dkim, spf, reasons

    def _identifiers(self, identifiers: Node, index: int) -> tuple[str | None, str, str]:
        """header_from as written (None: absent), envelope_from and envelope_to as domains."""
        names = self.names
        header_from = envelope_from = envelope_to = None
        for field in identifiers:
            name = names.get(field.tag)
            if name == "header_from" and header_from is None:
                header_from = field.text or ""
            elif name == "envelope_from" and envelope_from is None:
                envelope_from = field.text or ""
            elif name == "envelope_to" and envelope_to is None:
                envelope_to = field.text or ""
            else:
                self._unexpected(field, name, 4, index, "identifiers")
        return (
            header_from,
            "" if envelope_from is None else self._domain(envelope_from, index, "identifiers/envelope_from"),
            "" if envelope_to is None else self._domain(envelope_to, index, "identifiers/envelope_to"),
        )

    def _raw_auth_results(self, auth_results: Node, index: int) -> tuple[_RawAuth, ...]:
        """The DKIM and SPF results as written, to be looked up in (or added to) the cache."""
        names = self.names
        raw: list[_RawAuth] = []
        for result in auth_results:
            kind = names.get(result.tag)
            if kind not in _AUTH_KINDS:
                self._unexpected(result, kind, 4, index, "auth_results")
                continue
            domain = detail = value = None
            for field in result:
                name = names.get(field.tag)
                if name == "domain":
                    domain = field.text or ""
                elif name == "result":
                    value = field.text or ""
                elif name in _AUTH_DETAILS:
                    detail = field.text or ""
                elif name != "human_result":  # the model keeps no human_result
                    self._unexpected(field, name, 5, index, f"auth_results/{kind}")
            raw.append((kind, domain, detail, value))
        return tuple(raw)

    def _unexpected(self, element: Node, name: str | None, depth: int, index: int, path: str) -> None:
        if name is None:
            self.unknown(element, depth)
        else:  # a known element in the wrong place, or twice
            raise ReportError(f"record {index}: <{path}> has an unexpected or repeated <{name}>")

    def _source_ip(self, text: str | None, index: int) -> str:
        if text is None:
            raise ReportError(f"record {index}: row/source_ip is missing")
        address = normalise_ip(text.strip()) if len(text) <= 100 else None
        if address is None:
            raise ReportError(f"record {index}: row/source_ip {_shown(text)} is not an IP address")
        if len(self._addresses) >= _CACHE_ENTRIES:
            self._addresses.clear()
        self._addresses[text] = address
        return address

    def _count(self, text: str | None, index: int) -> int:
        if text is None:
            raise ReportError(f"record {index}: row/count is missing")
        number = whole_number(text)
        if number is not None:
            return number
        raise ReportError(f"record {index}: row/count {_shown(text)} is not a whole number ≥ 0")

    def _keyword(self, text: str | None, table: dict[str, str], index: int, path: str) -> str:
        if text is None:
            raise ReportError(f"record {index}: row/policy_evaluated is missing")
        value = table.get(text.strip().lower())
        if value is None:
            if not text.strip():
                raise ReportError(f"record {index}: row/{path} is missing or empty")
            words = ", ".join(sorted(set(table)))
            raise ReportError(f"record {index}: row/{path} {_shown(text)} is not one of {words}")
        return value

    def _domain(self, text: str, index: int, path: str) -> str:
        domain = self._domains.get(text)
        if domain is None:
            if len(text) > self.max_text:
                raise ReportError(f"record {index}: <{path}> is longer than {self.max_text} characters")
            domain = _domain_form(text)
            if len(self._domains) >= _CACHE_ENTRIES:
                self._domains.clear()
            self._domains[text] = domain
        return domain

    def _required_domain(self, text: str | None, index: int) -> str:
        domain = self._domain(text or "", index, "identifiers/header_from")
        if not domain:
            raise ReportError(f"record {index}: identifiers/header_from is missing or empty")
        return domain

    def _auth_results(self, key: tuple[_RawAuth, ...], index: int) -> _AuthResults:
        dkim_results: list[DkimResult] = []
        spf_results: list[SpfResult] = []
        for kind, *raw in key:
            for value in raw:
                if value is not None and len(value) > self.max_text:
                    raise ReportError(
                        f"record {index}: <auth_results/{kind}> has a value longer than {self.max_text} characters"
                    )
            domain, detail, result = ((value or "").strip() for value in raw)
            result = result.lower()
            if not result:
                raise ReportError(f"record {index}: auth_results/{kind}/result is missing or empty")
            if kind == "dkim":
                dkim_results.append(DkimResult(domain=_domain_form(domain), result=result, selector=detail))
            else:
                result = _SPF_SYNONYMS.get(result, result)
                spf_results.append(
                    SpfResult(domain=_domain_form(domain), result=result, scope=detail.lower())
                )
        results = (tuple(dkim_results), tuple(spf_results))
        if len(self._auth) >= _CACHE_ENTRIES:
            self._auth.clear()
        self._auth[key] = results
        return results

    def _reason(self, element: Node, index: int) -> PolicyOverride:
        found = self._children(element, "reason", 5, f"record {index}: ")
        kind = self.text(found["type"], "reason/type").lower() if "type" in found else ""
        if not kind:
            raise ReportError(f"record {index}: policy_evaluated/reason/type is missing or empty")
        comment = self.text(found["comment"], "reason/comment") if "comment" in found else ""
        return PolicyOverride(type=kind, comment=comment)
