"""What an SPF evaluation returns (RFC 7208 §2.6), and the checked inputs it starts from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from mimawari.errors import InputError
from mimawari.parse.spf import Qualifier

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidSpfInputError(InputError):
    """An IP address or sender that cannot be checked (a bad command-line value)."""


class SpfResult(StrEnum):
    NONE = "none"
    NEUTRAL = "neutral"
    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


RESULT_OF = {
    Qualifier.PASS: SpfResult.PASS,
    Qualifier.FAIL: SpfResult.FAIL,
    Qualifier.SOFTFAIL: SpfResult.SOFTFAIL,
    Qualifier.NEUTRAL: SpfResult.NEUTRAL,
}


@dataclass(frozen=True)
class SpfStep:
    """One evaluated term (or record lookup) in the trace: where, what, and what came of it."""

    depth: int
    domain: str
    term: str
    outcome: str


@dataclass(frozen=True)
class SpfEvaluation:
    """The result of check_host(): ``explanation`` is the exp= text of a fail (§6.2), ``problem``
    says why a permerror or temperror happened, ``mechanism`` is the term that decided."""

    result: SpfResult
    domain: str
    explanation: str = ""
    problem: str = ""
    mechanism: str = ""
    lookups: int = 0
    void_lookups: int = 0
    trace: tuple[SpfStep, ...] = ()

    def summary(self) -> str:
        """One sentence for people: the explanation of a fail, the problem of an error, else what matched."""
        if self.result is SpfResult.FAIL:
            return (
                self.explanation
                or f"{self.mechanism} in the SPF record of {self.domain} matched: not authorised"
            )
        if self.problem:
            return self.problem
        if self.result is SpfResult.NONE:
            return f"no SPF record for {self.domain}"
        if self.mechanism:
            return f"{self.mechanism} in the SPF record of {self.domain} matched"
        return f"no mechanism in the SPF record of {self.domain} matched (default result)"


def parse_client_ip(text: str) -> IPAddress:
    """The SMTP client's address; an IPv4-mapped IPv6 address is its IPv4 address (§5)."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidSpfInputError(f"{text!r} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_sender(text: str) -> str:
    """A MAIL FROM address as given on a command line: empty (a bounce) or ``[local@]domain``."""
    sender = text.strip()
    if any(not c.isprintable() or c.isspace() for c in sender) or sender.endswith("@"):
        raise InvalidSpfInputError(
            f"{text!r} is not a mail address (expected local@domain, or '' for a bounce)"
        )
    return sender
