from __future__ import annotations

import pytest

from mimawari.parse.dmarc import Policy, is_dmarc_record, parse_dmarc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DMARC1; p=none", True),
        ("v=DMARC1", True),
        (" v = DMARC1 ;p=reject", True),
        ("v=DMARC10; p=none", False),
        ("v=dmarc1; p=none", False),  # RFC 7489 §6.3: the value must match precisely
        ("p=none; v=DMARC1", False),
        ("v=spf1 -all", False),
    ],
)
def test_is_dmarc_record(text: str, expected: bool) -> None:
    assert is_dmarc_record(text) is expected


def test_tags_in_order_and_case_insensitive_values() -> None:
    record = parse_dmarc("v=DMARC1; P=Reject; sp=quarantine; rua=mailto:a@x.test, mailto:b@y.test;")
    assert record.problems == ()
    assert record.policy("p") is Policy.REJECT
    assert record.rua == ("mailto:a@x.test", "mailto:b@y.test")
    assert record.effective_policy(subdomain=True) is Policy.QUARANTINE
    assert record.effective_policy(subdomain=False) is Policy.REJECT


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=DMARC1; rua=mailto:a@x.test", "required tag p is missing"),
        ("v=DMARC1; p=block", "p=block is not none"),
        ("v=DMARC1; p=none; p=reject", "appears more than once"),
        ("v=DMARC1; p=none; pct=150", "pct=150"),
        ("v=DMARC1; p=none; junk", "not a tag=value pair"),
        ("v=DMARC1; p=none; sp=maybe", "sp=maybe"),
    ],
)
def test_problems_are_listed(text: str, problem: str) -> None:
    assert any(problem in p for p in parse_dmarc(text).problems)


def test_invalid_p_with_report_address_counts_as_none() -> None:
    # RFC 7489 §6.6.3: act as if p=none when a valid rua is present.
    assert (
        parse_dmarc("v=DMARC1; p=bogus; rua=mailto:r@x.test").effective_policy(subdomain=False) is Policy.NONE
    )
    assert parse_dmarc("v=DMARC1; p=bogus").effective_policy(subdomain=False) is None


def test_with_tag() -> None:
    record = parse_dmarc("v=DMARC1; p=none; pct=20")
    assert record.with_tag("p", "reject") == "v=DMARC1; p=reject; pct=20"
    assert record.with_tag("pct", None) == "v=DMARC1; p=none"
    assert record.with_tag("rua", "mailto:r@x.test") == "v=DMARC1; p=none; pct=20; rua=mailto:r@x.test"
