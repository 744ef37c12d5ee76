from __future__ import annotations

import pytest

from mimawari.parse.dmarc import Policy, is_dmarc_record, looks_like_dmarc, parse_dmarc, parse_report_uri


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


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=DMARC1; p=none; adkim=x", "adkim=x is not r or s"),
        ("v=DMARC1; p=none; aspf=relaxed", "aspf=relaxed"),
        ("v=DMARC1; p=none; fo=0:1", "fo=0:1"),
        ("v=DMARC1; p=none; fo=2", "fo=2"),
        ("v=DMARC1; p=none; fo=d:d", "fo=d:d"),
        ("v=DMARC1; p=none; t=yes", "t=yes is not y or n"),
        ("v=DMARC1; p=none; psd=maybe", "psd=maybe is not y, n or u"),
        ("v=DMARC1; p=none; np=drop", "np=drop"),
        ("v=DMARC1; p=none; ri=soon", "ri=soon"),
        ("v=DMARC1; p=none; rf=afrf:%%", "rf=afrf:%%"),
        ("v=DMARC1; p=none; rua=dmarc@example.test", "missing mailto:"),
        ("v=DMARC1; p=none; ruf=mailto:nobody", "not a valid mailto: address"),
        ("v=DMARC1; p=none; rua=", "tag 'rua' has no value"),
        ("v=DMARC1; p=none; 1x=2", "not a tag=value pair"),
        ("v=DMARC1; p=none; rua=mailto:a@b.test!x", "'!' must be percent-encoded"),
        ("v=DMARC1; p=none; rua=mailto:é@b.test", "printable ASCII"),
        ("p=none; v=DMARC1", "must start with v=DMARC1"),
    ],
)
def test_rfc9989_value_problems(text: str, problem: str) -> None:
    problems = parse_dmarc(text).problems
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; fo=1:d:s; t=n; psd=u",
        "v=DMARC1; p=none; rua=mailto:a@x.test,mailto:b@y.test!10m; ruf=mailto:f@x.test",
        "v=DMARC1; p=quarantine; pct=0; rf=afrf; ri=86400",
        "v=DMARC1; p=none; rua=https://reports.example.test/dmarc",
        "v=DMARC1; p=none; future=whatever",  # unknown tags are not syntax errors (RFC 9989 §4.7)
    ],
)
def test_valid_records_have_no_problems(text: str) -> None:
    assert parse_dmarc(text).problems == ()


@pytest.mark.parametrize(
    "text",
    ["", ";;;", "=", "v", "v=DMARC1;" + "x" * 5000, "v=DMARC1; p=\x00", "\ufeffv=DMARC1", "v=DMARC1; =none"],
)
def test_hostile_input_never_raises(text: str) -> None:
    record = parse_dmarc(text)
    assert record.problems
    record.rebuilt()
    record.effective_policy(subdomain=True, nonexistent=True)


@pytest.mark.parametrize(
    ("uri", "address", "host", "size", "valid"),
    [
        ("mailto:dmarc@example.test", "dmarc@example.test", "example.test", "", True),
        ("mailto:dmarc@example.test!10m", "dmarc@example.test", "example.test", "10m", True),
        ("MAILTO:Dmarc%2Bx@Example.TEST", "Dmarc+x@Example.TEST", "example.test", "", True),
        ("mailto:a@b.test?subject=hi", "a@b.test", "b.test", "", True),
        ("https://r.example.test/x", "", "r.example.test", "", True),
        ("dmarc@example.test", "", "", "", False),
        ("mailto:@example.test", "@example.test", "example.test", "", False),
        ("mailto:a@localhost", "a@localhost", "localhost", "", False),
    ],
)
def test_report_uris(uri: str, address: str, host: str, size: str, valid: bool) -> None:
    parsed = parse_report_uri(uri)
    assert (parsed.address, parsed.host, parsed.size, parsed.valid) == (address, host, size, valid)


def test_effective_policy_np_sp_and_invalid_subdomain_policies() -> None:
    record = parse_dmarc("v=DMARC1; p=reject; sp=quarantine; np=none")
    assert record.effective_policy(subdomain=False) is Policy.REJECT
    assert record.effective_policy(subdomain=True) is Policy.QUARANTINE
    assert record.effective_policy(subdomain=True, nonexistent=True) is Policy.NONE
    assert parse_dmarc("v=DMARC1; p=reject; sp=none").effective_policy(subdomain=True, nonexistent=True) is (
        Policy.NONE
    )
    # RFC 7489 §6.6.3 / RFC 9989 §4.10.1: an invalid sp or np spoils the whole record.
    assert parse_dmarc("v=DMARC1; p=reject; sp=bogus").effective_policy(subdomain=False) is None
    assert parse_dmarc("v=DMARC1; p=reject; np=x; rua=mailto:r@x.test").effective_policy(subdomain=False) is (
        Policy.NONE
    )
    assert parse_dmarc("v=DMARC1; p=bogus; rua=dmarc@x.test").effective_policy(subdomain=False) is None


def test_testing_mode_lowers_the_enforced_policy() -> None:
    assert parse_dmarc("v=DMARC1; p=reject; t=y").enforced_policy(subdomain=False) is Policy.QUARANTINE
    assert parse_dmarc("v=DMARC1; p=quarantine; t=Y").enforced_policy(subdomain=False) is Policy.NONE
    assert parse_dmarc("v=DMARC1; p=none; t=y").enforced_policy(subdomain=False) is Policy.NONE
    assert parse_dmarc("v=DMARC1; p=reject; t=n").enforced_policy(subdomain=False) is Policy.REJECT


def test_tag_inventory() -> None:
    record = parse_dmarc("v=DMARC1; p=none; pct=10; rau=mailto:a@x.test; ri=3600; adkim=S")
    assert record.unknown_tags == ("rau",)
    assert record.removed_tags == ("pct", "ri")
    assert record.alignment("adkim") == "s" and record.alignment("aspf") == "r"
    assert record.psd is None and parse_dmarc("v=DMARC1; psd=Y").psd == "y"


def test_rebuilt_drops_invalid_values_and_keeps_the_rest() -> None:
    record = parse_dmarc("p=bogus; v=DMARC1; adkim=x; sp=none; rua=nope,mailto:r@x.test; fo=1; fo=0; zz=1")
    assert record.rebuilt() == "v=DMARC1; p=none; sp=none; rua=mailto:r@x.test; fo=1; zz=1"
    assert record.rebuilt(p="reject", zz=None) == "v=DMARC1; p=reject; sp=none; rua=mailto:r@x.test; fo=1"
    assert parse_dmarc(record.rebuilt()).problems == ()


def test_looks_like_dmarc() -> None:
    assert looks_like_dmarc("v=dmarc1; p=reject")
    assert looks_like_dmarc("p=none; v=DMARC1")
    assert not looks_like_dmarc("v=DMARC1; p=none")
    assert not looks_like_dmarc("v=spf1 -all")
