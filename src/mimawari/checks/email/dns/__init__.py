"""Email posture, DNS category: one subpackage per protocol, each listing its checks in ``CHECKS``."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.dns import bimi, caa, dane, dkim, dmarc, dnssec, mta_sts, mx, ns, spf, tlsrpt

CHECKS: tuple[Check[Any], ...] = (
    *dmarc.CHECKS,
    *spf.CHECKS,
    *dkim.CHECKS,
    *mx.CHECKS,
    *mta_sts.CHECKS,
    *tlsrpt.CHECKS,
    *bimi.CHECKS,
    *dnssec.CHECKS,
    *dane.CHECKS,
    *ns.CHECKS,
    *caa.CHECKS,
)
