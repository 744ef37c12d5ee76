"""Email posture, Mailbox server category: IMAP, POP3 and submission servers, one check per module."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.mailbox import (
    certificate,
    certificate_key,
    cleartext_login,
    discovered,
    implicit_tls,
    software,
    tls_ciphers,
    tls_key_exchange,
    tls_offered,
    tls_versions,
)

CHECKS: tuple[Check[Any], ...] = (
    discovered.CHECK,
    tls_offered.CHECK,
    cleartext_login.CHECK,
    implicit_tls.CHECK,
    tls_versions.CHECK,
    tls_ciphers.CHECK,
    tls_key_exchange.CHECK,
    certificate.CHECK,
    certificate_key.CHECK,
    software.CHECK,
)
