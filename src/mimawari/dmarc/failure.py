"""DMARC failure reports: ARF (RFC 5965) with the auth-failure fields of RFC 6591, as RFC 9991 uses them.

A report is an e-mail, ``multipart/report; report-type=feedback-report``, holding a human-readable part,
a ``message/feedback-report`` part whose body is a block of RFC 5322-style fields, and the message that
failed (``message/rfc822``) or only its headers (``text/rfc822-headers``). Only ``Feedback-Type:
auth-failure`` is a failure report; ARF abuse, fraud and other complaint reports are refused.

Everything that can go wrong with a hostile e-mail ends as a ``ReportError`` with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import quopri
import re
from datetime import UTC, datetime
from email import errors, policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.utils import parsedate_to_datetime
from typing import Any

from mimawari.dmarc.model import FailureReport, ReportError
from mimawari.errors import InvalidDomainError
from mimawari.parse.names import normalize_domain

MAX_FAILURE_BYTES = 10 * 1024 * 1024
"""A report carries one message, often whole (``message/rfc822``); beyond this it is refused unread."""

MAX_MIME_DELIMITERS = 1000
"""Lines that may be MIME boundaries (``--…``). The email package spends ~0.3 ms on each part, so ten
megabytes of empty parts or nested multiparts would take it half a minute; a report has a handful."""

_FEEDBACK_TYPE = "message/feedback-report"
# message/rfc822-headers is not registered, but some reporters label the header-only part so.
_ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
# RFC 5965 §3.1 / RFC 6591 §3.1: fields that appear exactly once. Two values here would make the report
# say two different things, so it is refused rather than guessed at.
_SINGLE_FIELDS = ("Feedback-Type", "Auth-Failure", "Source-IP")
# Structured parsing of a header by the email package is only tried on values of sane length (RFC 5322
# §2.1.1 caps a line at 998 characters); a longer one is hostile or broken and read as absent.
_MAX_PARSED_HEADER = 4096
_MAX_ADDRESS = 320  # RFC 3696 errata: 64 + "@" + 255
_MAX_TOKEN = 32  # Auth-Failure is one short token (RFC 6591 §3.2.2); anything longer is not one
# The fields the MIME structure is read from. policy.default parses a header each time it is read, and
# its parser for Content-Type takes ~7 µs a character: 100 kB of parameters made the email package work
# for a quarter of a minute, and a message has many parts. These fields are read as plain strings, as
# the email package's string-based get_content_type() and get_param() expect anyway.
_STRUCTURE_FIELDS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _ReportPolicy(EmailPolicy):
    """``policy.default``, except that the MIME structure fields are plain strings (see above)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:  # a str or a header object
        if name.lower() in _STRUCTURE_FIELDS:
            # Cut, too: get_param() splits parameters in quadratic time, and a real one is short.
            return " ".join(value.splitlines())[:_MAX_PARSED_HEADER]
        return super().header_fetch_parse(name, value)


REPORT_POLICY = _ReportPolicy()


def is_failure_report(message: Message) -> bool:
    """True for an ARF e-mail: a ``multipart/report`` (or, as Netease sends it, ``multipart/mixed``)
    with a ``message/feedback-report`` part. Any feedback type counts: ``parse_failure`` then says
    whether it is a DMARC failure report (``auth-failure``) or another kind of ARF report."""
    try:
        return bool(feedback_report_parts(message))
    except Exception:  # hostile MIME: the email package raises assorted errors (see parse_failure)
        return False


def parse_failure(message: bytes) -> FailureReport:
    """The failure report in ``message``, a whole report e-mail (RFC 5322 bytes).

    Raises ``ReportError`` (one line) for anything that is not a readable DMARC failure report.
    """
    if len(message) > MAX_FAILURE_BYTES:
        raise ReportError(f"failure report is {len(message)} bytes, over the limit of {MAX_FAILURE_BYTES}")
    delimiters = message.count(b"\n--") + message.startswith(b"--")
    if delimiters > MAX_MIME_DELIMITERS:
        raise ReportError(
            f"failure report has {delimiters} MIME boundary lines, over the limit of {MAX_MIME_DELIMITERS}"
        )
    try:
        return _parse(message)
    except ReportError:
        raise
    except RecursionError:
        raise ReportError("failure report: MIME parts nested too deeply") from None
    except Exception as error:
        # The stdlib email package has raised IndexError, AttributeError, ValueError, … on crafted
        # headers over the years; a report it cannot read is a bad report, never a crash.
        raise ReportError(f"failure report: unreadable MIME ({type(error).__name__})") from None


def _parse(data: bytes) -> FailureReport:
    report = BytesParser(policy=REPORT_POLICY).parsebytes(data)
    if not _children(report):
        raise ReportError(
            f"not an ARF report: a {report.get_content_type()[:60]!r} message, not multipart/report (RFC 5965 §2)"
        )
    feedback_parts = feedback_report_parts(report)
    if not feedback_parts:
        raise ReportError("not an ARF report: no message/feedback-report part (RFC 5965 §2)")
    if len(feedback_parts) > 1:
        raise ReportError("more than one message/feedback-report part: the report is ambiguous")
    if any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for d in report.defects):
        raise ReportError("failure report is truncated: its MIME closing boundary is missing")

    fields = feedback_fields(embedded_headers(feedback_parts[0]))
    for name in _SINGLE_FIELDS:
        if len(fields.get(name.lower(), [])) > 1:
            raise ReportError(f"field {name} appears more than once in the feedback part")
    feedback_type = first_field(fields, "feedback-type").lower()[:60]
    if not feedback_type:
        raise ReportError("the feedback part has no Feedback-Type field (RFC 5965 §3.1)")
    if feedback_type != "auth-failure":
        raise ReportError(
            f"Feedback-Type is {feedback_type!r}: an ARF {feedback_type} report, "
            "not a DMARC failure report (auth-failure)"
        )
    auth_failure = first_field(fields, "auth-failure").lower()
    if len(auth_failure) > _MAX_TOKEN:
        raise ReportError(f"Auth-Failure {auth_failure[:60]!r} is not a failure type (RFC 6591 §3.2.2)")
    original = original_headers(report)
    header_from = header_from_domain(original) if original is not None else ""
    reported = first_field(fields, "reported-domain") or header_from
    if not reported:
        raise ReportError("no Reported-Domain field and no From domain in the original headers")
    try:
        reported_domain = normalize_domain(reported)
    except InvalidDomainError:
        raise ReportError(f"Reported-Domain {reported[:100]!r} is not a domain name") from None

    message_id = "".join(raw_header(original, "message-id").split()) if original is not None else ""
    reporter = _reporter(report, fields)
    return FailureReport(
        key=report_key(fields, message_id, reporter),
        reporter=reporter,
        feedback_type=feedback_type,
        # Received-Date is the historic name of Arrival-Date (RFC 5965 §3.2, IANA MARF registry).
        arrival_date=arf_date(first_field(fields, "arrival-date") or first_field(fields, "received-date")),
        source_ip=_source_ip(first_field(fields, "source-ip")),
        reported_domain=reported_domain,
        # RFC 6591 §3.1 requires Auth-Failure, but Netease leaves it out: then "", the report is kept.
        auth_failure=auth_failure,
        original_mail_from=_unbracket(first_field(fields, "original-mail-from")),
        original_rcpt_to=", ".join(_unbracket(value) for value in fields.get("original-rcpt-to", [])),
        delivery_result=first_field(fields, "delivery-result").lower(),
        dkim_domain=lenient_domain(first_field(fields, "dkim-domain")),
        dkim_selector=first_field(fields, "dkim-selector"),
        dkim_identity=first_field(fields, "dkim-identity"),
        identity_alignment="".join(first_field(fields, "identity-alignment").lower().split()),
        user_agent=first_field(fields, "user-agent"),
        header_from=header_from,
        subject=_subject(original) if original is not None else "",
        message_id=message_id,
    )


def _children(message: Message) -> list[Message]:
    if message.get_content_maintype() != "multipart" or not message.is_multipart():
        return []
    payload = message.get_payload()
    return [part for part in payload if isinstance(part, Message)] if isinstance(payload, list) else []


def feedback_report_parts(message: Message) -> list[Message]:
    # Only the report's own parts: a message/feedback-report inside the attached original message is
    # part of what failed, not of this report.
    return [part for part in _children(message) if part.get_content_type() == _FEEDBACK_TYPE]


def embedded_headers(part: Message) -> Message:
    """The header block a part carries as its body: the feedback fields or the original's headers."""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if part.is_multipart():
        # The email package reads the body of a message/* part as a nested message.
        inner = part.get_payload(0)
        if not isinstance(inner, Message):
            raise ReportError(f"the {part.get_content_type()} part holds no readable content")
        if encoding not in ("base64", "quoted-printable"):
            return inner
        # RFC 2046 §5.2 forbids encoding message/* bodies, but Netease base64-encodes its feedback
        # part: the nested "message" is then the encoded text, to be decoded and read again.
        body = _decode(inner.as_bytes(policy=policy.compat32), encoding)
    else:
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
    return BytesHeaderParser(policy=REPORT_POLICY).parsebytes(body)


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "quoted-printable":
        return quopri.decodestring(body)
    try:
        return base64.b64decode(body)
    except (binascii.Error, ValueError):
        raise ReportError("a base64-encoded report part cannot be decoded") from None


def original_headers(report: Message) -> Message | None:
    for part in _children(report):
        if part.get_content_type() in _ORIGINAL_TYPES:
            return embedded_headers(part)
    return None  # RFC 9991 lets a reporter redact; what is left is still a report


def feedback_fields(block: Message) -> dict[str, list[str]]:
    # raw_items: the values as written, unparsed, so that no header parser sees hostile field text.
    fields: dict[str, list[str]] = {}
    for name, value in block.raw_items():
        fields.setdefault(name.strip().lower(), []).append(_clean(str(value)))
    return fields


def first_field(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0] if values else ""


def raw_header(headers: Message, name: str) -> str:
    value = next((v for n, v in headers.raw_items() if n.strip().lower() == name), "")
    return _clean(str(value))


def _clean(text: str) -> str:
    """Unfolded, whitespace collapsed, no control characters, no lone surrogates (from 8-bit bytes the
    email package keeps as surrogate escapes): a value any store and terminal can hold."""
    text = " ".join(text.split())
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def _source_ip(text: str) -> str:
    if not text:
        raise ReportError("the feedback part has no Source-IP field")
    # Some reporters append the host name: "192.0.2.1 (mail.example.net)"; some bracket the address.
    candidate = text.split(maxsplit=1)[0].strip("[]")
    try:
        if "%" in candidate:  # a zone index (fe80::1%eth0) means nothing outside the reporter's host
            raise ValueError(candidate)
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise ReportError(f"Source-IP {text[:100]!r} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 sender, one inventory entry
    return str(address)


def arf_date(text: str) -> datetime | None:
    """An RFC 5322 date as aware UTC; None when absent or unreadable (the report is still useful)."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # "-0000": UTC, local zone unknown (RFC 5322 §3.3)
    return when.astimezone(UTC)


def _unbracket(text: str) -> str:
    return text.strip().removeprefix("<").removesuffix(">").strip()


def lenient_domain(text: str) -> str:
    try:
        return normalize_domain(text) if text else ""
    except InvalidDomainError:
        return text.strip().rstrip(".").lower()


def _first_address(headers: Message, name: str) -> tuple[str, str]:
    """(addr-spec, domain) of the first address in a header, ("", "") if none can be read."""
    if len(raw_header(headers, name)) > _MAX_PARSED_HEADER:
        return "", ""
    try:
        addresses = getattr(headers.get(name), "addresses", ())
    except Exception:  # the address parser on crafted text; the field is then unreadable, not fatal
        return "", ""
    if not addresses or not addresses[0].domain:
        return "", ""
    return str(addresses[0].addr_spec).lower(), str(addresses[0].domain)


def header_from_domain(original: Message) -> str:
    # With several From fields (itself a DMARC violation, RFC 9989) the first is reported.
    return lenient_domain(_clean(_first_address(original, "from")[1]))


def _subject(original: Message) -> str:
    raw = raw_header(original, "subject")
    if len(raw) > _MAX_PARSED_HEADER:
        return raw
    try:
        return _clean(str(original.get("subject", "")))  # RFC 2047 encoded words decoded
    except Exception:  # an encoded word the email package cannot decode: keep it as written
        return raw


def _reporter(report: Message, fields: dict[str, list[str]]) -> str:
    # Reporting-MTA: "dns; mta.example.net" (RFC 5965 §3.2, the RFC 3464 form).
    mta = first_field(fields, "reporting-mta").rpartition(";")[2].strip().lower()
    reporter = _clean(_first_address(report, "from")[0]) or mta
    if len(reporter) > _MAX_ADDRESS:
        raise ReportError(
            f"the report's sender is {len(reporter)} characters long; an address has at most {_MAX_ADDRESS}"
        )
    if reporter:
        return reporter
    raise ReportError("the report has no From address and no Reporting-MTA field: its sender is unknown")


def report_key(fields: dict[str, list[str]], message_id: str, reporter: str) -> str:
    """SHA-256 over what the report says, not how it was encoded: the feedback fields (names lower-case,
    values unfolded, sorted), the failed message's Message-ID and the reporter. A report delivered twice,
    or re-encoded with another boundary or transfer encoding, gets the same key."""
    pairs = sorted((name, value) for name, values in fields.items() for value in values)
    canonical = json.dumps([pairs, message_id, reporter], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
