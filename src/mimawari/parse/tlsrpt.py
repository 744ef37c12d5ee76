"""SMTP TLS Reporting (RFC 8460 §3): the ``_smtp._tls`` TXT record. Never raises; problems are listed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mimawari.parse.taglist import TagProblem, Whitespace, is_extension_field, split_tag_list

_VERSION = re.compile(r"^v=TLSRPTv1\s*(;|$)")
_HOST = re.compile(r"^(?=.{1,253}$)((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+[A-Za-z][A-Za-z0-9-]{0,62}$")


def is_tlsrpt_record(text: str) -> bool:
    """True for a TXT value senders keep (RFC 8460 §3: it begins with ``v=TLSRPTv1``)."""
    return bool(_VERSION.match(text))


@dataclass(frozen=True)
class TlsRptRecord:
    text: str
    fields: tuple[tuple[str, str], ...]
    rua: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    @property
    def valid(self) -> bool:
        return not self.problems


def rua_problem(uri: str) -> str | None:
    """Why a ``rua`` URI is unusable (RFC 8460 §3: ``mailto:`` or ``https:``), or None."""
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme == "mailto":
        # Commas and semicolons inside the address must be percent-encoded (RFC 8460 §3).
        local, at, domain = unquote(rest.split("?", 1)[0]).rpartition("@")
        if not at or not local or not _HOST.match(domain):
            return f"rua {uri!r} is not a mailto: address"
        return None
    if scheme == "https":
        host = urlsplit(uri).hostname or ""
        return None if _HOST.match(host) else f"rua {uri!r} has no valid host"
    return f"rua {uri!r} must be a mailto: or https: URI"


def parse_tlsrpt(text: str) -> TlsRptRecord:
    tag_list = split_tag_list(text, whitespace=Whitespace.FIELD_DELIM)
    # Leniently, unlike MTA-STS, spaces after "=" are dropped (RFC 8460 §3 allows none there).
    fields = tuple((name, value.strip(" \t")) for name, value in tag_list.tags)
    problems: list[str] = []
    for part in tag_list.parts:
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(f"not a name=value field: {part.text!r}")
        elif part.problem is TagProblem.DUPLICATE:
            problems.append(f"field {part.name!r} appears more than once")
    if not fields or fields[0] != ("v", "TLSRPTv1"):
        problems.append("the record must begin with v=TLSRPTv1")
    rua: tuple[str, ...] = ()
    destinations = next((v for k, v in fields if k == "rua"), None)
    if destinations is None:
        problems.append("required field rua is missing")
    else:
        rua = tuple(uri.strip(" \t") for uri in destinations.split(","))
        if not any(rua):
            problems.append("rua names no report destination")
        problems += [p for p in map(rua_problem, filter(None, rua)) if p]
        rua = tuple(filter(None, rua))
    for name, ext in fields:
        if name not in ("v", "rua") and not is_extension_field(name, ext):
            problems.append(f"field {name}={ext!r} is not a valid extension field")
    return TlsRptRecord(text, fields, rua, tuple(problems))
