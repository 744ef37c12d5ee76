"""Every check mimawari knows, by id."""

from mimawari.check import registry
from mimawari.checks.email import dns as email_dns

ALL_CHECKS = registry(email_dns.CHECKS)
