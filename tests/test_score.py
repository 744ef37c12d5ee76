"""The rating rules of ``mimawari.score``, each on hand-made findings (docs/scoring.md has them in words)."""

from __future__ import annotations

from mimawari.checks import ALL_CHECKS
from mimawari.model import AfterFix, Category, Finding, Fix, Grade, Severity, Text
from mimawari.score import (
    CAP_CRITICAL_D,
    CAP_CRITICAL_E,
    RULES_VERSION,
    check_severities,
    letter,
    prioritise,
    score,
)

T = Text("t", "t")
DNS, MTA, MAILBOX = Category.EMAIL_DNS, Category.EMAIL_MTA, Category.EMAIL_MAILBOX


def f(
    check_id: str,
    grade: Grade,
    severity: Severity = Severity.MEDIUM,
    category: Category = DNS,
    snippet: str | None = None,
) -> Finding:
    fix = Fix(T, snippet) if grade not in (Grade.A, Grade.NA, Grade.UNKNOWN) else None
    after = AfterFix(Grade.A, T) if fix is not None else None
    return Finding(check_id, "example.test", category, grade, severity, T, T, fix=fix, after_fix=after)


def weights(*findings: Finding) -> dict[str, Severity]:
    """Each check's own severity is the finding's (as a failing finding carries it)."""
    return {x.check_id: x.severity for x in findings}


def test_weighted_mean_of_grade_points_and_na_left_out() -> None:
    findings = [f("a", Grade.A, Severity.HIGH), f("b", Grade.C, Severity.LOW), f("c", Grade.NA)]
    result = score(findings, weights(*findings))
    # (100 × 3 + 65 × 1) / 4 = 91.25
    assert result.score == 91.2  # round() halves to even: 91.25 → 91.2
    assert result.grade is Grade.A
    (dns,) = result.categories
    assert (dns.graded, dns.unknown) == (2, 0)
    assert result.rules_version == RULES_VERSION


def test_the_checks_own_severity_weighs_not_the_passing_verdicts() -> None:
    passing = f("strong", Grade.A, Severity.INFO)  # a passing verdict is reported as info
    failing = f("weak", Grade.E, Severity.LOW)
    as_reported = score([passing, failing], weights(passing, failing)).score
    by_check = score([passing, failing], {"strong": Severity.CRITICAL, "weak": Severity.LOW}).score
    assert as_reported == 50.0
    assert by_check == round(100 * 5 / 6, 1)


def test_letters() -> None:
    assert [letter(p) for p in (100, 90, 89.9, 75, 60, 40, 39.9, 0)] == [
        Grade.A,
        Grade.A,
        Grade.B,
        Grade.B,
        Grade.C,
        Grade.D,
        Grade.E,
        Grade.E,
    ]


def test_unknown_is_insufficient_data_beyond_half_the_weight() -> None:
    some = [f("a", Grade.A, Severity.HIGH), f("b", Grade.UNKNOWN, Severity.MEDIUM)]
    result = score(some, weights(*some))
    assert result.score == 100.0  # 2/5 of the weight unknown: still scored on what was seen
    assert result.categories[0].unknown_share == 0.4
    most = [f("a", Grade.A, Severity.LOW), f("b", Grade.UNKNOWN, Severity.HIGH)]
    result = score(most, weights(*most))
    assert (result.score, result.grade) == (None, Grade.UNKNOWN)
    assert result.insufficient == (DNS,)


def test_a_critical_finding_caps_its_category_and_the_overall_score() -> None:
    findings = [f(f"ok{i}", Grade.A, Severity.HIGH) for i in range(20)]
    relay = f("email.mta.open_relay", Grade.E, Severity.CRITICAL, MTA)
    mta_ok = [f(f"mta{i}", Grade.A, Severity.HIGH, MTA) for i in range(20)]
    result = score([*findings, *mta_ok, relay], weights(*findings, *mta_ok, relay))
    mta = result.category(MTA)
    assert mta is not None and mta.score == CAP_CRITICAL_E and mta.grade is Grade.E
    assert mta.capped_by == ("email.mta.open_relay",)
    assert result.score == CAP_CRITICAL_E
    d_grade = f("x", Grade.D, Severity.CRITICAL, MTA)
    result = score([*mta_ok, d_grade], weights(*mta_ok, d_grade))
    assert result.score == CAP_CRITICAL_D


def test_categories_are_weighted_and_renormalised() -> None:
    dns = [f("d", Grade.A)]
    mta = [f("m", Grade.E, category=MTA)]
    mailbox = [f("x", Grade.NA, category=MAILBOX)]
    result = score([*dns, *mta, *mailbox], weights(*dns, *mta, *mailbox))
    # DNS 100 × 40 and MTA 0 × 30; the mailbox category has nothing graded and is left out.
    assert result.score == round(100 * 40 / 70, 1)
    mailbox_score = result.category(MAILBOX)
    assert mailbox_score is not None and mailbox_score.grade is Grade.NA


def test_nothing_graded_is_not_applicable_and_scores_are_deterministic() -> None:
    assert score([f("a", Grade.NA)], {}).grade is Grade.NA
    assert score([], {}).score is None
    findings = [f("a", Grade.B), f("b", Grade.C, category=MTA)]
    assert score(findings, {}) == score(list(reversed(findings)), {})


def test_priority_puts_the_best_next_step_first() -> None:
    relay = f("email.mta.open_relay", Grade.E, Severity.CRITICAL, MTA, snippet="reject_unauth_destination")
    weak = f("email.dkim.key_size", Grade.C, Severity.MEDIUM, snippet="k=rsa; p=…")
    minor = f("dns.caa.iodef", Grade.B, Severity.LOW)
    others = [f(f"ok{i}", Grade.A) for i in range(5)]
    ranked = prioritise([minor, weak, relay, *others], weights(minor, weak, relay, *others))
    assert [p.finding.check_id for p in ranked] == [
        "email.mta.open_relay",
        "email.dkim.key_size",
        "dns.caa.iodef",
    ]
    assert ranked[0].gain > ranked[1].gain > 0
    # Beneath the open relay's cap the DKIM fix still shows what it is worth.
    assert ranked[1].gain > 0


def test_every_registered_check_has_a_weight() -> None:
    assert set(check_severities(ALL_CHECKS)) == set(ALL_CHECKS)


def test_the_worked_example_of_docs_scoring() -> None:
    dmarc = f("email.dmarc.policy", Grade.C, Severity.MEDIUM, snippet='"v=DMARC1; p=reject"')
    spf = f("email.spf.all", Grade.A, Severity.INFO)
    caa = f("dns.caa.present", Grade.NA, Severity.INFO)
    starttls = f("email.mta.starttls", Grade.A, Severity.INFO, MTA)
    own = {
        "email.dmarc.policy": Severity.MEDIUM,
        "email.spf.all": Severity.HIGH,
        "dns.caa.present": Severity.MEDIUM,
        "email.mta.starttls": Severity.HIGH,
    }
    result = score([dmarc, spf, caa, starttls], own)
    dns, mta = result.category(DNS), result.category(MTA)
    assert dns is not None and (dns.score, dns.grade) == (86.0, Grade.B)
    assert mta is not None and (mta.score, mta.grade) == (100.0, Grade.A)
    assert (result.score, result.grade) == (92.0, Grade.A)
    (first,) = prioritise([dmarc, spf, caa, starttls], own)
    assert (first.gain, first.value) == (8.0, 16.88)
