"""CAA records (RFC 8659): flags, tag and value, with every syntax problem reported, never raised."""

from __future__ import annotations

import re
from dataclasses import dataclass

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.CAA import CAA

CRITICAL = 128
"""The Issuer Critical flag (RFC 8659 §4.1); the other seven bits are reserved and must be zero."""

KNOWN_TAGS = frozenset(
    {"issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"}
)
"""RFC 8659 §4.2–4.4, RFC 9495 (issuemail), the CA/B Forum BIMI and contact tags (IANA registry)."""

# RFC 8659 §4.2 ABNF for issue/issuewild values.
_LABEL = r"[A-Za-z0-9](?:-*[A-Za-z0-9])*"
_PARAMETER = rf"{_LABEL}[ \t]*=[ \t]*[\x21-\x3a\x3c-\x7e]*"
_ISSUE_VALUE = re.compile(
    rf"[ \t]*(?:{_LABEL}(?:\.{_LABEL})*[ \t]*)?"
    rf"(?:;[ \t]*(?:{_PARAMETER}(?:[ \t]*;[ \t]*{_PARAMETER})*[ \t]*)?)?"
)
_IODEF_SCHEMES = ("mailto:", "http://", "https://")  # RFC 8659 §4.4


@dataclass(frozen=True)
class CaaProperty:
    """One CAA record; ``tag`` lower case (tags match case-insensitively, RFC 8659 §4.1)."""

    record: str
    flags: int
    tag: str
    value: str
    problems: tuple[str, ...] = ()

    @property
    def critical(self) -> bool:
        return bool(self.flags & CRITICAL)

    @property
    def known(self) -> bool:
        return self.tag in KNOWN_TAGS

    @property
    def issuer(self) -> str:
        """For issue/issuewild: the CA's domain, empty when the record authorises no CA (``";"``)."""
        return self.value.split(";", 1)[0].strip().lower()


def parse_caa(record: str) -> CaaProperty:
    """A CAA record in presentation format (``0 issue "letsencrypt.org"``)."""
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CAA, record)
    except (dns.exception.DNSException, ValueError) as exc:
        return CaaProperty(record, 0, "", "", (f"not a CAA record: {str(exc) or type(exc).__name__}",))
    assert isinstance(rdata, CAA)
    tag = rdata.tag.decode("ascii", errors="replace").lower()
    value = rdata.value.decode("utf-8", errors="replace")
    problems: list[str] = []
    if rdata.flags not in (0, CRITICAL):
        problems.append(f"flags {rdata.flags}: only 0 and 128 are defined, the other bits are reserved")
    if tag in ("issue", "issuewild") and not _ISSUE_VALUE.fullmatch(value):
        problems.append(f"{tag} value {value!r} does not follow the RFC 8659 §4.2 syntax")
    if tag == "iodef" and not value.lower().startswith(_IODEF_SCHEMES):
        problems.append(f"iodef value {value!r} is not a mailto:, http: or https: URL (RFC 8659 §4.4)")
    if not tag.isascii() or not tag.isalnum():
        problems.append(f"tag {tag!r} is not letters and digits (RFC 8659 §4.1)")
    return CaaProperty(record, rdata.flags, tag, value, tuple(problems))


def caa_rdata(flags: int, tag: str, value: str) -> str:
    """A CAA record's data in presentation format, the value quoted."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{flags} {tag} "{quoted}"'


def caa_line(owner: str, flags: int, tag: str, value: str) -> str:
    """A CAA record as a zone-file line."""
    return f"{owner}. IN CAA {caa_rdata(flags, tag, value)}"
