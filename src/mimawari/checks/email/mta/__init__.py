"""Email posture, MTA server category: port 25 of every MX address, one check per module."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.mta import (
    auth_before_tls,
    banner_ptr,
    certificate,
    certificate_key,
    dane,
    latency,
    mta_sts_names,
    open_relay,
    reachable,
    smtp_smuggling,
    software,
    starttls,
    tls_ciphers,
    tls_handshake,
    tls_key_exchange,
    tls_versions,
    unknown_recipient,
    vrfy_expn,
)

CHECKS: tuple[Check[Any], ...] = (
    reachable.CHECK,
    starttls.CHECK,
    tls_handshake.CHECK,
    certificate.CHECK,
    certificate_key.CHECK,
    tls_versions.CHECK,
    tls_ciphers.CHECK,
    tls_key_exchange.CHECK,
    dane.CHECK,
    mta_sts_names.CHECK,
    open_relay.CHECK,
    vrfy_expn.CHECK,
    auth_before_tls.CHECK,
    unknown_recipient.CHECK,
    banner_ptr.CHECK,
    latency.CHECK,
    software.CHECK,
    smtp_smuggling.CHECK,
)
