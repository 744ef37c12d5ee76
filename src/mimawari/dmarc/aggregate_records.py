"""The records of an aggregate report, from lxml elements to ``AggregateRecord``.

``RecordReader.record`` runs once per record, hundreds of thousands of times a report, and is most of
the reader's time: it walks the known structure in one pass with one dict lookup per tag, and keeps
small caches of values that repeat from record to record (addresses, domains, DKIM/SPF results), whose
hits skip the checks they already passed. Everything it reads is checked: a wrong value is a
``ReportError`` naming the record and the element, never a silent default.
"""

from __future__ import annotations

import ipaddress
import socket

from mimawari.dmarc.aggregate_fields import FieldReader, Node, domain_form, shown, whole_number
from mimawari.dmarc.model import AggregateRecord, DkimResult, PolicyOverride, ReportError, SpfResult

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

# Values repeat from record to record; these bounds keep what a hostile report can make the caches hold
# to a few megabytes.
_CACHE_ENTRIES = 4096
_CACHED_CHARACTERS = 256  # a domain name has at most 253

_RawAuth = tuple[str, str | None, str | None, str | None]
"""An auth_results entry as written: kind (dkim/spf), domain, selector or scope, result."""
_RawRow = tuple[str | None, str | None, str | None, str | None, str | None, tuple[PolicyOverride, ...]]
"""source_ip, count, disposition, dkim, spf as written (None: absent), and the override reasons."""
_AuthResults = tuple[tuple[DkimResult, ...], tuple[SpfResult, ...]]


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


class RecordReader(FieldReader):
    """Reads the header and the records of one document; its caches live as long as the document."""

    def __init__(self, max_text: int, max_depth: int) -> None:
        super().__init__(max_text, max_depth)
        self._domains: dict[str, str] = {}
        self._addresses: dict[str, str] = {}
        self._auth: dict[tuple[_RawAuth, ...], _AuthResults] = {}

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
                if name == "domain" and domain is None:
                    domain = field.text or ""
                elif name == "result" and value is None:
                    value = field.text or ""
                elif name in _AUTH_DETAILS and detail is None:
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
            raise ReportError(f"record {index}: row/source_ip {shown(text)} is not an IP address")
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
        raise ReportError(f"record {index}: row/count {shown(text)} is not a whole number ≥ 0")

    def _keyword(self, text: str | None, table: dict[str, str], index: int, path: str) -> str:
        if text is None:
            raise ReportError(f"record {index}: row/policy_evaluated is missing")
        value = table.get(text.strip().lower())
        if value is None:
            if not text.strip():
                raise ReportError(f"record {index}: row/{path} is missing or empty")
            words = ", ".join(sorted(set(table)))
            raise ReportError(f"record {index}: row/{path} {shown(text)} is not one of {words}")
        return value

    def _domain(self, text: str, index: int, path: str) -> str:
        domain = self._domains.get(text)
        if domain is None:
            if len(text) > self.max_text:
                raise ReportError(f"record {index}: <{path}> is longer than {self.max_text} characters")
            domain = domain_form(text)
            if len(text) <= _CACHED_CHARACTERS:
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
                dkim_results.append(DkimResult(domain=domain_form(domain), result=result, selector=detail))
            else:
                result = _SPF_SYNONYMS.get(result, result)
                spf_results.append(SpfResult(domain=domain_form(domain), result=result, scope=detail.lower()))
        results = (tuple(dkim_results), tuple(spf_results))
        if sum(len(value or "") for entry in key for value in entry) <= 4 * _CACHED_CHARACTERS:
            if len(self._auth) >= _CACHE_ENTRIES:
                self._auth.clear()
            self._auth[key] = results
        return results

    def _reason(self, element: Node, index: int) -> PolicyOverride:
        found = self.children(element, "reason", 5, f"record {index}: ")
        kind = self.text(found["type"], "reason/type").lower() if "type" in found else ""
        if not kind:
            raise ReportError(f"record {index}: policy_evaluated/reason/type is missing or empty")
        comment = self.text(found["comment"], "reason/comment") if "comment" in found else ""
        return PolicyOverride(type=kind, comment=comment)
