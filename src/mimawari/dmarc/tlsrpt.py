"""SMTP TLS reports (RFC 8460 §4): the JSON document a sender mails (gzip'd) or posts once a day.

The shape is checked strictly — a field RFC 8460 requires that is missing or of the wrong type refuses
the whole report with a one-line ``ReportError`` naming the field's path — while keys RFC 8460 does not
define are ignored, so that reporters' additions do not break reading. Hostile JSON is refused safely: over-size documents before
they are read, deep nesting (RecursionError), duplicate keys, NaN/Infinity, integers too long to
convert, and bytes that are not UTF-8.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from mimawari.dmarc.model import ReportError, TlsFailure, TlsPolicyResult, TlsReport
from mimawari.errors import InvalidDomainError
from mimawari.parse.names import normalize_domain

MAX_TLS_REPORT_BYTES = 8 * 1024 * 1024
"""Of the decompressed JSON. Real reports are a few kilobytes; callers also cap gunzip with this."""

_POLICY_TYPES = ("sts", "tlsa", "no-policy-found")  # RFC 8460 §4.4, policy-type
_MAX_COUNT = 2**63 - 1  # a session count a 64-bit database column holds
_MAX_IDENTIFIER = 255  # organization-name, report-id: names, not documents
_MAX_CONTACT = 320  # contact-info: an address (RFC 3696 errata: 64 + "@" + 255) or a URI
# RFC 3339 §5.6 date-time: the offset is required; "T" and "Z" may be lower case, and the §5.6 note
# allows a space for "T".
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", flags=re.ASCII
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Top-level member names: any of them in the first bytes marks an RFC 8460 document.
_SIGNATURE_KEYS = (b'"organization-name"', b'"date-range"', b'"report-id"', b'"policies"')

JsonObject = dict[str, object]
T = TypeVar("T")


def looks_like_tls_report(head: bytes) -> bool:
    """True when the first bytes of a (decompressed) document look like an RFC 8460 JSON report: a JSON
    object that names one of its top-level members. Cheap, for sorting attachments; not a validation."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return text.startswith(b"{") and any(key in text for key in _SIGNATURE_KEYS)


def parse_tls_report(data: bytes) -> TlsReport:
    """The report in ``data``: the JSON bytes, already decompressed.

    Raises ``ReportError`` (one line) for anything that is not a well-formed RFC 8460 report.
    """
    if len(data) > MAX_TLS_REPORT_BYTES:
        raise ReportError(f"TLS report is {len(data)} bytes, over the limit of {MAX_TLS_REPORT_BYTES}")
    if not data.strip():
        raise ReportError("TLS report is empty")
    try:
        # RFC 8460 §4.4 / RFC 8259 §8.1: UTF-8. A byte order mark is tolerated, other encodings not.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReportError(f"TLS report is not UTF-8 (invalid byte at offset {error.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise ReportError("TLS report JSON is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise ReportError(
            f"TLS report is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ReportError:
        raise
    except ValueError:  # the only other one: an integer of more digits than Python converts (4300)
        raise ReportError("TLS report JSON has a number too long to read") from None
    return _report(_object(document, "the report"))


def _unique_keys(pairs: list[tuple[str, object]]) -> JsonObject:
    # RFC 8259 §4 leaves duplicate names to the reader; readers differ (first or last wins), so a report
    # with one is ambiguous and refused rather than read one way.
    members: JsonObject = {}
    for key, value in pairs:
        if key in members:
            raise ReportError(f"TLS report JSON has the key {key[:60]!r} twice in one object")
        members[key] = value
    return members


def _no_constant(name: str) -> object:
    raise ReportError(f"TLS report JSON has {name}, which is not a JSON number (RFC 8259 §6)")


def _report(document: JsonObject) -> TlsReport:
    date_range = _object(_required(document, "date-range", ""), "date-range")
    begin = _datetime(date_range, "start-datetime", "date-range")
    end = _datetime(date_range, "end-datetime", "date-range")
    if end < begin:
        raise ReportError(f"date-range ends ({end.isoformat()}) before it starts ({begin.isoformat()})")
    return TlsReport(
        organization_name=_text(document, "organization-name", "", required=True, limit=_MAX_IDENTIFIER),
        report_id=_text(document, "report-id", "", required=True, limit=_MAX_IDENTIFIER),
        begin=begin,
        end=end,
        contact_info=_text(document, "contact-info", "", limit=_MAX_CONTACT),
        policies=_items(document, "policies", "", _policy_result, required=True),
    )


def _policy_result(item: JsonObject, path: str) -> TlsPolicyResult:
    policy = _object(_required(item, "policy", path), f"{path}.policy")
    policy_path = f"{path}.policy"
    policy_type = _text(policy, "policy-type", policy_path, required=True).lower()
    if policy_type not in _POLICY_TYPES:
        raise ReportError(
            f"{policy_path}.policy-type {policy_type[:60]!r} is not one of {', '.join(_POLICY_TYPES)}"
        )
    domain = _text(policy, "policy-domain", policy_path, required=True)
    try:
        policy_domain = normalize_domain(domain)
    except InvalidDomainError:
        raise ReportError(f"{policy_path}.policy-domain {domain[:100]!r} is not a domain name") from None
    summary = _object(_required(item, "summary", path), f"{path}.summary")
    return TlsPolicyResult(
        policy_type=policy_type,
        policy_domain=policy_domain,
        successful_sessions=_count(summary, "total-successful-session-count", f"{path}.summary"),
        failed_sessions=_count(summary, "total-failure-session-count", f"{path}.summary"),
        policy_strings=_strings(policy, "policy-string", policy_path),
        mx_hosts=_strings(policy, "mx-host", policy_path),
        failures=_items(item, "failure-details", path, _failure),
    )


def _failure(item: JsonObject, path: str) -> TlsFailure:
    result_type = _text(item, "result-type", path, required=True)
    return TlsFailure(
        # RFC 8460 §4.3 result types are registered lower-case; new ones (IANA registry) are kept.
        result_type=result_type.lower(),
        failed_sessions=_count(item, "failed-session-count", path),
        sending_mta_ip=_ip(item, "sending-mta-ip", path),
        receiving_mx_hostname=_text(item, "receiving-mx-hostname", path).rstrip(".").lower(),
        receiving_mx_helo=_text(item, "receiving-mx-helo", path),
        receiving_ip=_ip(item, "receiving-ip", path),
        additional_information=_text(item, "additional-information", path),
        failure_reason_code=_text(item, "failure-reason-code", path),
    )


# --- typed access to the decoded JSON ------------------------------------------------------------------


def _object(value: object, path: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ReportError(f"{path} must be a JSON object, not {_kind(value)}")
    return value


def _required(parent: JsonObject, key: str, path: str) -> object:
    if parent.get(key) is None:
        raise ReportError(f"{path or 'the report'} has no {key!r} (required by RFC 8460 §4.4)")
    return parent[key]


def _text(parent: JsonObject, key: str, path: str, *, required: bool = False, limit: int = 0) -> str:
    # An optional member given as null is read as absent: some reporters write every key.
    value = _required(parent, key, path) if required else parent.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReportError(f"{_at(path, key)} must be a string, not {_kind(value)}")
    text = _clean(value)
    if required and not text:
        raise ReportError(f"{_at(path, key)} is empty")
    if limit and len(text) > limit:
        raise ReportError(f"{_at(path, key)} is {len(text)} characters long, over the limit of {limit}")
    return text


def _count(parent: JsonObject, key: str, path: str) -> int:
    value = _required(parent, key, path)
    # bool is an int in Python, but true is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        shown = value if isinstance(value, int | float) else _kind(value)
        raise ReportError(f"{_at(path, key)} must be a non-negative integer, not {str(shown)[:40]}")
    return value


def _strings(parent: JsonObject, key: str, path: str) -> tuple[str, ...]:
    value = parent.get(key)
    if value is None:
        return ()
    # RFC 8460 §4.4 makes mx-host a list, yet its example report (appendix B) gives a string: take both.
    if isinstance(value, str):
        return (_clean(value),)
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise ReportError(f"{_at(path, key)} must be a list of strings")
    return tuple(_clean(entry) for entry in value)


def _items(
    parent: JsonObject,
    key: str,
    path: str,
    read: Callable[[JsonObject, str], T],
    *,
    required: bool = False,
) -> tuple[T, ...]:
    value = _required(parent, key, path) if required else parent.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ReportError(f"{_at(path, key)} must be a list, not {_kind(value)}")
    return tuple(
        read(_object(entry, f"{_at(path, key)}[{index}]"), f"{_at(path, key)}[{index}]")
        for index, entry in enumerate(value)
    )


def _datetime(parent: JsonObject, key: str, path: str) -> datetime:
    text = _text(parent, key, path, required=True)
    if not _RFC3339.fullmatch(text):
        raise ReportError(f"{_at(path, key)} {text[:60]!r} is not an RFC 3339 date-time with an offset")
    iso = text.upper().replace(" ", "T").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:  # e.g. month 13, or the leap second 23:59:60 Python cannot hold
        raise ReportError(f"{_at(path, key)} {text[:60]!r} is not a valid date-time") from None


def _ip(parent: JsonObject, key: str, path: str) -> str:
    # Optional; real reports write "" for "not known", which stays "".
    text = _text(parent, key, path)
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ReportError(f"{_at(path, key)} {text[:60]!r} is not an IP address") from None


def _clean(text: str) -> str:
    """Trimmed, without control characters other than tab and newline and without lone surrogates
    (JSON can spell both): a value any store and terminal can hold."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text)).strip()


def _at(path: str, key: str) -> str:
    """A member's path for messages: ``policies[0].summary.total-failure-session-count``."""
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
