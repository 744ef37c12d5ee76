"""check_host() (RFC 7208 §4–§7) on recorded answers, and end to end through the lab's DNS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Query, Request, Response, Snapshot, not_recorded, replay
from mimawari.observations.spf_eval import (
    InvalidSpfInputError,
    SpfEvaluation,
    SpfResult,
    check_host,
    parse_client_ip,
    parse_sender,
    spf_plan,
)
from mimawari.observe import DnsClient, Network, run_plan
from tests.helpers import recorded

Answers = dict[str, str | Sequence[str]]


def evaluate(
    answers: Answers,
    ip: str = "192.0.2.10",
    sender: str = "user@example.test",
    helo: str = "mail.example.test",
    asked: list[Query] | None = None,
) -> SpfEvaluation:
    snapshot = recorded("example.test", answers)

    def answer(request: Request) -> Response:
        if asked is not None and isinstance(request, Query):
            asked.append(request)
        return snapshot.response(request) or not_recorded(request)

    plan = spf_plan(ip, sender, helo, default_explanation="DEFAULT")
    return replay(plan, Snapshot(snapshot.target), answer)


def test_pass_fail_softfail_neutral() -> None:
    record = "v=spf1 ip4:192.0.2.0/25 ~ip4:192.0.2.128/26 ?ip4:192.0.2.192/27 -all"
    answers: Answers = {"example.test TXT": [record]}
    assert evaluate(answers, "192.0.2.10").result is SpfResult.PASS
    assert evaluate(answers, "192.0.2.130").result is SpfResult.SOFTFAIL
    assert evaluate(answers, "192.0.2.200").result is SpfResult.NEUTRAL
    failed = evaluate(answers, "198.51.100.1")
    assert (failed.result, failed.mechanism, failed.explanation) == (SpfResult.FAIL, "-all", "DEFAULT")
    assert evaluate({"example.test TXT": ["v=spf1 ip4:192.0.2.99"]}).result is SpfResult.NEUTRAL


def test_none_when_there_is_no_record() -> None:
    assert evaluate({"example.test TXT": "NXDOMAIN"}).result is SpfResult.NONE
    assert evaluate({"example.test TXT": "NODATA"}).result is SpfResult.NONE
    assert evaluate({"example.test TXT": ["google-site-verification=x", "v=spf10"]}).result is SpfResult.NONE
    assert evaluate({}, sender="user@localhost").result is SpfResult.NONE  # not a multi-label name: no query


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_failed_record_lookup_is_temperror(outcome: str) -> None:
    result = evaluate({"example.test TXT": outcome})
    assert result.result is SpfResult.TEMPERROR
    assert "TXT lookup for example.test" in result.problem


@pytest.mark.parametrize(
    ("record", "answers"),
    [
        ("v=spf1 a -all", {"example.test A": "timeout"}),
        ("v=spf1 mx -all", {"example.test MX": "SERVFAIL"}),
        ("v=spf1 mx -all", {"example.test MX": ["10 mx.example.test."], "mx.example.test A": "timeout"}),
        ("v=spf1 exists:%{l}.x.example.test -all", {"user.x.example.test A": "timeout"}),
        ("v=spf1 include:inc.example.test -all", {"inc.example.test TXT": "timeout"}),
        ("v=spf1 redirect=inc.example.test", {"inc.example.test TXT": "SERVFAIL"}),
    ],
)
def test_dns_failures_in_terms_are_temperror(record: str, answers: Answers) -> None:
    assert evaluate({"example.test TXT": [record], **answers}).result is SpfResult.TEMPERROR


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"example.test TXT": ["v=spf1 -all", "v=spf1 +all"]}, "2 SPF records"),
        ({"example.test TXT": ["v=spf1 ip4:192.0.2.10 ip4:300.1.1.1"]}, "syntax error"),
        (
            {"example.test TXT": ["v=spf1 include:none.example.test"], "none.example.test TXT": "NXDOMAIN"},
            "no SPF",
        ),
        (
            {"example.test TXT": ["v=spf1 redirect=none.example.test"], "none.example.test TXT": "NODATA"},
            "no SPF",
        ),
        (
            {
                "example.test TXT": ["v=spf1 a:v1.example.test a:v2.example.test a:v3.example.test -all"],
                "v1.example.test A": "NXDOMAIN",
                "v2.example.test A": "NODATA",
                "v3.example.test A": "NXDOMAIN",
            },
            "void",
        ),
    ],
)
def test_permerrors(answers: Answers, problem: str) -> None:
    result = evaluate(answers)
    assert result.result is SpfResult.PERMERROR
    assert problem in result.problem


def test_syntax_errors_anywhere_are_permerror_even_after_a_match() -> None:
    assert evaluate({"example.test TXT": ["v=spf1 ip4:192.0.2.10 -all bogus"]}).result is SpfResult.PERMERROR


def test_lookup_limit_is_counted_across_includes() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 include:i1.example.test include:i2.example.test ip4:192.0.2.10 -all"],
        "i1.example.test TXT": ["v=spf1 " + " ".join(f"a:h{i}.example.test" for i in range(5))],
        "i2.example.test TXT": ["v=spf1 " + " ".join(f"a:h{i}.example.test" for i in range(5))],
        **{f"h{i}.example.test A": ["198.51.100.1"] for i in range(5)},
    }
    result = evaluate(answers)
    assert result.result is SpfResult.PERMERROR and "more than 10" in result.problem
    assert result.lookups == 11


def test_include_maps_inner_results() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 include:fail.example.test include:pass.example.test -all"],
        "fail.example.test TXT": ["v=spf1 -all"],
        "pass.example.test TXT": ["v=spf1 ip4:192.0.2.10 -all"],
    }
    result = evaluate(answers)
    assert (result.result, result.mechanism, result.domain) == (
        SpfResult.PASS,
        "include:pass.example.test",
        "example.test",
    )
    assert [s.term for s in result.trace if s.term] == [
        "-all",
        "include:fail.example.test",
        "ip4:192.0.2.10",
        "include:pass.example.test",
    ]


def test_include_loop_hits_the_lookup_limit() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 include:loop.example.test -all"],
        "loop.example.test TXT": ["v=spf1 include:example.test"],
    }
    assert evaluate(answers).result is SpfResult.PERMERROR


def test_explanation_is_fetched_only_on_fail_and_expanded() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 ip4:192.0.2.10 -all exp=why.%{d}"],
        "why.example.test TXT": ["%{i} may not send for %{d} (sender %{s}, %{c})"],
    }
    asked: list[Query] = []
    assert evaluate(answers, asked=asked).result is SpfResult.PASS
    assert Query.of("why.example.test", "TXT") not in asked
    failed = evaluate(answers, "198.51.100.7")
    assert (
        failed.explanation
        == "198.51.100.7 may not send for example.test (sender user@example.test, 198.51.100.7)"
    )


@pytest.mark.parametrize("outcome", ["timeout", "NXDOMAIN"])
def test_a_broken_explanation_falls_back_to_the_default(outcome: str) -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 -all exp=why.example.test"],
        "why.example.test TXT": outcome,
    }
    result = evaluate(answers)
    assert (result.result, result.explanation, result.void_lookups) == (SpfResult.FAIL, "DEFAULT", 0)


def test_redirect_uses_the_target_domain_and_its_explanation() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 ip4:198.51.100.1 redirect=_spf.example.test exp=own.example.test"],
        "_spf.example.test TXT": ["v=spf1 -all exp=theirs.example.test"],
        "theirs.example.test TXT": ["not from %{d}"],
    }
    result = evaluate(answers)
    assert (result.result, result.explanation, result.domain) == (
        SpfResult.FAIL,
        "not from _spf.example.test",
        "_spf.example.test",
    )


def test_mx_is_read_in_preference_order() -> None:
    record: Answers = {"example.test TXT": ["v=spf1 mx -all"]}
    mx: Answers = {"example.test MX": ["10 a.example.test.", "20 b.example.test."]}
    first_matches = {**record, **mx, "a.example.test A": ["192.0.2.10"], "b.example.test A": "timeout"}
    assert evaluate(first_matches).result is SpfResult.PASS
    first_fails = {**record, **mx, "a.example.test A": "timeout", "b.example.test A": ["192.0.2.10"]}
    assert evaluate(first_fails).result is SpfResult.TEMPERROR


def test_more_than_ten_mx_names_is_permerror() -> None:
    mx = [f"{i} mx{i}.example.test." for i in range(11)]
    assert (
        evaluate({"example.test TXT": ["v=spf1 mx -all"], "example.test MX": mx}).result
        is SpfResult.PERMERROR
    )


def test_null_mx_is_not_looked_up() -> None:
    answers: Answers = {"example.test TXT": ["v=spf1 mx -all"], "example.test MX": ["0 ."]}
    assert evaluate(answers).result is SpfResult.FAIL


def test_ptr_errors_do_not_match_instead_of_temperror() -> None:
    reverse = "10.2.0.192.in-addr.arpa PTR"
    record: Answers = {"example.test TXT": ["v=spf1 ptr -all"]}
    assert evaluate({**record, reverse: "timeout"}).result is SpfResult.FAIL
    validated = {**record, reverse: ["mail.example.test."], "mail.example.test A": ["192.0.2.10"]}
    assert evaluate(validated).result is SpfResult.PASS
    forward_fails = {**record, reverse: ["mail.example.test."], "mail.example.test A": "timeout"}
    assert evaluate(forward_fails).result is SpfResult.FAIL
    spoofed = {**record, reverse: ["mail.example.test."], "mail.example.test A": ["198.51.100.1"]}
    assert evaluate(spoofed).result is SpfResult.FAIL


def test_ipv6_clients_use_aaaa_and_ip6() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 ip4:0.0.0.0/0 a//64 -all"],
        "example.test AAAA": ["2001:db8::1"],
    }
    assert evaluate(answers, "2001:db8::ffff").result is SpfResult.PASS
    assert evaluate(answers, "2001:db8:1::1").result is SpfResult.FAIL
    assert evaluate({"example.test TXT": ["v=spf1 ip6:::/0 -all"]}, "192.0.2.1").result is SpfResult.FAIL


def test_ipv4_mapped_addresses_are_ipv4() -> None:
    assert parse_client_ip("::ffff:192.0.2.10") == parse_client_ip("192.0.2.10")
    assert evaluate({"example.test TXT": ["v=spf1 ip4:192.0.2.10 -all"]}, "::ffff:192.0.2.10").result is (
        SpfResult.PASS
    )


def test_empty_sender_checks_the_helo_identity() -> None:
    answers: Answers = {
        "mail.example.test TXT": ["v=spf1 a -all exp=e.example.test"],
        "mail.example.test A": ["192.0.2.10"],
    }
    assert evaluate(answers, sender="").result is SpfResult.PASS


def test_sender_without_local_part_is_postmaster() -> None:
    answers: Answers = {
        "example.test TXT": ["v=spf1 exists:%{l}.ok.example.test -all"],
        "postmaster.ok.example.test A": ["127.0.0.2"],
    }
    assert evaluate(answers, sender="@example.test").result is SpfResult.PASS


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InvalidSpfInputError):
        parse_client_ip("192.0.2.300")
    with pytest.raises(InvalidSpfInputError):
        parse_sender("two words@example.test")
    with pytest.raises(InvalidSpfInputError):
        parse_sender("user@")
    assert parse_sender("") == ""
    with pytest.raises(InvalidSpfInputError):
        next(check_host("not-an-ip", "example.test", "a@example.test"))


LAB = """
zones:
  spf.test:
    records:
      "@":
        MX: 10 mx.spf.test.
        TXT: v=spf1 mx include:alias.spf.test -all exp=exp.spf.test
      mx: {A: 192.0.2.25}
      alias: {CNAME: real.spf.test.}
      real: {TXT: v=spf1 ip6:2001:db8:25::/48 ip4:198.51.100.0/24 ~all}
      exp: {TXT: "%{i} is not a server of %{d}"}
      slow: {TXT: v=spf1 include:dropped.spf.test -all}
behaviour:
  dropped.spf.test: drop
"""


@pytest.fixture
async def spf_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB)) as server:
        yield server


async def lab_check(lab: DnsLab, ip: str, sender: str, timeout: float = 1.0) -> SpfEvaluation:
    network = Network(DnsClient([lab.nameserver], timeout=timeout, attempts=1))
    return await run_plan(spf_plan(ip, sender, "mail.spf.test"), network)


async def test_end_to_end_through_the_lab(spf_lab: DnsLab) -> None:
    assert (await lab_check(spf_lab, "192.0.2.25", "a@spf.test")).result is SpfResult.PASS
    via_cname = await lab_check(spf_lab, "2001:db8:25::1", "a@spf.test")
    assert (via_cname.result, via_cname.mechanism) == (SpfResult.PASS, "include:alias.spf.test")
    failed = await lab_check(spf_lab, "203.0.113.9", "a@spf.test")
    assert (failed.result, failed.explanation) == (SpfResult.FAIL, "203.0.113.9 is not a server of spf.test")
    assert (await lab_check(spf_lab, "203.0.113.9", "a@nothing.spf.test")).result is SpfResult.NONE


async def test_a_dropped_query_in_the_lab_is_temperror(spf_lab: DnsLab) -> None:
    result = await lab_check(spf_lab, "203.0.113.9", "a@slow.spf.test", timeout=0.2)
    assert result.result is SpfResult.TEMPERROR and "dropped.spf.test" in result.problem
