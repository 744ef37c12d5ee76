"""Email posture, DNS category: DNSSEC checks, one module each."""

from mimawari.checks.email.dns.dnssec import algorithms, ds, mx, status

CHECKS = (status.CHECK, ds.CHECK, algorithms.CHECK, mx.CHECK)
