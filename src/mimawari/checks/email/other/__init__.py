"""Email posture, Other category: what only a sample message (and, later, sender data) can show."""

from typing import Any

from mimawari.check import Check
from mimawari.checks.email.other import (
    dkim_replay,
    message_alignment,
    message_arc,
    message_dkim,
    message_format,
    message_tls,
    message_unsubscribe,
    sender_requirements,
    spam_rate,
)

CHECKS: tuple[Check[Any], ...] = (
    sender_requirements.CHECK,
    message_dkim.CHECK,
    message_alignment.CHECK,
    message_format.CHECK,
    message_unsubscribe.CHECK,
    dkim_replay.CHECK,
    message_tls.CHECK,
    message_arc.CHECK,
    spam_rate.CHECK,
)
