"""DMARC discovery: the RFC 9989 tree walk next to RFC 7489's public suffix list, and email.dmarc.discovery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from mimawari.lookup import DnsAnswer, Query, replay
from mimawari.model import Grade, Status, Target
from mimawari.observations.dmarc import DmarcObservation, dmarc_plan, tree_walk, walk_names
from tests.helpers import finding, recorded

CHECK = "email.dmarc.discovery"
Answers = Mapping[str, str | Sequence[str]]


def with_walk(target: str, answers: Answers) -> dict[str, str | Sequence[str]]:
    """``answers`` plus NXDOMAIN for every other name the discovery plan asks."""
    full: dict[str, str | Sequence[str]] = {f"_dmarc.{name} TXT": "NXDOMAIN" for name in walk_names(target)}
    full.update(answers)
    return full


def observe(target: str, answers: Answers) -> DmarcObservation:
    return replay(dmarc_plan(Target(target)), recorded(target, with_walk(target, answers)))


def test_walk_names_follow_rfc9989_section_4_10() -> None:
    assert walk_names("example.com") == ("example.com", "com")
    assert walk_names("a.mail.example.com") == (
        "a.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    )
    # The RFC's own example: more than eight labels jump to the last seven, eight queries in all.
    assert walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com") == (
        "a.b.c.d.e.f.g.h.i.j.mail.example.com",
        "g.h.i.j.mail.example.com",
        "h.i.j.mail.example.com",
        "i.j.mail.example.com",
        "j.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    )
    eight = "a.b.c.d.e.f.example.com"
    assert len(walk_names(eight)) == 8 and walk_names(eight)[1] == "b.c.d.e.f.example.com"


def answers_for(domain: str, records: Mapping[str, str]) -> dict[str, DnsAnswer]:
    out = {}
    for name in walk_names(domain):
        query = Query.of(f"_dmarc.{name}", "TXT")
        if name in records:
            out[name] = DnsAnswer(query, Status.PRESENT, "NOERROR", (f'"{records[name]}"',))
        else:
            out[name] = DnsAnswer(query, Status.ABSENT, "NXDOMAIN")
    return out


@pytest.mark.parametrize(
    ("records", "policy_domain", "org_domain"),
    [
        # §4.10.2 examples with the start a.mail.example.com
        (
            {"mail.example.com": "v=DMARC1; p=none", "example.com": "v=DMARC1; p=reject"},
            "example.com",
            "example.com",
        ),
        ({"mail.example.com": "v=DMARC1; p=none; psd=n"}, "mail.example.com", "mail.example.com"),
        ({"com": "v=DMARC1; p=reject; psd=y"}, "com", "example.com"),
        # A record only at the start: the start is its own organisational domain.
        ({"a.mail.example.com": "v=DMARC1; p=reject"}, "a.mail.example.com", "a.mail.example.com"),
        ({}, None, "a.mail.example.com"),
        # psd=y at the start is ignored for the organisational domain (rule 2 excludes the start).
        ({"a.mail.example.com": "v=DMARC1; p=reject; psd=y"}, "a.mail.example.com", "a.mail.example.com"),
        # psd=y one level up: the start is the organisational domain, the PSD record applies.
        ({"mail.example.com": "v=DMARC1; p=quarantine; psd=y"}, "mail.example.com", "a.mail.example.com"),
    ],
)
def test_tree_walk_selects_policy_and_organisational_domain(
    records: dict[str, str], policy_domain: str | None, org_domain: str
) -> None:
    walk = tree_walk("a.mail.example.com", answers_for("a.mail.example.com", records))
    assert (walk.policy_domain, walk.org_domain) == (policy_domain, org_domain)
    assert walk.status is (Status.PRESENT if policy_domain else Status.ABSENT)


def test_tree_walk_stops_at_a_psd_tag_and_ignores_multiple_records() -> None:
    answers = answers_for("a.mail.example.com", {"mail.example.com": "v=DMARC1; p=none; psd=n"})
    walk = tree_walk("a.mail.example.com", answers)
    assert walk.names == ("a.mail.example.com", "mail.example.com")
    assert walk.psd == "mail.example.com psd=n"
    query = Query.of("_dmarc.example.com", "TXT")
    answers = answers_for("a.mail.example.com", {})
    answers["example.com"] = DnsAnswer(
        query, Status.PRESENT, "NOERROR", ('"v=DMARC1; p=none"', '"v=DMARC1; p=reject"')
    )
    assert tree_walk("a.mail.example.com", answers).status is Status.ABSENT


@pytest.mark.parametrize("step", ["a.mail.example.com", "mail.example.com", "example.com", "com"])
def test_a_failed_walk_step_is_never_absent(step: str) -> None:
    answers = answers_for("a.mail.example.com", {"example.com": "v=DMARC1; p=reject"})
    answers[step] = DnsAnswer(answers[step].query, Status.TIMEOUT)
    walk = tree_walk("a.mail.example.com", answers)
    assert walk.status is Status.TIMEOUT
    assert walk.org_domain is None


def test_own_record_applies_even_when_a_later_walk_step_fails() -> None:
    answers = answers_for("mail.example.com", {"mail.example.com": "v=DMARC1; p=reject"})
    answers["com"] = DnsAnswer(answers["com"].query, Status.ERROR, "SERVFAIL")
    walk = tree_walk("mail.example.com", answers)
    assert (walk.status, walk.policy_domain, walk.org_domain) == (Status.PRESENT, "mail.example.com", None)


def test_observation_records_both_discoveries() -> None:
    observation = observe(
        "mail.example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=reject; rua=mailto:r@example.test"]}
    )
    assert (observation.status, observation.location, observation.org_domain) == (
        Status.PRESENT,
        "_dmarc.example.test",
        "example.test",
    )
    assert observation.record is not None and observation.record.tag("p") == "reject"
    assert observation.tree_walk is not None
    assert observation.tree_walk.policy_domain == "example.test"
    assert observation.tree_walk.names == ("mail.example.test", "example.test", "test")
    assert observation.discovery_agrees is True


def test_discovery_agrees_grades_a() -> None:
    answers = with_walk("example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=reject"]})
    result = finding(recorded("example.test", answers), CHECK)
    assert result.grade is Grade.A
    assert any(e.source == "RFC 9989 (DNS tree walk)" for e in result.evidence)


def test_record_between_domain_and_organisational_domain_splits_receivers() -> None:
    # RFC 7489 looks at a.b.example.test and example.test only; RFC 9989 also finds b.example.test.
    answers = with_walk("a.b.example.test", {"_dmarc.b.example.test TXT": ["v=DMARC1; p=reject"]})
    snapshot = recorded("a.b.example.test", answers)
    result = finding(snapshot, CHECK)
    assert result.grade is Grade.C
    assert "_dmarc.b.example.test" in result.summary.en and "no record" in result.summary.en
    assert result.fix is not None and result.after_fix is not None
    assert result.fix.snippet == '_dmarc.a.b.example.test. IN TXT "v=DMARC1; p=reject"'
    assert result.after_fix.grade is Grade.B  # same record now, but the organisational domains still differ
    policy = finding(snapshot, "email.dmarc.policy")
    assert policy.grade is Grade.E
    assert any("RFC 9989 tree walk" in e.source for e in policy.evidence)


def test_subdomain_with_own_record_and_no_parent_record_is_its_own_org_domain() -> None:
    answers = with_walk("mail.example.test", {"_dmarc.mail.example.test TXT": ["v=DMARC1; p=reject"]})
    result = finding(recorded("mail.example.test", answers), CHECK)
    assert result.grade is Grade.B
    assert "mail.example.test by the DNS tree walk" in result.summary.en
    assert result.fix is not None and result.fix.snippet == '_dmarc.example.test. IN TXT "v=DMARC1; p=reject"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_walk_climbing_above_the_suffix_list_gets_psd_n() -> None:
    answers = with_walk(
        "mail.example.test",
        {
            "_dmarc.example.test TXT": ["v=DMARC1; p=quarantine"],
            "_dmarc.test TXT": ["v=DMARC1; p=none"],  # a suffix operator's record without psd=y
        },
    )
    result = finding(recorded("mail.example.test", answers), CHECK)
    assert result.grade is Grade.C  # RFC 9989 receivers apply the record at _dmarc.test
    answers["_dmarc.mail.example.test TXT"] = ["v=DMARC1; p=quarantine"]
    result = finding(recorded("mail.example.test", answers), CHECK)
    assert result.grade is Grade.B
    assert result.fix is not None
    assert result.fix.snippet == '_dmarc.example.test. IN TXT "v=DMARC1; p=quarantine; psd=n"'


def test_declared_psd_difference_is_deliberate() -> None:
    answers = with_walk("mail.example.test", {"_dmarc.mail.example.test TXT": ["v=DMARC1; p=reject; psd=n"]})
    # The walk stops at psd=n; the suffix list still says example.test.
    assert finding(recorded("mail.example.test", answers), CHECK).grade is Grade.A


@pytest.mark.parametrize("failing", ["_dmarc.example.test TXT", "_dmarc.test TXT"])
@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_discovery_failure_is_unknown(failing: str, outcome: str) -> None:
    answers = with_walk(
        "mail.example.test", {"_dmarc.example.test TXT": ["v=DMARC1; p=reject"], failing: outcome}
    )
    result = finding(recorded("mail.example.test", answers), CHECK)
    assert result.grade is Grade.UNKNOWN
    assert result.fix is None


def test_nothing_anywhere_is_not_applicable() -> None:
    assert finding(recorded("example.test", with_walk("example.test", {})), CHECK).grade is Grade.NA
