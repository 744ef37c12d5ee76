"""Email posture, DNS category: DKIM key records (RFC 6376, RFC 8301, RFC 8463), one check per module."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.dns.dkim import (
    cname,
    hash_algorithms,
    key_size,
    key_type,
    revoked,
    selectors,
    syntax,
    testing,
)

CHECKS: tuple[Check[Any], ...] = (
    selectors.CHECK,
    syntax.CHECK,
    key_type.CHECK,
    key_size.CHECK,
    testing.CHECK,
    revoked.CHECK,
    hash_algorithms.CHECK,
    cname.CHECK,
)
