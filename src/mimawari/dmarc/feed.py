"""What the stored reports tell a scan: the DKIM selectors seen signing for the domain (tried by the DKIM
checks besides the common ones), the SMTP TLS reports' summary (graded by ``email.mta.tls_reports``) and
the spam-complaint figures (graded by ``email.other.spam_rate``).
Given through the ``Target``, so the scan's snapshot keeps them and a replay judges the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from mimawari.model import Target
from mimawari.store import Store

TLS_REPORT_DAYS = 30
"""The window of SMTP TLS reports a scan is judged on."""
MAX_SELECTORS = 20
"""Selectors taken from the reports, most used first: a DKIM lookup each."""
SPAM_RATE_DAYS = 30
"""The window of spam-complaint figures (``mimawari deliverability import``) a scan is given."""


def enriched(target: Target, store: Store, now: datetime) -> Target:
    """``target`` with the selectors and TLS reports the store holds for its domain."""
    seen = store.dmarc.dkim_selectors(target.domain)[:MAX_SELECTORS]
    selectors = tuple(dict.fromkeys((*target.dkim_selectors, *seen)))
    tls = store.dmarc.tls_summary(target.domain, TLS_REPORT_DAYS, now)
    spam = store.deliverability.series(target.domain, SPAM_RATE_DAYS, now)
    return replace(
        target,
        dkim_selectors=selectors,
        tls_reports=tls or target.tls_reports,
        spam_rates=spam or target.spam_rates,
    )
