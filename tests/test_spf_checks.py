"""The email.spf.* checks on recorded observations (grade, evidence, fix, after-fix) and through the lab."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Query, Snapshot, replay
from mimawari.model import Finding, Grade, Severity
from mimawari.observations.spf import SpfNodeStatus, SpfObservation, spf_posture_plan
from mimawari.scan import scan_domains
from mimawari.serial import from_json, to_json
from tests.helpers import finding, lab_network, recorded

Answers = dict[str, str | Sequence[str]]
SPF_CHECKS = sorted(c for c in ALL_CHECKS if c.startswith("email.spf."))
BASE: Answers = {"example.test SPF": "NODATA", "example.test MX": ["10 mx.example.test."]}


def check(check_id: str, answers: Answers) -> Finding:
    return finding(recorded("example.test", {**BASE, **answers}), check_id)


def spf(record: str, **extra: str | Sequence[str]) -> Answers:
    return {"example.test TXT": [record], **{k.replace("__", " "): v for k, v in extra.items()}}


def test_all_ten_checks_are_registered() -> None:
    assert SPF_CHECKS == [
        "email.spf.all",
        "email.spf.include_targets",
        "email.spf.lookup_limit",
        "email.spf.present",
        "email.spf.ptr",
        "email.spf.record_size",
        "email.spf.single",
        "email.spf.spf_rr",
        "email.spf.syntax",
        "email.spf.void_lookups",
    ]


# email.spf.present


@pytest.mark.parametrize(
    ("mx", "record"),
    [
        (["10 mx.example.test."], "v=spf1 mx -all"),
        (["0 ."], "v=spf1 -all"),
        ("NODATA", "v=spf1 -all"),
        ("timeout", "v=spf1 mx -all"),
    ],
)
def test_missing_record_grades_e_with_a_starter_record(mx: str | list[str], record: str) -> None:
    result = finding(
        recorded(
            "example.test",
            {"example.test TXT": "NXDOMAIN", "example.test SPF": "NODATA", "example.test MX": mx},
        ),
        "email.spf.present",
    )
    assert (result.grade, result.severity) == (Grade.E, Severity.HIGH)
    assert result.evidence[0].value == "NXDOMAIN"
    assert result.fix is not None and result.fix.snippet == f'example.test. IN TXT "{record}"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A
    assert "example.test" in result.summary.ja


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_failed_root_lookup_is_unknown_for_every_record_check(outcome: str) -> None:
    for check_id in SPF_CHECKS:
        if check_id == "email.spf.spf_rr":
            continue
        result = check(check_id, {"example.test TXT": outcome})
        assert result.grade is Grade.UNKNOWN, check_id
        assert result.fix is None
    assert (
        "does not mean SPF is missing"
        in check("email.spf.present", {"example.test TXT": "timeout"}).summary.en
    )


def test_no_record_is_not_applicable_beyond_present() -> None:
    for check_id in set(SPF_CHECKS) - {"email.spf.present", "email.spf.spf_rr"}:
        assert check(check_id, {"example.test TXT": "NODATA"}).grade is Grade.NA, check_id


def test_a_good_record_passes_everything() -> None:
    answers = spf(
        "v=spf1 mx include:_spf.example.test -all",
        **{
            "example.test__MX": ["10 mx.example.test."],
            "_spf.example.test__TXT": ["v=spf1 ip4:192.0.2.0/24 -all"],
        },
    )
    for check_id in SPF_CHECKS:
        result = check(check_id, answers)
        assert result.grade is Grade.A, (check_id, result.summary.en)
        assert (result.fix, result.after_fix) == (None, None)


# email.spf.single


def test_two_records_are_merged() -> None:
    result = check(
        "email.spf.single", {"example.test TXT": ["v=spf1 mx -all", "v=spf1 include:esp.example.net ~all"]}
    )
    assert result.grade is Grade.E and "2 SPF records" in result.summary.en
    assert result.fix is not None
    assert result.fix.snippet == 'example.test. IN TXT "v=spf1 mx include:esp.example.net -all"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


# email.spf.syntax


def test_own_syntax_error_is_e_and_the_fix_drops_the_bad_term() -> None:
    result = check("email.spf.syntax", spf("v=spf1 ip4:192.0.2.300 mx -all"))
    assert result.grade is Grade.E
    assert result.fix is not None and result.fix.snippet == 'example.test. IN TXT "v=spf1 mx -all"'
    assert "ip4:192.0.2.300" in result.fix.action.en
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_included_syntax_error_is_e() -> None:
    answers = spf(
        "v=spf1 include:bad.example.net -all", **{"bad.example.net__TXT": ["v=spf1 ip4:192.0.2.0/33 -all"]}
    )
    result = check("email.spf.syntax", answers)
    assert result.grade is Grade.E and "bad.example.net" in result.summary.en
    assert result.fix is not None and result.fix.snippet == 'example.test. IN TXT "v=spf1 -all"'


def test_include_timeout_makes_tree_checks_unknown() -> None:
    answers = spf("v=spf1 include:slow.example.net -all", **{"slow.example.net__TXT": "timeout"})
    for check_id in (
        "email.spf.syntax",
        "email.spf.lookup_limit",
        "email.spf.include_targets",
        "email.spf.ptr",
    ):
        result = check(check_id, answers)
        assert result.grade is Grade.UNKNOWN, check_id
        assert any("slow.example.net TXT: timeout" in e.value for e in result.evidence)
    assert check("email.spf.all", answers).grade is Grade.A  # the include does not decide the all


# email.spf.all


@pytest.mark.parametrize(
    ("record", "grade"),
    [
        ("v=spf1 mx -all", Grade.A),
        ("v=spf1 mx ~all", Grade.B),
        ("v=spf1 mx ?all", Grade.D),
        ("v=spf1 mx", Grade.D),
        ("v=spf1 mx +all", Grade.E),
        ("v=spf1 mx all", Grade.E),
    ],
)
def test_all_grades(record: str, grade: Grade) -> None:
    result = check("email.spf.all", spf(record))
    assert result.grade is grade
    if grade is not Grade.A:
        assert result.fix is not None and result.fix.snippet == 'example.test. IN TXT "v=spf1 mx -all"'
        assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_plus_all_is_critical() -> None:
    assert check("email.spf.all", spf("v=spf1 +all")).severity is Severity.CRITICAL


def test_all_follows_redirects() -> None:
    answers = spf("v=spf1 redirect=_spf.example.net", **{"_spf.example.net__TXT": ["v=spf1 mx ~all"]})
    result = check("email.spf.all", answers)
    assert result.grade is Grade.B
    assert result.fix is not None and result.fix.snippet == '_spf.example.net. IN TXT "v=spf1 mx -all"'
    timeout = spf("v=spf1 redirect=_spf.example.net", **{"_spf.example.net__TXT": "timeout"})
    assert check("email.spf.all", timeout).grade is Grade.UNKNOWN


# email.spf.lookup_limit


def _includes(count: int) -> Answers:
    record = "v=spf1 " + " ".join(f"include:i{n}.example.net" for n in range(count)) + " -all"
    return {
        "example.test TXT": [record],
        **{f"i{n}.example.net TXT": [f"v=spf1 ip4:192.0.2.{n} -all"] for n in range(count)},
    }


@pytest.mark.parametrize(
    ("count", "grade"), [(3, Grade.A), (8, Grade.A), (9, Grade.B), (10, Grade.B), (11, Grade.E)]
)
def test_lookup_limit_grades(count: int, grade: Grade) -> None:
    result = check("email.spf.lookup_limit", _includes(count))
    assert result.grade is grade
    assert ("DNS-lookup terms", str(count)) in [(e.source, e.value) for e in result.evidence]


def test_lookups_are_counted_through_nested_includes() -> None:
    answers = spf(
        "v=spf1 a mx include:a.example.net -all",
        **{
            "example.test__A": ["192.0.2.1"],
            "a.example.net__TXT": ["v=spf1 include:b.example.net include:b.example.net ~all"],
            "b.example.net__TXT": ["v=spf1 a:x.example.net exists:%{i}.y.example.net ptr ?all"],
            "x.example.net__A": ["192.0.2.2"],
        },
    )
    observation = replay(
        spf_posture_plan(recorded("example.test", {**BASE, **answers}).target), _snap(answers)
    )
    assert observation.lookup_count == 3 + 2 + 3 + 3
    assert check("email.spf.lookup_limit", answers).grade is Grade.E
    assert check("email.spf.ptr", answers).grade is Grade.C


def _snap(answers: Answers) -> Snapshot:
    return recorded("example.test", {**BASE, **answers})


def test_include_loop_is_e() -> None:
    answers = spf(
        "v=spf1 include:loop.example.test -all", **{"loop.example.test__TXT": ["v=spf1 include:example.test"]}
    )
    result = check("email.spf.lookup_limit", answers)
    assert result.grade is Grade.E and "loop" in result.summary.en


# email.spf.void_lookups


def test_void_lookups() -> None:
    three = spf(
        "v=spf1 a:v1.example.test mx:v2.example.test a:v3.example.test ip4:192.0.2.1 -all",
        **{
            "v1.example.test__A": "NXDOMAIN",
            "v2.example.test__MX": "NODATA",
            "v3.example.test__A": "NXDOMAIN",
        },
    )
    result = check("email.spf.void_lookups", three)
    assert result.grade is Grade.E
    assert result.fix is not None and result.fix.snippet == 'example.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A
    one = spf("v=spf1 a:v1.example.test -all", **{"v1.example.test__A": "NXDOMAIN"})
    assert check("email.spf.void_lookups", one).grade is Grade.B
    failed = spf("v=spf1 a:v1.example.test -all", **{"v1.example.test__A": "timeout"})
    assert check("email.spf.void_lookups", failed).grade is Grade.UNKNOWN


# email.spf.include_targets


def test_include_without_record_is_e() -> None:
    answers = spf(
        "v=spf1 include:gone.example.net include:ok.example.net -all",
        **{"gone.example.net__TXT": "NXDOMAIN", "ok.example.net__TXT": ["v=spf1 -all"]},
    )
    result = check("email.spf.include_targets", answers)
    assert result.grade is Grade.E and "gone.example.net" in result.summary.en
    assert (
        result.fix is not None
        and result.fix.snippet == 'example.test. IN TXT "v=spf1 include:ok.example.net -all"'
    )
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_redirect_without_record_is_e() -> None:
    answers = spf("v=spf1 redirect=gone.example.net", **{"gone.example.net__TXT": ["not spf"]})
    assert check("email.spf.include_targets", answers).grade is Grade.E


# email.spf.ptr


def test_ptr_is_c_and_removed_by_the_fix() -> None:
    result = check("email.spf.ptr", spf("v=spf1 ptr mx -all"))
    assert result.grade is Grade.C
    assert result.fix is not None and result.fix.snippet == 'example.test. IN TXT "v=spf1 mx -all"'
    assert check("email.spf.ptr", spf("v=spf1 exists:%{p}.x.example.test -all")).grade is Grade.C


# email.spf.spf_rr


@pytest.mark.parametrize(
    ("type99", "grade"),
    [
        ("NODATA", Grade.A),
        (['"v=spf1 mx -all"'], Grade.B),
        (['"v=spf1 +all"'], Grade.C),
        ("timeout", Grade.UNKNOWN),
    ],
)
def test_spf_rr_type_99(type99: str | list[str], grade: Grade) -> None:
    result = check("email.spf.spf_rr", {**spf("v=spf1 mx -all"), "example.test SPF": type99})
    assert result.grade is grade
    if grade in (Grade.B, Grade.C):
        assert result.fix is not None and result.fix.snippet == "update delete example.test. SPF"


# email.spf.record_size


def test_record_size() -> None:
    tokens = [f"verification-token-{n}={'x' * 60}" for n in range(6)]
    large: Answers = {"example.test TXT": ["v=spf1 mx -all", *tokens]}
    result = check("email.spf.record_size", large)
    assert result.grade is Grade.C and "over 512" in result.summary.en
    snapshot = _snap(spf("v=spf1 mx -all"))
    answer = snapshot.answer(Query.of("example.test", "TXT"))
    assert answer is not None
    tcp = finding(snapshot.patched(replace(answer, via_tcp=True)), "email.spf.record_size")
    assert tcp.grade is Grade.D


def test_every_verdict_has_both_languages_and_real_after_fix_grades() -> None:
    cases: list[Answers] = [
        {"example.test TXT": "NXDOMAIN"},
        _includes(12),
        spf("v=spf1 ptr a:v1.example.test a:v2.example.test a:v3.example.test +all"),
        {"example.test TXT": ["v=spf1 -all", "v=spf1 ?all"]},
    ]
    for answers in cases:
        for check_id in SPF_CHECKS:
            result = check(check_id, answers)
            assert result.summary.en and result.summary.ja and result.summary.en != result.summary.ja
            if result.fix is not None:
                assert result.fix.action.ja and result.after_fix is not None
                assert result.after_fix.grade.rank is not None
                assert (result.after_fix.grade.rank or 0) < (result.grade.rank or 5), check_id


def test_observation_round_trips_through_json() -> None:
    answers = spf(
        "v=spf1 a include:a.example.net -all",
        **{
            "example.test__A": "NODATA",
            "a.example.net__TXT": ["v=spf1 include:b.example.net"],
            "b.example.net__TXT": "timeout",
        },
    )
    snapshot = _snap(answers)
    observation = replay(spf_posture_plan(snapshot.target), snapshot)
    assert from_json(SpfObservation, to_json(observation)) == observation
    assert (observation.lookup_count, observation.void_lookup_count, observation.complete) == (3, 1, False)
    assert [n.status for n in observation.tree] == [
        SpfNodeStatus.VALID,
        SpfNodeStatus.VALID,
        SpfNodeStatus.TIMEOUT,
    ]


LAB = """
zones:
  good.test:
    records:
      "@":
        MX: 10 mx.good.test.
        TXT: v=spf1 mx include:_spf.good.test -all
      mx: {A: 192.0.2.25}
      _spf: {TXT: v=spf1 ip4:198.51.100.0/24 -all}
  weak.test:
    records:
      "@":
        MX: 10 mx.good.test.
        TXT: v=spf1 include:gone.weak.test include:slow.weak.test ptr +all
        SPF: '"v=spf1 -all"'
      slow: {TXT: v=spf1 -all}
  none.test:
    records:
      "@": {MX: 0 .}
behaviour:
  slow.weak.test: drop
"""


@pytest.fixture
async def spf_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB)) as server:
        yield server


async def test_end_to_end_through_the_lab(spf_lab: DnsLab) -> None:
    checks = {c: ALL_CHECKS[c] for c in SPF_CHECKS}
    reports = await scan_domains(
        ["good.test", "weak.test", "none.test"], lab_network(spf_lab.nameserver), checks
    )
    grades = {r.domain: {f.check_id: f.grade for f in r.findings} for r in reports}
    assert set(grades["good.test"].values()) == {Grade.A}
    weak = grades["weak.test"]
    assert weak["email.spf.all"] is Grade.E
    assert weak["email.spf.include_targets"] is Grade.E  # gone.weak.test is a fact despite the timeout
    assert weak["email.spf.ptr"] is Grade.C
    assert weak["email.spf.spf_rr"] is Grade.C
    assert weak["email.spf.syntax"] is Grade.UNKNOWN  # slow.weak.test was dropped: never "fine"
    assert weak["email.spf.lookup_limit"] is Grade.UNKNOWN
    none = next(r for r in reports if r.domain == "none.test")
    present = next(f for f in none.findings if f.check_id == "email.spf.present")
    assert present.grade is Grade.E
    assert present.fix is not None and present.fix.snippet == 'none.test. IN TXT "v=spf1 -all"'
    observation = next(r for r in reports if r.domain == "good.test").observations["spf"]
    assert isinstance(observation, SpfObservation)
    assert (observation.lookup_count, observation.void_lookup_count) == (2, 0)
