"""Domain names: validation of user input and the organisational domain (bundled public suffix list)."""

from __future__ import annotations

import re
from functools import cache

from publicsuffixlist import PublicSuffixList

from mimawari.errors import InvalidDomainError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(text: str) -> str:
    """A user-given domain as an ASCII, lower-case name without the trailing dot.

    Internationalised names are converted to their ``xn--`` form (IDNA). Raises ``InvalidDomainError``
    with a one-line reason for anything that is not a registrable-looking host name.
    """
    name = text.strip().rstrip(".")
    if not name:
        raise InvalidDomainError("empty domain name")
    try:
        name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidDomainError(f"{text!r} is not a valid domain name (IDNA conversion failed)") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        raise InvalidDomainError(f"{text!r} is not a domain name (expected something like example.com)")
    bad = next((label for label in labels if not _LABEL.match(label)), None)
    if bad is not None:
        raise InvalidDomainError(f"{text!r} is not a valid domain name (bad label {bad!r})")
    if labels[-1].isdigit():
        raise InvalidDomainError(f"{text!r} is an IP address, not a domain name")
    return name


@cache
def _psl() -> PublicSuffixList:
    # The list bundled with the package: never refreshed at run time.
    return PublicSuffixList()


def organizational_domain(name: str) -> str:
    """The organisational domain of ``name`` (RFC 7489 §3.2): public suffix plus one label."""
    return _psl().privatesuffix(name) or name
