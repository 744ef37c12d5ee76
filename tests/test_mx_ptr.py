"""PTR / forward-confirmed reverse DNS of MX addresses, on recorded observations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mimawari.model import Finding, Grade
from tests.helpers import finding, recorded

D = "example.test"
REV4 = "10.113.0.203.in-addr.arpa"
REV6 = "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
BASE: dict[str, str | Sequence[str]] = {
    f"{D} MX": ["10 mx1.example.test."],
    "mx1.example.test A": ["203.0.113.10"],
    "mx1.example.test AAAA": ["2001:db8::20"],
}
CONFIRMED: dict[str, str | Sequence[str]] = {
    **BASE,
    f"{REV4} PTR": ["mx1.example.test."],
    f"{REV6} PTR": ["mx1.example.test."],
}


def check(check_id: str, answers: Mapping[str, str | Sequence[str]]) -> Finding:
    return finding(recorded(D, answers), check_id)


def test_confirmed_reverse_dns_grades_a_everywhere() -> None:
    for check_id in ("email.ptr.present", "email.ptr.fcrdns", "email.ptr.generic"):
        result = check(check_id, CONFIRMED)
        assert result.grade is Grade.A, check_id
    result = check("email.ptr.fcrdns", CONFIRMED)
    assert "203.0.113.10 ↔ mx1.example.test" in result.summary.en


def test_missing_ptr() -> None:
    answers = {**CONFIRMED, f"{REV6} PTR": "NXDOMAIN"}
    result = check("email.ptr.present", answers)
    assert result.grade is Grade.C
    assert result.fix is not None and result.after_fix is not None
    assert result.fix.snippet == f"{REV6}. IN PTR mx1.example.test."
    assert result.after_fix.grade is Grade.A
    none = check("email.ptr.present", {**BASE, f"{REV4} PTR": "NXDOMAIN", f"{REV6} PTR": "NODATA"})
    assert none.grade is Grade.D
    assert none.fix is not None
    assert none.fix.snippet == (f"{REV4}. IN PTR mx1.example.test.\n{REV6}. IN PTR mx1.example.test.")
    # Addresses without PTR are the PTR check's business, not the FCrDNS check's.
    assert check("email.ptr.fcrdns", none_answers()).grade is Grade.NA


def none_answers() -> dict[str, str | Sequence[str]]:
    return {**BASE, f"{REV4} PTR": "NXDOMAIN", f"{REV6} PTR": "NODATA"}


def test_ptr_that_does_not_lead_back() -> None:
    answers = {
        **BASE,
        f"{REV4} PTR": ["elsewhere.example.test."],
        "elsewhere.example.test A": ["192.0.2.99"],
        f"{REV6} PTR": ["mx1.example.test."],
    }
    result = check("email.ptr.fcrdns", answers)
    assert result.grade is Grade.C
    assert "203.0.113.10 → elsewhere.example.test" in result.summary.en
    assert result.fix is not None and result.after_fix is not None
    assert result.fix.snippet == f"{REV4}. IN PTR mx1.example.test."
    assert result.after_fix.grade is Grade.A
    assert any(e.source == "elsewhere.example.test A" and e.value == "192.0.2.99" for e in result.evidence)
    assert check("email.ptr.present", answers).grade is Grade.A


def test_one_of_several_ptr_names_confirming_is_enough() -> None:
    answers = {
        **CONFIRMED,
        f"{REV4} PTR": ["a.example.test.", "mx1.example.test."],
        "a.example.test A": "NXDOMAIN",
    }
    assert check("email.ptr.fcrdns", answers).grade is Grade.A


def test_generic_ptr_names() -> None:
    answers = {
        **CONFIRMED,
        f"{REV4} PTR": ["203-0-113-10.dsl.isp.test."],
        "203-0-113-10.dsl.isp.test A": ["203.0.113.10"],
    }
    result = check("email.ptr.generic", answers)
    assert result.grade is Grade.C
    assert any("contains the address 203.0.113.10" in e.value for e in result.evidence)
    assert result.fix is not None and result.after_fix is not None
    assert result.fix.snippet == f"{REV4}. IN PTR mx1.example.test."
    assert result.after_fix.grade is Grade.A
    assert check("email.ptr.fcrdns", answers).grade is Grade.A


def test_timeouts_at_each_step_are_unknown() -> None:
    ptr_timeout = {**CONFIRMED, f"{REV4} PTR": "timeout"}
    forward_timeout = {
        **CONFIRMED,
        f"{REV4} PTR": ["other.example.test."],
        "other.example.test A": "timeout",
    }
    address_timeout = {**CONFIRMED, "mx1.example.test A": "timeout", "mx1.example.test AAAA": "timeout"}
    one_family_timeout = {**CONFIRMED, "mx1.example.test AAAA": "timeout"}
    for answers in (ptr_timeout, address_timeout, one_family_timeout):
        for check_id in ("email.ptr.present", "email.ptr.fcrdns", "email.ptr.generic"):
            assert check(check_id, answers).grade is Grade.UNKNOWN, check_id
    result = check("email.ptr.fcrdns", forward_timeout)
    assert result.grade is Grade.UNKNOWN
    assert "other.example.test A" in result.summary.en
    # The PTR records themselves were answered: the other checks do not depend on the forward lookup.
    assert check("email.ptr.present", forward_timeout).grade is Grade.A
    assert check("email.ptr.generic", forward_timeout).grade is Grade.A


def test_private_addresses_get_no_ptr_lookup() -> None:
    answers = {
        f"{D} MX": ["10 mx1.example.test."],
        "mx1.example.test A": ["10.0.0.25"],
        "mx1.example.test AAAA": "NODATA",
    }
    assert check("email.ptr.present", answers).grade is Grade.NA
    assert check("email.ptr.present", {f"{D} MX": ["0 ."]}).grade is Grade.NA
