"""MTA-STS record and policy parsing (RFC 8461 §3.1, §3.2) and MX pattern matching (§4.1)."""

from __future__ import annotations

import pytest

from mimawari.parse.mta_sts import (
    StsMode,
    StsPolicy,
    is_sts_record,
    mx_matches,
    parse_sts_policy,
    parse_sts_record,
    valid_mx_pattern,
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("v=STSv1; id=1", True),
        ("v=STSv1;id=1", True),
        ("v=STSv1", True),
        ("v=STSv10; id=1", False),
        ("V=STSv1; id=1", False),
        (" v=STSv1; id=1", False),
        ("v=spf1 -all", False),
        ("", False),
    ],
)
def test_which_txt_records_are_sts_records(text: str, kept: bool) -> None:
    assert is_sts_record(text) is kept


def test_valid_record() -> None:
    assert parse_sts_record("v=STSv1; id=20260501T000000Z1;").valid
    record = parse_sts_record("v=STSv1; id=20260501000000; ext_1=ok")
    assert record.valid and record.id == "20260501000000"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=STSv1", "required field id is missing"),
        ("v=STSv1; id=", "must be 1 to 32 letters and digits"),
        ("v=STSv1; id=abc-def", "must be 1 to 32 letters and digits"),
        ("v=STSv1; id=" + "a" * 33, "must be 1 to 32 letters and digits"),
        ("id=1; v=STSv1", "must begin with v=STSv1"),
        ("v=STSv1; id=1; id=2", "appears more than once"),
        ("v=STSv1; id=1; junk", "not a name=value field"),
        ("v=STSv1; id=1; x=a=b", "not a valid extension field"),
        ("v=STSv1; id=1; =x", "not a name=value field"),
    ],
)
def test_invalid_records(text: str, problem: str) -> None:
    record = parse_sts_record(text)
    assert not record.valid
    assert any(problem in p for p in record.problems), record.problems


POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"


def test_valid_policy_with_crlf_and_lf() -> None:
    for body in (POLICY, POLICY.replace("\r\n", "\n")):
        policy = parse_sts_policy(body)
        assert policy == StsPolicy("STSv1", StsMode.ENFORCE, 604800, ("mail.example.com", "*.example.net"))


def test_unknown_keys_are_ignored_and_round_trip() -> None:
    policy = parse_sts_policy(POLICY + "future_key: value\n")
    assert policy.valid
    assert parse_sts_policy(policy.to_text()) == policy


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "required field version is missing"),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1", "is not STSv1"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", "is not enforce, testing or none"),
        ("version: STSv1\nmx: a.example\nmax_age: 1", "required field mode is missing"),
        ("version: STSv1\nmode: enforce\nmx: a.example", "required field max_age is missing"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601", "from 0 to 31557600"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1", "from 0 to 31557600"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: ١٢", "from 0 to 31557600"),
        ("version: STSv1\nmode: enforce\nmax_age: 86400", "no mx patterns"),
        ("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 86400", "is not a host name"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\nmode: none", "mode appears more"),
        ("<html><body>Not found</body></html>", "not a key: value line"),
    ],
)
def test_invalid_policies(body: str, problem: str) -> None:
    policy = parse_sts_policy(body)
    assert not policy.valid
    assert any(problem in p for p in policy.problems), policy.problems


def test_mode_none_needs_no_mx() -> None:
    assert parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400").valid


def test_hostile_policy_does_not_raise() -> None:
    parse_sts_policy("\x00" * 1000 + ":" * 1000 + "\n" * 1000 + "mx: " + "a." * 300 + "example")


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("mail.example.com", "MAIL.Example.com.", True),
        ("*.example.com", "mail.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "mail.example.net", False),
        ("mail.example.com", "mx.mail.example.com", False),
    ],
)
def test_mx_pattern_matching(pattern: str, host: str, matches: bool) -> None:
    assert mx_matches(pattern, host) is matches


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("mail.example.com", True),
        ("*.example.com", True),
        ("example", False),
        ("*.com", False),
        ("mail..example.com", False),
        ("-a.example.com", False),
        ("mail.example.com.", True),
    ],
)
def test_mx_pattern_syntax(pattern: str, valid: bool) -> None:
    assert valid_mx_pattern(pattern) is valid
