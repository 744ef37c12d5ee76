"""Email posture, DNS category: one subpackage per protocol, each listing its checks in ``CHECKS``."""

from mimawari.checks.email.dns import bimi, caa, dane, dkim, dmarc, dnssec, mta_sts, mx, ns, spf, tlsrpt

CHECKS = (
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
