"""The demo's sender data (``lab/demo/senders.yaml``): a sample message and spam-rate figures per domain,
put into the demo's scan targets the way ``scan --message`` and the stored imports would put them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

import yaml

from mimawari.model import SampleMessage, SpamRateDay, SpamRateSummary, Target

SPAM_WINDOW_DAYS = 30


def _spam_rates(entry: dict[str, Any], today: date) -> SpamRateSummary:
    daily: list[float] = entry["daily"]
    first = today - timedelta(days=len(daily))
    series = tuple(
        SpamRateDay((first + timedelta(days=i)).isoformat(), entry["source"], rate)
        for i, rate in enumerate(daily)
    )
    return SpamRateSummary(SPAM_WINDOW_DAYS, series)


def with_demo_senders(target: Target, today: date) -> Target:
    """``target`` with the demo's sample message and spam rates for its domain, when it has any."""
    demo = files("mimawari.lab").joinpath("demo")
    senders: dict[str, Any] = yaml.safe_load(demo.joinpath("senders.yaml").read_text(encoding="utf-8"))
    entry = senders.get(target.domain)
    if entry is None:
        return target
    name = entry["message"]
    sample = SampleMessage.of(name, demo.joinpath(name).read_bytes())
    return replace(target, sample_message=sample, spam_rates=_spam_rates(entry["spam_rates"], today))
