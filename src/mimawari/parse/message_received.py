"""``Received`` header fields (RFC 5321 §4.4): who handed the message to whom, over what, and whether TLS.

Each server that accepts a message adds a ``Received`` field on top, so the topmost field describes the
last hop: the sending server's HELO name and address (``from``), the receiving host (``by``) and the
protocol (``with``). TLS shows in two ways that both occur in the wild:

* the ``with`` protocol names of RFC 3848 and RFC 6531 — ``ESMTPS``, ``ESMTPSA``, ``UTF8SMTPS`` … — where
  the final ``S`` (before an optional ``A`` for authenticated) means STARTTLS was used;
* a comment with the TLS parameters: ``(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384)`` (Gmail,
  Microsoft 365) or ``(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))`` (Postfix).

The field is free-form beyond its clauses, so parsing is best effort and never raises: what is not found
is empty. A mailbox provider often adds internal hops after its edge server (private or loopback
addresses); ``last_external_hop`` skips those to reach the hop that came from the internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mimawari.parse.mx import AddressScope, address_scope

TLS_PROTOCOLS = frozenset(
    {"ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA"}
)
"""RFC 3848 and RFC 6531 ``with`` values that say the hop used TLS."""
PLAIN_PROTOCOLS = frozenset({"SMTP", "ESMTP", "ESMTPA", "LMTP", "LMTPA", "UTF8SMTP", "UTF8SMTPA"})
MAX_EVIDENCE = 300
"""Characters of a Received field kept for evidence."""

_FROM = re.compile(r"(?:^|\s)from\s+(\S+)", re.IGNORECASE)
_BY = re.compile(r"(?:^|[\s)])by\s+([^\s;()]+)", re.IGNORECASE)
_WITH = re.compile(r"(?:^|[\s)])with\s+([A-Za-z0-9_-]+)", re.IGNORECASE)
_IP_LITERAL = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]")
_BARE_IP = re.compile(
    r"(?<![\w.:])(\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:])"
)
_TLS_COMMENT = (
    re.compile(r"version\s*=\s*(TLS\s*v?1[._]?[0-3]?)(?:[,\s]+cipher\s*=\s*([\w-]+))?", re.IGNORECASE),
    re.compile(r"using\s+(TLSv1(?:\.[0-3])?)(?:\s+with\s+cipher\s+([\w-]+))?", re.IGNORECASE),
)


@dataclass(frozen=True)
class ReceivedHop:
    """One ``Received`` field; ``index`` 0 is the topmost (the last hop)."""

    index: int
    text: str
    """The field's value, unfolded, cut to ``MAX_EVIDENCE`` characters."""
    from_name: str = ""
    """The name in the ``from`` clause: the HELO/EHLO name the sending client gave."""
    from_ip: str = ""
    """The client's address the receiving server recorded (in brackets in the ``from`` clause)."""
    by_name: str = ""
    protocol: str = ""
    """The ``with`` value, upper case (``ESMTPS``)."""
    tls: bool = False
    tls_detail: str = ""
    """What showed TLS: ``with ESMTPS``, ``version=TLS1_3 cipher=…``."""

    @property
    def external(self) -> bool:
        return bool(self.from_ip) and address_scope(self.from_ip) is AddressScope.PUBLIC

    @property
    def protocol_known(self) -> bool:
        """True when the hop says something about TLS either way (a protocol name or a TLS comment)."""
        return self.tls or self.protocol in PLAIN_PROTOCOLS


def parse_received(index: int, value: str) -> ReceivedHop:
    text = " ".join(value.split())
    # The date follows the last ";" (RFC 5321 §4.4); the clauses are before it.
    clauses = text.rsplit(";", 1)[0] if ";" in text else text
    from_part = clauses
    by_match = _BY.search(clauses)
    if by_match is not None:
        from_part = clauses[: by_match.start()]
    from_match = _FROM.search(from_part)
    from_name = from_match.group(1).strip("()[]").lower() if from_match else ""
    from_ip = _client_address(from_part) if from_match else ""
    with_match = _WITH.search(clauses[by_match.start() :] if by_match else clauses)
    protocol = with_match.group(1).upper() if with_match else ""
    tls_detail = ""
    if protocol in TLS_PROTOCOLS:
        tls_detail = f"with {protocol}"
    for pattern in _TLS_COMMENT:
        found = pattern.search(text)
        if found is not None:
            comment = f"version={found.group(1)}" + (f" cipher={found.group(2)}" if found.group(2) else "")
            tls_detail = f"{tls_detail} ({comment})" if tls_detail else comment
            break
    return ReceivedHop(
        index,
        text[:MAX_EVIDENCE],
        from_name,
        from_ip,
        by_match.group(1).lower() if by_match else "",
        protocol,
        bool(tls_detail),
        tls_detail,
    )


def _client_address(from_part: str) -> str:
    """The address recorded for the client: a bracketed literal, else a bare address in the comment."""
    for pattern in (_IP_LITERAL, _BARE_IP):
        for candidate in map(str, pattern.findall(from_part)):
            if address_scope(candidate) is not AddressScope.INVALID:
                return candidate.lower()
    return ""


def last_external_hop(hops: tuple[ReceivedHop, ...]) -> ReceivedHop | None:
    """The topmost hop whose client has a public address (the one that came from the internet); else
    the topmost hop with any client address; else the topmost hop; None without ``Received`` fields."""
    return (
        next((hop for hop in hops if hop.external), None)
        or next((hop for hop in hops if hop.from_ip), None)
        or (hops[0] if hops else None)
    )
