"""Every check mimawari knows, by id."""

from mimawari.check import registry
from mimawari.checks.email import dns as email_dns
from mimawari.checks.email import mailbox as email_mailbox
from mimawari.checks.email import mta as email_mta
from mimawari.checks.email import other as email_other

ALL_CHECKS = registry(email_dns.CHECKS, email_mta.CHECKS, email_mailbox.CHECKS, email_other.CHECKS)
