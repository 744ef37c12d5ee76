"""Judge a domain against the requirement set: each requirement's test, by the name the data gives it.

A test reads the sample message when there is one and falls back on what DNS shows otherwise (SPF and
DKIM records, the DMARC record, published key sizes), or says what it needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from mimawari.checks.email.other.matrix import (
    Matrix,
    Result,
    Row,
    State,
    Test,
    dkim_key_bits,
    dkim_keys,
    dmarc_record,
    spam_rate,
    spf_record,
)
from mimawari.checks.email.other.matrix_message import (
    message_alignment,
    message_dkim,
    message_format,
    message_key_bits,
    message_one_click,
    message_reverse_dns,
    message_spf,
    message_tls,
    message_visible_unsubscribe,
)
from mimawari.deliverability.requirements import RequirementSet, bundled_requirements
from mimawari.model import Text
from mimawari.observations.sender_posture import SenderPosture


def spf(posture: SenderPosture) -> Result:
    return message_spf(posture.message) or spf_record(posture.spf)


def dkim(posture: SenderPosture) -> Result:
    return message_dkim(posture.message) or dkim_keys(posture.dkim)


def spf_or_dkim(posture: SenderPosture) -> Result:
    either, other = spf(posture), dkim(posture)
    evidence = either.evidence + other.evidence
    summary = Text(
        f"SPF: {either.summary.en} DKIM: {other.summary.en}",
        f"SPF: {either.summary.ja} DKIM: {other.summary.ja}",
    )
    states = {either.state, other.state}
    if State.PASS in states:
        return Result(State.PASS, summary, evidence)
    if states == {State.FAIL}:
        return Result(State.FAIL, summary, evidence, either.fix or other.fix)
    for state in (State.UNKNOWN, State.NEEDS_MESSAGE):
        if state in states:
            return Result(state, summary, evidence)
    return Result(State.FAIL, summary, evidence, either.fix or other.fix)


def dkim_key_size(posture: SenderPosture) -> Result:
    return message_key_bits(posture.message) or dkim_key_bits(posture.dkim)


TESTS: Mapping[str, Test] = {
    "spf_or_dkim": spf_or_dkim,
    "spf": spf,
    "dkim": dkim,
    "dkim_key_size": dkim_key_size,
    "dmarc": lambda posture: dmarc_record(posture.dmarc),
    "alignment": lambda posture: message_alignment(posture.message),
    "reverse_dns": lambda posture: message_reverse_dns(posture.message),
    "tls": lambda posture: message_tls(posture.message),
    "format": lambda posture: message_format(posture.message),
    "one_click_unsubscribe": lambda posture: message_one_click(posture.message),
    "visible_unsubscribe": lambda posture: message_visible_unsubscribe(posture.message),
    "spam_rate": spam_rate,
}

REQUIREMENTS = bundled_requirements(frozenset(TESTS))
"""The bundled requirement set, checked against ``TESTS`` at import."""


def judge(posture: SenderPosture, requirements: RequirementSet = REQUIREMENTS) -> Matrix:
    rows = tuple(Row(r, TESTS[r.test](posture)) for r in requirements.requirements)
    return Matrix(posture.domain, requirements, rows)
