"""NS checks on recorded observations: the zone climb, count, resolution, networks, aliases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mimawari.lookup import DnsAnswer, Query
from mimawari.model import Finding, Grade, Status
from mimawari.observations.ns import zone_climb
from tests.helpers import finding, recorded

Answers = Mapping[str, str | Sequence[str]]
GOOD: dict[str, str | Sequence[str]] = {
    "example.test NS": ["ns1.example.test.", "ns2.dns-host.test."],
    "ns1.example.test A": ["203.0.113.53"],
    "ns1.example.test AAAA": ["2001:db8:1::53"],
    "ns2.dns-host.test A": ["198.51.100.53"],
    "ns2.dns-host.test AAAA": ["2001:db8:2::53"],
}


def check(check_id: str, answers: Answers, domain: str = "example.test", *patches: DnsAnswer) -> Finding:
    snapshot = recorded(domain, answers)
    return finding(snapshot.patched(*patches) if patches else snapshot, check_id)


def fix_of(result: Finding) -> tuple[str, Grade]:
    assert result.fix is not None and result.fix.snippet is not None and result.after_fix is not None
    return result.fix.snippet, result.after_fix.grade


def test_zone_climb_stops_at_the_organisational_domain() -> None:
    assert zone_climb("a.b.example.test", "example.test") == [
        "a.b.example.test",
        "b.example.test",
        "example.test",
    ]
    assert zone_climb("example.test", "example.test") == ["example.test"]
    assert zone_climb("example.test", "other.test") == ["example.test"]


def test_good_zone_grades_a() -> None:
    for check_id in ("dns.ns.count", "dns.ns.resolvable", "dns.ns.diversity", "dns.ns.cname"):
        assert check(check_id, GOOD).grade is Grade.A, check_id


def test_subdomain_without_ns_uses_the_parent_zone() -> None:
    answers = {**GOOD, "news.example.test NS": "NODATA"}
    result = check("dns.ns.count", answers, "news.example.test")
    assert result.grade is Grade.A
    assert "example.test has 2 name servers" in result.summary.en
    assert [e.source for e in result.evidence] == ["news.example.test NS", "example.test NS"]


def test_single_name_server() -> None:
    answers = {
        "example.test NS": ["ns1.example.test."],
        "ns1.example.test A": ["203.0.113.53"],
        "ns1.example.test AAAA": "NODATA",
    }
    result = check("dns.ns.count", answers)
    assert result.grade is Grade.D
    assert fix_of(result) == ("example.test. IN NS ns2.example.test.", Grade.A)
    # One server is also one network.
    assert check("dns.ns.diversity", answers).grade is Grade.C


def test_nxdomain_and_timeouts() -> None:
    assert check("dns.ns.count", {"example.test NS": "NXDOMAIN"}).grade is Grade.NA
    assert check("dns.ns.diversity", {"example.test NS": "NXDOMAIN"}).grade is Grade.NA
    for check_id in ("dns.ns.count", "dns.ns.resolvable", "dns.ns.diversity", "dns.ns.cname"):
        assert check(check_id, {"example.test NS": "timeout"}).grade is Grade.UNKNOWN, check_id
    # A timeout in the middle of the climb is unknown too, not "no name servers".
    result = check("dns.ns.count", {"news.example.test NS": "SERVFAIL"}, "news.example.test")
    assert result.grade is Grade.UNKNOWN
    assert "news.example.test NS" in result.summary.en


def test_unresolvable_name_server() -> None:
    answers = {**GOOD, "ns2.dns-host.test A": "NXDOMAIN", "ns2.dns-host.test AAAA": "NXDOMAIN"}
    result = check("dns.ns.resolvable", answers)
    assert result.grade is Grade.C
    assert fix_of(result) == ("example.test. IN NS ns1.example.test.", Grade.A)
    timeout = {**GOOD, "ns2.dns-host.test A": "timeout", "ns2.dns-host.test AAAA": "NODATA"}
    assert check("dns.ns.resolvable", timeout).grade is Grade.UNKNOWN
    assert check("dns.ns.diversity", timeout).grade is Grade.UNKNOWN
    half = {**GOOD, "ns2.dns-host.test AAAA": "timeout"}
    assert check("dns.ns.resolvable", half).grade is Grade.A
    assert check("dns.ns.diversity", half).grade is Grade.UNKNOWN
    dead = {
        "example.test NS": ["ns1.example.test."],
        "ns1.example.test A": "NODATA",
        "ns1.example.test AAAA": "NODATA",
    }
    result = check("dns.ns.resolvable", dead)
    assert result.grade is Grade.E
    snippet, after = fix_of(result)
    assert snippet.startswith("ns1.example.test. IN A <") and after is Grade.A


def test_all_ipv4_in_one_slash_24() -> None:
    answers = {**GOOD, "ns2.dns-host.test A": ["203.0.113.54"]}
    result = check("dns.ns.diversity", answers)
    assert result.grade is Grade.C
    assert "203.0.113.0/24" in result.summary.en
    assert fix_of(result) == (
        "example.test. IN NS ns2.example.test.\nns2.example.test. IN A <IPv4 address outside 203.0.113.0/24>",
        Grade.A,
    )


def test_only_ipv6_in_one_slash_48_is_b() -> None:
    answers = {**GOOD, "ns2.dns-host.test AAAA": ["2001:db8:1::54"]}
    result = check("dns.ns.diversity", answers)
    assert result.grade is Grade.B
    assert "2001:db8:1::/48" in result.summary.en
    assert fix_of(result)[1] is Grade.A


def test_name_server_alias() -> None:
    patches = tuple(
        DnsAnswer(
            Query.of("ns2.dns-host.test", t),
            Status.PRESENT,
            "NOERROR",
            r,
            300,
            cname_chain=("a.dns-host.test",),
        )
        for t, r in (("A", ("198.51.100.53",)), ("AAAA", ("2001:db8:2::53",)))
    )
    result = check("dns.ns.cname", GOOD, "example.test", *patches)
    assert result.grade is Grade.C
    assert fix_of(result) == ("example.test. IN NS a.dns-host.test.", Grade.A)
