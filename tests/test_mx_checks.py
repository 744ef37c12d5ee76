"""MX checks on recorded observations: grade, evidence, fix snippet and after-fix grade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mimawari.lookup import DnsAnswer, Query, Snapshot
from mimawari.model import Finding, Grade, Status
from tests.helpers import finding, recorded

D = "example.test"
Answers = Mapping[str, str | Sequence[str]]

GOOD: dict[str, str | Sequence[str]] = {
    f"{D} MX": ["10 mx1.example.test.", "20 mx2.example.test."],
    "mx1.example.test A": ["203.0.113.10"],
    "mx1.example.test AAAA": "NODATA",
    "mx2.example.test A": ["198.51.100.20"],
    "mx2.example.test AAAA": ["2001:db8::20"],
}


def check(check_id: str, answers: Answers, *patches: DnsAnswer) -> Finding:
    snapshot: Snapshot = recorded(D, answers)
    return finding(snapshot.patched(*patches) if patches else snapshot, check_id)


def grade(check_id: str, answers: Answers, *patches: DnsAnswer) -> Grade:
    return check(check_id, answers, *patches).grade


def fix_of(result: Finding) -> tuple[str, Grade]:
    assert result.fix is not None and result.fix.snippet is not None and result.after_fix is not None
    return result.fix.snippet, result.after_fix.grade


# email.mx.present


def test_mx_present_grades_a_and_lists_hosts() -> None:
    result = check("email.mx.present", GOOD)
    assert result.grade is Grade.A and result.fix is None
    assert result.evidence[0].value == "10 mx1.example.test. | 20 mx2.example.test."
    assert "10 mx1.example.test, 20 mx2.example.test" in result.summary.en


def test_null_mx_alone_is_present_and_valid() -> None:
    answers = {f"{D} MX": ["0 ."]}
    assert grade("email.mx.present", answers) is Grade.A
    result = check("email.mx.null", answers)
    assert result.grade is Grade.A
    assert "accepts no mail" in result.summary.en


def test_no_mx_with_address_is_implicit_mx() -> None:
    answers = {f"{D} MX": "NODATA", f"{D} A": ["192.0.2.80"], f"{D} AAAA": "NODATA"}
    result = check("email.mx.present", answers)
    assert result.grade is Grade.C
    assert "192.0.2.80" in result.summary.en and "RFC 5321" in result.summary.en
    assert fix_of(result) == ("example.test. IN MX 0 .", Grade.A)
    assert any(e.source == "example.test A" and e.value == "192.0.2.80" for e in result.evidence)


def test_no_mx_and_no_address_grades_b() -> None:
    answers = {f"{D} MX": "NODATA", f"{D} A": "NODATA", f"{D} AAAA": "NODATA"}
    result = check("email.mx.present", answers)
    assert result.grade is Grade.B
    assert fix_of(result) == ("example.test. IN MX 0 .", Grade.A)


def test_nxdomain_is_not_nodata() -> None:
    result = check("email.mx.present", {f"{D} MX": "NXDOMAIN"})
    assert result.grade is Grade.NA
    assert "does not exist" in result.summary.en


def test_mx_timeout_and_fallback_timeout_are_unknown() -> None:
    assert grade("email.mx.present", {f"{D} MX": "timeout"}) is Grade.UNKNOWN
    assert grade("email.mx.present", {f"{D} MX": "SERVFAIL"}) is Grade.UNKNOWN
    answers = {f"{D} MX": "NODATA", f"{D} A": "timeout", f"{D} AAAA": "NODATA"}
    result = check("email.mx.present", answers)
    assert result.grade is Grade.UNKNOWN and result.fix is None
    assert "timeout" in result.summary.en


def test_every_mx_check_is_unknown_when_the_mx_lookup_times_out() -> None:
    for check_id in (
        "email.mx.present",
        "email.mx.null",
        "email.mx.resolvable",
        "email.mx.cname",
        "email.mx.ip_literal",
        "email.mx.private_address",
        "email.mx.duplicate",
        "email.ptr.present",
        "email.ptr.fcrdns",
        "email.ptr.generic",
    ):
        assert grade(check_id, {f"{D} MX": "timeout"}) is Grade.UNKNOWN, check_id


# email.mx.null


def test_null_mx_mixed_with_other_mx_is_invalid() -> None:
    answers = {**GOOD, f"{D} MX": ["0 .", "10 mx1.example.test."]}
    result = check("email.mx.null", answers)
    assert result.grade is Grade.D
    assert fix_of(result) == ("example.test. IN MX 10 mx1.example.test.", Grade.NA)


def test_null_mx_with_nonzero_preference() -> None:
    result = check("email.mx.null", {f"{D} MX": ["10 ."]})
    assert result.grade is Grade.C
    assert fix_of(result) == ("example.test. IN MX 0 .", Grade.A)


def test_no_null_mx_is_not_applicable() -> None:
    assert grade("email.mx.null", GOOD) is Grade.NA


# email.mx.resolvable


def test_resolvable_hosts() -> None:
    assert grade("email.mx.resolvable", GOOD) is Grade.A


def test_one_unresolvable_host_is_c_with_the_remaining_set_as_fix() -> None:
    answers = {**GOOD, "mx2.example.test A": "NXDOMAIN", "mx2.example.test AAAA": "NXDOMAIN"}
    result = check("email.mx.resolvable", answers)
    assert result.grade is Grade.C
    assert "mx2.example.test" in result.summary.en
    assert fix_of(result) == ("example.test. IN MX 10 mx1.example.test.", Grade.A)


def test_all_unresolvable_is_e_with_an_address_record_to_publish() -> None:
    answers = {
        f"{D} MX": ["10 mx1.example.test."],
        "mx1.example.test A": "NODATA",
        "mx1.example.test AAAA": "NODATA",
    }
    result = check("email.mx.resolvable", answers)
    assert result.grade is Grade.E
    snippet, after = fix_of(result)
    assert snippet.startswith("mx1.example.test. IN A ") and after is Grade.A


def test_address_timeout_is_unknown_not_unresolvable() -> None:
    answers = {**GOOD, "mx2.example.test A": "timeout", "mx2.example.test AAAA": "NODATA"}
    result = check("email.mx.resolvable", answers)
    assert result.grade is Grade.UNKNOWN
    assert "mx2.example.test A" in result.summary.en
    # One family answered with an address: the host resolves whatever the other did.
    answers = {**GOOD, "mx2.example.test AAAA": "timeout"}
    assert grade("email.mx.resolvable", answers) is Grade.A


# email.mx.cname


def cname_patch(name: str, rdtype: str, records: tuple[str, ...], target: str) -> DnsAnswer:
    return DnsAnswer(Query.of(name, rdtype), Status.PRESENT, "NOERROR", records, 300, cname_chain=(target,))


def test_mx_target_that_is_an_alias() -> None:
    patches = (
        cname_patch("mx2.example.test", "A", ("198.51.100.20",), "mail.provider.test"),
        cname_patch("mx2.example.test", "AAAA", ("2001:db8::20",), "mail.provider.test"),
    )
    result = check("email.mx.cname", GOOD, *patches)
    assert result.grade is Grade.C
    assert "mx2.example.test → mail.provider.test" in result.summary.en
    assert any("via CNAME mail.provider.test" in e.value for e in result.evidence)
    assert fix_of(result) == ("example.test. IN MX 20 mail.provider.test.", Grade.A)
    assert grade("email.mx.cname", GOOD) is Grade.A


def test_alias_check_needs_an_answer() -> None:
    answers = {**GOOD, "mx2.example.test A": "timeout", "mx2.example.test AAAA": "SERVFAIL"}
    assert grade("email.mx.cname", answers) is Grade.UNKNOWN


# email.mx.ip_literal


def test_ip_literal_targets() -> None:
    answers = {**GOOD, f"{D} MX": ["10 mx1.example.test.", "20 192.0.2.25."]}
    result = check("email.mx.ip_literal", answers)
    assert result.grade is Grade.D
    assert fix_of(result) == (
        "mail1.example.test. IN A 192.0.2.25\nexample.test. IN MX 20 mail1.example.test.",
        Grade.A,
    )
    only = check("email.mx.ip_literal", {f"{D} MX": ["10 192.0.2.25."]})
    assert only.grade is Grade.E
    assert grade("email.mx.ip_literal", GOOD) is Grade.A
    # The literal is never looked up as a name, so it is not "unresolvable" either.
    assert grade("email.mx.resolvable", answers) is Grade.A


# email.mx.private_address


def test_private_and_loopback_addresses() -> None:
    answers = {**GOOD, "mx2.example.test A": ["10.0.0.25"], "mx2.example.test AAAA": "NODATA"}
    result = check("email.mx.private_address", answers)
    assert result.grade is Grade.D
    assert "10.0.0.25 (private)" in result.summary.en
    assert fix_of(result) == ("example.test. IN MX 10 mx1.example.test.", Grade.A)

    loopback = {
        f"{D} MX": ["10 mx1.example.test."],
        "mx1.example.test A": ["127.0.0.1"],
        "mx1.example.test AAAA": "NODATA",
    }
    result = check("email.mx.private_address", loopback)
    assert result.grade is Grade.E
    snippet, after = fix_of(result)
    assert snippet.startswith("mx1.example.test. IN A <") and after is Grade.A


def test_host_with_public_and_private_addresses_keeps_the_public_one() -> None:
    answers = {**GOOD, "mx2.example.test AAAA": ["fe80::1"]}
    result = check("email.mx.private_address", answers)
    assert result.grade is Grade.D
    assert fix_of(result) == ("mx2.example.test. IN A 198.51.100.20", Grade.A)


def test_documentation_prefixes_are_public() -> None:
    assert grade("email.mx.private_address", GOOD) is Grade.A


def test_private_address_unknown_on_timeout() -> None:
    answers = {**GOOD, "mx1.example.test A": "timeout"}
    assert grade("email.mx.private_address", answers) is Grade.UNKNOWN
    # mx2 has an IPv4 address, but its unseen IPv6 addresses might be private.
    answers = {**GOOD, "mx2.example.test AAAA": "timeout"}
    assert grade("email.mx.private_address", answers) is Grade.UNKNOWN
    assert grade("email.mx.duplicate", answers) is Grade.UNKNOWN


# email.mx.duplicate


def test_duplicate_names_and_addresses() -> None:
    answers = {**GOOD, f"{D} MX": ["10 mx1.example.test.", "20 mx1.example.test.", "30 mx2.example.test."]}
    result = check("email.mx.duplicate", answers)
    assert result.grade is Grade.B
    assert "mx1.example.test is listed 2 times" in result.summary.en
    assert fix_of(result) == (
        "example.test. IN MX 10 mx1.example.test.\nexample.test. IN MX 30 mx2.example.test.",
        Grade.A,
    )
    same = {**GOOD, "mx2.example.test A": ["203.0.113.10"], "mx2.example.test AAAA": "NODATA"}
    result = check("email.mx.duplicate", same)
    assert result.grade is Grade.B
    assert "same address(es) as mx1.example.test" in result.summary.en
    assert fix_of(result) == ("example.test. IN MX 10 mx1.example.test.", Grade.A)
    assert grade("email.mx.duplicate", GOOD) is Grade.A
