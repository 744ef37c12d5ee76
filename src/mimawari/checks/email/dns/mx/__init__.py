"""Email posture, DNS category: MX checks and the reverse DNS (PTR) of MX addresses, one module each."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.dns.mx import (
    cname,
    duplicate,
    ip_literal,
    null,
    present,
    private_address,
    ptr_fcrdns,
    ptr_generic,
    ptr_present,
    resolvable,
)

CHECKS: tuple[Check[Any], ...] = (
    present.CHECK,
    null.CHECK,
    resolvable.CHECK,
    cname.CHECK,
    ip_literal.CHECK,
    private_address.CHECK,
    duplicate.CHECK,
    ptr_present.CHECK,
    ptr_fcrdns.CHECK,
    ptr_generic.CHECK,
)
