"""Email posture, MTA server category: port 25 of every MX address, one check per module."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.mta import (
    auth_before_tls,
    banner_ptr,
    dane,
    latency,
    mta_sts_names,
    open_relay,
    reachable,
    smtp_smuggling,
    software,
    starttls,
    tls,
    tls_handshake,
    tls_reports,
    unknown_recipient,
    vrfy_expn,
)

CHECKS: tuple[Check[Any], ...] = (
    reachable.CHECK,
    starttls.CHECK,
    tls_handshake.CHECK,
    *tls.CHECKS,
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
    tls_reports.CHECK,
)
