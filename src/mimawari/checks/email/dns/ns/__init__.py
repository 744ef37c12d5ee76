"""Email posture, DNS category: name server (NS) checks of the domain's zone, one module each."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.dns.ns import cname, count, diversity, resolvable

CHECKS: tuple[Check[Any], ...] = (count.CHECK, resolvable.CHECK, diversity.CHECK, cname.CHECK)
