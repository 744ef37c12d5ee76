"""Email posture, Mailbox server category: IMAP, POP3 and submission servers, one check per module."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.mailbox import (
    cleartext_login,
    discovered,
    implicit_tls,
    software,
    tls,
    tls_offered,
)

CHECKS: tuple[Check[Any], ...] = (
    discovered.CHECK,
    tls_offered.CHECK,
    cleartext_login.CHECK,
    implicit_tls.CHECK,
    *tls.CHECKS,
    software.CHECK,
)
