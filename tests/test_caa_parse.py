"""CAA record parsing (RFC 8659): valid, malformed and hostile records never raise."""

from __future__ import annotations

import pytest

from mimawari.parse.caa import caa_line, parse_caa


@pytest.mark.parametrize(
    "record",
    [
        '0 issue "letsencrypt.org"',
        '0 issue ";"',
        '0 issue "ca.example; account=12345"',
        '0 issue "ca.example; account=1; validationmethods=dns-01"',
        '0 issuewild "ca.example"',
        '128 issue "ca.example"',
        '0 iodef "mailto:security@example.test"',
        '0 iodef "https://example.test/caa"',
        '0 ISSUE "ca.example"',
    ],
)
def test_valid_records(record: str) -> None:
    prop = parse_caa(record)
    assert prop.problems == ()
    assert prop.known


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ('1 issue "ca.example"', "flags 1"),
        ('0 issue "ca..example"', "RFC 8659 §4.2"),
        ('0 issue "ca.example; =x"', "RFC 8659 §4.2"),
        ('0 issue "-ca.example"', "RFC 8659 §4.2"),
        ('0 iodef "security@example.test"', "not a mailto:"),
        ('0 iodef "ftp://example.test"', "not a mailto:"),
        ("garbage", "not a CAA record"),
        ("", "not a CAA record"),
        ('256 issue "x"', "not a CAA record"),
        ('0 is-sue "x"', "not a CAA record"),
    ],
)
def test_malformed_records(record: str, problem: str) -> None:
    prop = parse_caa(record)
    assert any(problem in p for p in prop.problems), prop.problems


def test_fields() -> None:
    prop = parse_caa('128 Foo "bar"')
    assert (prop.flags, prop.tag, prop.value, prop.critical, prop.known) == (128, "foo", "bar", True, False)
    assert parse_caa('0 issue "CA.Example; account=1"').issuer == "ca.example"
    assert parse_caa('0 issue ";"').issuer == ""


def test_zone_line_quotes_the_value() -> None:
    assert caa_line("example.test", 0, "issue", 'a"b') == 'example.test. IN CAA 0 issue "a\\"b"'
