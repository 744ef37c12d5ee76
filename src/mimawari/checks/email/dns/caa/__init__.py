"""Email posture, DNS category: CAA checks (RFC 8659), one module each."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.dns.caa import iodef, present, syntax

CHECKS: tuple[Check[Any], ...] = (present.CHECK, syntax.CHECK, iodef.CHECK)
