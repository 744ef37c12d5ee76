"""Alert rules on real reports: each rule kind's conditions, their keys, alerts and texts in en and ja.

The DNS-side rules read reports of the DMARC checks on recorded answers (``p=reject`` scores 100, ``p=none``
less, no record 0, a timeout leaves the score undetermined). The asset rules read lab scans of one
organisation a month apart; a timeout is made by patching a recorded session or lookup and evaluating the
snapshot again, so no test waits for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter

from mimawari.checks import ALL_CHECKS
from mimawari.lookup import Query
from mimawari.model import Category, Grade, Severity, Text
from mimawari.monitor.alert import Alert, AlertKind, Condition
from mimawari.monitor.assets import certificates_of
from mimawari.monitor.rules import (
    CertificateExpiring,
    DmarcWeakened,
    GradeDrop,
    NewFinding,
    NewService,
    Rule,
    ScanView,
    ScoreBelow,
    ScoreDrop,
    Selector,
    Situation,
    conditions,
)
from mimawari.report.terminal import CATEGORY_NAMES
from mimawari.scan import DomainReport, evaluate_snapshot
from mimawari.score import RULES_VERSION
from mimawari.store import Organisation, Relation, ScanRecord, ScanStatus, open_store
from tests.helpers import OUTCOMES, recorded
from tests.monitor_samples import scan_lab, timed_out

DOMAIN = "example.test"
OBSERVED_AT = 1_790_000_000
NOW = datetime(2026, 9, 22, 9, 0, tzinfo=UTC)
KURONEKO = Organisation("Kuroneko", Relation.SELF, domains=(DOMAIN,), tags=("own", "japan"))
DMARC_CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name == "dmarc"}
REJECT = "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
NONE = "v=DMARC1; p=none; rua=mailto:dmarc@example.test"
TYPO = "v=DMARC1; p=reject; rau=mailto:dmarc@example.test"
"""An unknown tag (a typo of rua): the tags check grades it C, severity medium."""
POLICY = f"{DOMAIN}/email.dmarc.policy"


@cache
def dmarc_report(answer: str, domain: str = DOMAIN) -> DomainReport:
    """The DMARC checks on one recorded answer at ``_dmarc.<domain>``: a record, or an outcome name
    (NXDOMAIN, timeout …)."""
    snapshot = recorded(domain, {f"_dmarc.{domain} TXT": answer if answer in OUTCOMES else [answer]})
    target = replace(snapshot.target, observed_at=OBSERVED_AT)
    return evaluate_snapshot(replace(snapshot, target=target), DMARC_CHECKS)


def view(scan_id: int, *reports: DomainReport) -> ScanView:
    """A complete scan, started ``scan_id`` days after the first (ids grow with time, as in the store)."""
    started = NOW - timedelta(days=30 - scan_id)
    record = ScanRecord(
        id=scan_id,
        organisation=KURONEKO.name,
        status=ScanStatus.COMPLETE,
        started_at=started,
        finished_at=started + timedelta(minutes=2),
        rules_version=RULES_VERSION,
        error="",
        targets=(),
    )
    return ScanView(record, {r.domain: r for r in reports})


def when(scan: ScanView) -> str:
    return f"{scan.record.started_at:%Y-%m-%d %H:%M} UTC"


def situation(current: ScanView, *earlier: ScanView) -> Situation:
    """``earlier`` newest first, as the monitor hands them over."""
    return Situation(KURONEKO, current, earlier, NOW)


def by_key(found: Sequence[Condition]) -> dict[str, Condition]:
    keys = [c.key for c in found]
    assert len(keys) == len(set(keys)), keys
    return {c.key: c for c in found}


def says(text: Text, *values: str) -> None:
    """Each value appears in both languages, and the Japanese text is not the English one."""
    assert text.ja != text.en
    for value in values:
        assert value in text.en and value in text.ja, (value, text)


def points(report: DomainReport) -> str:
    assert report.score is not None and report.score.score is not None
    return f"{report.score.score:.1f} ({report.score.grade.value})"


def announced(condition: Condition, kind: AlertKind, severity: Severity, scan: ScanView, rule: str) -> Alert:
    """The condition holds and carries an alert of ``kind`` about the current scan."""
    assert condition.active is True and condition.alert is not None, condition
    alert = condition.alert
    assert (alert.kind, alert.key, alert.severity) == (kind, condition.key, severity)
    assert (alert.organisation, alert.rule, alert.scan_id, alert.raised_at) == (
        KURONEKO.name,
        rule,
        scan.record.id,
        NOW,
    )
    return alert


# --- score_below ---------------------------------------------------------------------------------------


def test_score_below_announces_on_the_first_scan_with_the_fixes() -> None:
    rule = ScoreBelow(kind="score_below", name="low score", threshold=70)
    missing = dmarc_report("NXDOMAIN")
    current = view(5, missing)
    (condition,) = conditions(rule, situation(current))
    assert condition.key == DOMAIN
    alert = announced(condition, AlertKind.SCORE_BELOW, Severity.HIGH, current, "low score")
    assert alert.domain == DOMAIN
    says(alert.title, "Kuroneko", DOMAIN, points(missing), "70")
    assert alert.changed == Text("First scan of this domain.", "このドメインの初回スキャンです。")
    first = missing.priorities[0].finding
    assert first.check_id == "email.dmarc.policy" and first.fix is not None
    assert alert.action.en.startswith("Fix first:") and alert.action.ja.startswith("まず対応すること:")
    assert first.title.en in alert.action.en and first.title.ja in alert.action.ja
    assert first.fix.action.en in alert.action.en and first.fix.action.ja in alert.action.ja


def test_score_below_compares_with_the_last_scan_that_had_a_score() -> None:
    rule = ScoreBelow(kind="score_below", name="low score", threshold=70)
    good, unknown = dmarc_report(REJECT), dmarc_report("timeout")
    assert unknown.score is not None and unknown.score.score is None
    current, timed_out, last_scored = view(5, dmarc_report("NXDOMAIN")), view(4, unknown), view(3, good)
    (condition,) = conditions(rule, situation(current, timed_out, last_scored))
    alert = announced(condition, AlertKind.SCORE_BELOW, Severity.HIGH, current, "low score")
    assert good.score is not None and good.score.score is not None
    says(alert.changed, f"{good.score.score:.1f}", when(last_scored))
    assert alert.changed.en.startswith("Score before:") and alert.changed.ja.startswith("前回のスコア")


def test_score_below_is_false_above_and_undetermined_without_a_score() -> None:
    rule = ScoreBelow(kind="score_below", name="low score", threshold=70)
    assert conditions(rule, situation(view(2, dmarc_report(REJECT)))) == [Condition(DOMAIN, False)]
    # A timeout neither raises nor clears, whatever was scored before.
    timed_out = situation(view(2, dmarc_report("timeout")), view(1, dmarc_report("NXDOMAIN")))
    assert conditions(rule, timed_out) == [Condition(DOMAIN, None)]


# --- score_drop ----------------------------------------------------------------------------------------


def test_score_drop_names_the_scan_and_what_got_worse() -> None:
    before, after = dmarc_report(REJECT), dmarc_report("NXDOMAIN")
    rule = ScoreDrop(kind="score_drop", name="drop", points=10)
    current, earlier = view(5, after), view(3, before)
    (condition,) = conditions(rule, situation(current, view(4, dmarc_report("timeout")), earlier))
    assert condition.key == f"{DOMAIN}@5"  # a change: every drop is its own alert
    alert = announced(condition, AlertKind.SCORE_DROP, Severity.HIGH, current, "drop")
    says(alert.title, "Kuroneko", DOMAIN, "100.0", points(after))
    says(alert.changed, points(before), points(after), when(earlier))
    policy = next(f for f in after.findings if f.check_id == "email.dmarc.policy")
    assert f"Worse: {policy.title.en} (E)" in alert.changed.en
    assert f"悪化: {policy.title.ja}（E）" in alert.changed.ja
    assert policy.title.en in alert.action.en and policy.title.ja in alert.action.ja
    # The same drop seen on another scan is another key.
    (again,) = conditions(rule, situation(view(6, after), earlier))
    assert again.key == f"{DOMAIN}@6" and again.active is True


def test_score_drop_needs_the_points_and_a_determined_baseline() -> None:
    before, after = dmarc_report(REJECT), dmarc_report(NONE)
    assert before.score is not None and after.score is not None
    assert before.score.score is not None and after.score.score is not None
    drop = before.score.score - after.score.score
    assert 10 <= drop < 20, drop  # the weights changed: pick other records
    small = situation(view(2, after), view(1, before))
    big_enough = conditions(ScoreDrop(kind="score_drop", name="d", points=10), small)
    assert [(c.key, c.active, c.alert is not None) for c in big_enough] == [(f"{DOMAIN}@2", True, True)]
    too_small = ScoreDrop(kind="score_drop", name="d", points=20)
    assert conditions(too_small, small) == [Condition(f"{DOMAIN}@2", False)]
    assert conditions(too_small, situation(view(1, after))) == [Condition(f"{DOMAIN}@1", False)]
    only_unknown = situation(view(3, after), view(2, dmarc_report("timeout")))
    assert conditions(too_small, only_unknown) == [Condition(f"{DOMAIN}@3", False)]
    undetermined = situation(view(3, dmarc_report("timeout")), view(2, before))
    assert conditions(too_small, undetermined) == [Condition(f"{DOMAIN}@3", None)]


# --- grade_drop ----------------------------------------------------------------------------------------


def test_grade_drop_per_category_with_steps() -> None:
    before, after = dmarc_report(REJECT), dmarc_report("NXDOMAIN")
    current, earlier = view(4, after), view(2, before)
    rule = GradeDrop(kind="grade_drop", name="grades")
    found = by_key(conditions(rule, situation(current, view(3, dmarc_report("timeout")), earlier)))
    dns = f"{DOMAIN}/email-dns@4"
    # The DMARC checks grade only the DNS category: the others cannot be compared.
    assert set(found) == {f"{DOMAIN}/{c.value}@4" for c in Category}
    assert all(found[k].active is None for k in found if k != dns)
    alert = announced(found[dns], AlertKind.GRADE_DROP, Severity.MEDIUM, current, "grades")
    name = CATEGORY_NAMES[Category.EMAIL_DNS]
    assert name.en in alert.title.en and name.ja in alert.title.ja
    says(alert.title, "Kuroneko", DOMAIN)
    assert "fell from A to E" in alert.title.en and "A から E に下がりました" in alert.title.ja
    says(alert.changed, when(earlier))
    assert f"{name.en}: A on {when(earlier)} → E." in alert.changed.en
    four = GradeDrop(kind="grade_drop", name="g", categories=(Category.EMAIL_DNS,), steps=4)
    assert [c.active for c in conditions(four, situation(current, earlier))] == [True]


def test_grade_drop_below_the_steps_first_scan_and_unknown() -> None:
    one_step = situation(view(2, dmarc_report(NONE)), view(1, dmarc_report(REJECT)))
    rule = GradeDrop(kind="grade_drop", name="g", categories=(Category.EMAIL_DNS,), steps=2)
    assert conditions(rule, one_step) == [Condition(f"{DOMAIN}/email-dns@2", False)]
    assert [c.active for c in conditions(rule.model_copy(update={"steps": 1}), one_step)] == [True]
    assert conditions(rule, situation(view(1, dmarc_report(NONE)))) == [
        Condition(f"{DOMAIN}/email-dns@1", None)
    ]
    unknown = situation(view(2, dmarc_report("timeout")), view(1, dmarc_report(REJECT)))
    assert conditions(rule, unknown) == [Condition(f"{DOMAIN}/email-dns@2", None)]


# --- new_finding ---------------------------------------------------------------------------------------


def test_new_finding_is_announced_against_a_passing_baseline() -> None:
    before, after = dmarc_report(REJECT), dmarc_report(NONE)
    rule = NewFinding(kind="new_finding", name="findings", severity=Severity.MEDIUM)
    current, earlier = view(3, after), view(1, before)
    found = by_key(conditions(rule, situation(current, view(2, dmarc_report("timeout")), earlier)))
    policy = next(f for f in after.findings if f.check_id == "email.dmarc.policy")
    assert (policy.grade, policy.severity) == (Grade.C, Severity.MEDIUM)
    # Only failing or unknown findings reach the severity; passing ones are info.
    assert set(found) == {
        f"{DOMAIN}/{f.check_id}" for f in after.findings if f.severity.rank >= Severity.MEDIUM.rank
    }
    alert = announced(found[POLICY], AlertKind.NEW_FINDING, Severity.MEDIUM, current, "findings")
    assert alert.domain == DOMAIN
    says(alert.title, "Kuroneko", DOMAIN, "C", "medium")
    assert policy.title.en in alert.title.en and policy.title.ja in alert.title.ja
    says(alert.changed, when(earlier), "email.dmarc.policy")
    assert f"Grade A on {when(earlier)} → C" in alert.changed.en
    assert f"評価 A（{when(earlier)}）→ C" in alert.changed.ja
    assert policy.fix is not None
    assert policy.fix.action.en in alert.action.en and policy.fix.action.ja in alert.action.ja
    # The default rule (high) leaves this medium finding alone.
    high = NewFinding(kind="new_finding", name="high")
    assert POLICY not in by_key(conditions(high, situation(current, earlier)))


def test_new_finding_sets_the_baseline_silently() -> None:
    rule = NewFinding(kind="new_finding", name="findings")
    missing = dmarc_report("NXDOMAIN")
    first = by_key(conditions(rule, situation(view(1, missing))))
    assert first[POLICY] == Condition(POLICY, True)  # held, not announced: the first scan
    already_failing = situation(view(2, missing), view(1, dmarc_report(NONE)))
    assert by_key(conditions(rule, already_failing))[POLICY] == Condition(POLICY, True)
    only_unknown_before = situation(view(2, missing), view(1, dmarc_report("timeout")))
    assert by_key(conditions(rule, only_unknown_before))[POLICY] == Condition(POLICY, True)
    fixed = situation(view(3, dmarc_report(NONE)), view(2, missing))
    medium = NewFinding(kind="new_finding", name="findings", severity=Severity.MEDIUM)
    assert by_key(conditions(medium, fixed))[POLICY].active is True
    undetermined = situation(view(3, dmarc_report("timeout")), view(2, missing))
    assert by_key(conditions(rule, undetermined))[POLICY] == Condition(POLICY, None)


def test_an_unknown_finding_below_the_severity_is_undetermined_not_gone() -> None:
    rule = NewFinding(kind="new_finding", name="findings", severity=Severity.MEDIUM)
    tags = f"{DOMAIN}/email.dmarc.tags"
    typo = by_key(conditions(rule, situation(view(2, dmarc_report(TYPO)), view(1, dmarc_report(REJECT)))))
    assert typo[tags].active is True and typo[tags].alert is not None
    timed_out = situation(view(3, dmarc_report("timeout")), view(2, dmarc_report(TYPO)))
    assert by_key(conditions(rule, timed_out)).get(tags) == Condition(tags, None)


# --- dmarc_weakened ------------------------------------------------------------------------------------


def test_dmarc_weakened_lists_the_change_and_offers_the_old_record() -> None:
    rule = DmarcWeakened(kind="dmarc_weakened", name="dmarc")
    current, earlier = view(3, dmarc_report(NONE)), view(1, dmarc_report(REJECT))
    (condition,) = conditions(rule, situation(current, view(2, dmarc_report("timeout")), earlier))
    assert condition.key == f"{DOMAIN}@3"
    alert = announced(condition, AlertKind.DMARC_WEAKENED, Severity.HIGH, current, "dmarc")
    says(alert.title, "Kuroneko", DOMAIN, "DMARC")
    says(alert.changed, when(earlier), "p=reject → p=none")
    assert "DMARC policy weakened: p=reject → p=none" in alert.changed.en
    assert "DMARC ポリシーが弱まりました" in alert.changed.ja
    says(alert.action, f"_dmarc.{DOMAIN}", REJECT)


def test_dmarc_weakened_to_no_record_and_the_cases_that_are_not() -> None:
    rule = DmarcWeakened(kind="dmarc_weakened", name="dmarc")
    gone = situation(view(2, dmarc_report("NXDOMAIN")), view(1, dmarc_report(REJECT)))
    (condition,) = conditions(rule, gone)
    assert condition.alert is not None
    says(condition.alert.changed, "p=reject; sp=reject; np=reject; pct=100", "no DMARC record")
    says(condition.alert.action, REJECT)
    key = f"{DOMAIN}@2"
    stronger = situation(view(2, dmarc_report(REJECT)), view(1, dmarc_report(NONE)))
    assert conditions(rule, stronger) == [Condition(key, False)]
    assert conditions(rule, situation(view(2, dmarc_report(NONE)))) == [Condition(key, False)]
    never_had_one = situation(view(2, dmarc_report(NONE)), view(1, dmarc_report("NXDOMAIN")))
    assert conditions(rule, never_had_one) == [Condition(key, False)]
    unknown = situation(view(2, dmarc_report("timeout")), view(1, dmarc_report(REJECT)))
    assert conditions(rule, unknown) == [Condition(key, None)]


# --- selectors -----------------------------------------------------------------------------------------


def test_selectors_narrow_together_and_rules_parse_by_kind() -> None:
    supplier = Organisation("Hakobune", Relation.SUPPLIER, tags=("logistics",))
    assert Selector().matches(KURONEKO) and Selector().matches(supplier)
    assert Selector(organisations=("Kuroneko",)).matches(KURONEKO)
    assert not Selector(organisations=("Kuroneko",)).matches(supplier)
    assert Selector(relations=(Relation.SUPPLIER,)).matches(supplier)
    assert not Selector(relations=(Relation.SUPPLIER,)).matches(KURONEKO)
    assert Selector(tags=("Japan", "finance")).matches(KURONEKO)  # any tag, compared in lower case
    assert not Selector(tags=("finance",)).matches(KURONEKO)
    assert not Selector(organisations=("Kuroneko",), relations=(Relation.GROUP,)).matches(KURONEKO)
    parse = TypeAdapter[Rule](Rule).validate_python
    rule = parse({"kind": "grade_drop", "name": "g", "relations": ["self"], "tags": ["OWN"]})
    assert isinstance(rule, GradeDrop) and (rule.steps, rule.categories, rule.notify) == (1, (), ())
    assert rule.matches(KURONEKO) and not rule.matches(supplier)
    assert isinstance(parse({"kind": "new_finding", "name": "n"}), NewFinding)
    assert parse({"kind": "new_finding", "name": "n"}).severity is Severity.HIGH  # type: ignore[union-attr]
    expiring = parse({"kind": "certificate_expiring", "name": "c"})
    assert isinstance(expiring, CertificateExpiring) and expiring.days == 14


# --- assets: new_service and certificate_expiring, on lab scans -----------------------------------------

ASSET_CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name in ("mta", "mailbox")}
BEFORE = """
zones:
  watch.test:
    records:
      "@": {MX: 10 mx1.watch.test.}
      mx1: {A: 203.0.113.61}
      imap: {A: 203.0.113.62}
      _imaps._tcp: {SRV: 0 1 993 imap.watch.test.}
      _pop3s._tcp: {SRV: 0 1 995 imap.watch.test.}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imaps: {}}
"""
AFTER = """
zones:
  watch.test:
    records:
      "@": {MX: [10 mx1.watch.test., 20 mx2.watch.test.]}
      mx1: {A: 203.0.113.61}
      mx2: {A: 203.0.113.63}
      imap: {A: 203.0.113.62}
      _imaps._tcp: {SRV: 0 1 993 imap.watch.test.}
      _pop3s._tcp: {SRV: 0 1 995 imap.watch.test.}
  shop.test:
    records:
      "@": {MX: 10 mx1.watch.test.}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {cert: expired}}
    - {host: mx2.watch.test, addresses: [203.0.113.63], smtp: {}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imaps: {}, pop3s: {}}
"""
MX1 = "mx1.watch.test [203.0.113.61]:25 smtp"
MX2 = "mx2.watch.test [203.0.113.63]:25 smtp"
IMAPS = "imap.watch.test [203.0.113.62]:993 imaps"
POP3S = "imap.watch.test [203.0.113.62]:995 pop3s"


MX_LOOKUP = Query.of("watch.test", "MX")
SERVICE = NewService(kind="new_service", name="services")


async def test_new_service_is_announced_only_against_a_scan_that_found_it_closed() -> None:
    before = (await scan_lab(BEFORE, ("watch.test",), ASSET_CHECKS))["watch.test"]
    report = (await scan_lab(AFTER, ("watch.test",), ASSET_CHECKS))["watch.test"]
    first = by_key(conditions(SERVICE, situation(view(1, report))))
    assert set(first) == {MX1, MX2, IMAPS, POP3S}
    assert all(c.active is True and c.alert is None for c in first.values())  # the baseline
    current = view(3, report)
    # The scan in between could not reach mx2: skipped for mx2, back to the one that could tell.
    silent = timed_out(report, ASSET_CHECKS, ("mx2.watch.test", 25))
    found = by_key(conditions(SERVICE, situation(current, view(2, silent), view(1, before))))
    assert {k for k, c in found.items() if c.alert is not None} == {MX2}  # POP3S answered in scan 2
    assert all(c.active is True for c in found.values())
    announced(found[MX2], AlertKind.NEW_SERVICE, Severity.MEDIUM, current, "services")
    found = by_key(conditions(SERVICE, situation(current, view(1, before))))
    assert {k for k, c in found.items() if c.alert is not None} == {MX2, POP3S}  # POP3S refused in scan 1
    alert = announced(found[POP3S], AlertKind.NEW_SERVICE, Severity.MEDIUM, current, "services")
    assert alert.domain == "watch.test"
    says(alert.title, "Kuroneko", POP3S)
    says(alert.changed, POP3S, "watch.test")
    assert "found it closed" in alert.changed.en and "閉じていました" in alert.changed.ja
    assert "TLS" in alert.action.en and "TLS" in alert.action.ja
    # mx2 answered in the scan before: not new, even though the last scan could not tell.
    seen = by_key(conditions(SERVICE, situation(current, view(2, silent), view(1, report))))
    assert seen[MX2] == Condition(MX2, True)
    # Undetermined now: neither held nor cleared.
    assert by_key(conditions(SERVICE, situation(view(4, silent), current)))[MX2] == Condition(MX2, None)


async def test_new_service_is_not_announced_after_an_mx_lookup_timeout() -> None:
    report = (await scan_lab(AFTER, ("watch.test",), ASSET_CHECKS))["watch.test"]
    silent = timed_out(report, ASSET_CHECKS, dns=(MX_LOOKUP,))
    found = by_key(conditions(SERVICE, situation(view(2, report), view(1, silent))))
    assert found[MX1] == Condition(MX1, True) and found[MX2] == Condition(MX2, True)


async def test_certificate_expiring_by_days_and_the_undetermined() -> None:
    report = (await scan_lab(AFTER, ("watch.test",), ASSET_CHECKS))["watch.test"]
    moment = report.snapshot.target.moment()
    seen = {c.endpoint: c for c in certificates_of(report)}
    expired_days = seen[MX1].days_left(moment)
    fresh_days = seen[MX2].days_left(moment)
    assert expired_days is not None and expired_days < 0
    assert fresh_days is not None and 29 < fresh_days <= 30  # the lab CA issues for 30 days
    current = view(1, report)  # a first scan announces: the state itself is the news
    month = CertificateExpiring(kind="certificate_expiring", name="certs", days=45)
    soon = by_key(conditions(month, situation(current)))
    assert set(soon) == {MX1, MX2, IMAPS, POP3S}
    expired = announced(soon[MX1], AlertKind.CERTIFICATE_EXPIRING, Severity.HIGH, current, "certs")
    says(expired.title, "Kuroneko", MX1, f"{-expired_days:.0f}")
    assert "expired" in expired.title.en and "期限切れ" in expired.title.ja
    not_after = seen[MX1].not_after
    assert not_after is not None
    until = f"{datetime.fromtimestamp(not_after, UTC):%Y-%m-%d %H:%M} UTC"
    says(expired.changed, "mx1.watch.test", until)
    says(expired.action, "ACME")
    medium = announced(soon[MX2], AlertKind.CERTIFICATE_EXPIRING, Severity.MEDIUM, current, "certs")
    says(medium.title, MX2, f"{fresh_days:.0f}")
    assert "expires in" in medium.title.en and "あと" in medium.title.ja
    week = CertificateExpiring(kind="certificate_expiring", name="certs", days=7)
    within_week = by_key(conditions(week, situation(current)))
    assert within_week[MX1].active is True
    assert {k: (c.active, c.alert) for k, c in within_week.items() if k != MX1} == {
        MX2: (False, None),
        IMAPS: (False, None),
        POP3S: (False, None),
    }
    silent = timed_out(report, ASSET_CHECKS, ("mx1.watch.test", 25))
    assert by_key(conditions(week, situation(view(2, silent), current)))[MX1] == Condition(MX1, None)


async def test_an_endpoint_shared_by_two_domains_is_judged_once_preferring_what_was_determined() -> None:
    reports = await scan_lab(
        AFTER,
        (
            "watch.test",
            "shop.test",
        ),
        ASSET_CHECKS,
    )
    watch, shop = reports["watch.test"], reports["shop.test"]
    silent_shop = timed_out(shop, ASSET_CHECKS, ("mx1.watch.test", 25))
    rule = CertificateExpiring(kind="certificate_expiring", name="certs", days=7)
    for order in ((silent_shop, watch), (watch, silent_shop)):
        current = view(1, *order)
        found = conditions(rule, situation(current))
        assert [c.key for c in found].count(MX1) == 1
        mx1 = by_key(found)[MX1]
        assert mx1.active is True and mx1.alert is not None and mx1.alert.domain == "watch.test"
        services = by_key(conditions(SERVICE, situation(current)))
        assert services[MX1] == Condition(MX1, True)
    # Both domains see it: the first one's wins.
    both = by_key(conditions(rule, situation(view(1, shop, watch))))[MX1]
    assert both.alert is not None and both.alert.domain == "shop.test"


# --- through the store ---------------------------------------------------------------------------------


def test_the_store_raises_once_keeps_it_through_a_timeout_and_again_after_it_cleared(tmp_path: Path) -> None:
    rule = ScoreBelow(kind="score_below", name="low score", threshold=70)
    sequence = [REJECT, "NXDOMAIN", "NXDOMAIN", "timeout", "NXDOMAIN", REJECT, "NXDOMAIN"]
    raised: list[int] = []
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.add_organisation(KURONEKO)
        for step, answer in enumerate(sequence):
            scan_id = store.begin_scan(KURONEKO.name)
            store.add_report(scan_id, dmarc_report(answer))
            store.finish_scan(scan_id)
            history = store.scans(KURONEKO.name)[::-1]
            current, *earlier = [
                ScanView(r, {t.domain: store.load_report(r.id, t.domain) for t in r.targets}) for r in history
            ]
            now = NOW + timedelta(hours=step)
            found = conditions(rule, Situation(KURONEKO, current, earlier[:3], now))
            stored = store.alerts.apply(scan_id, {rule.name: found}, {rule.name: ("ops",)}, now)
            raised += [step] * len(stored)
            for one in stored:
                assert one.alert == found[0].alert
                assert [(d.notifier, d.status.value) for d in one.deliveries] == [("ops", "pending")]
            # The same scan evaluated again (another monitor) raises nothing.
            assert store.alerts.apply(scan_id, {rule.name: found}, {rule.name: ("ops",)}, now) == []
        assert raised == [1, 6]
        recent = store.alerts.recent(KURONEKO.name)
        assert [a.alert.scan_id for a in recent] == [history[0].id, history[-2].id]
        assert {a.alert.kind for a in recent} == {AlertKind.SCORE_BELOW}


async def test_an_mx_lookup_timeout_does_not_raise_the_certificate_alert_again(tmp_path: Path) -> None:
    report = (await scan_lab(AFTER, ("watch.test",), ASSET_CHECKS))["watch.test"]
    rule = CertificateExpiring(kind="certificate_expiring", name="certs", days=7)
    raised: list[list[str]] = []
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.add_organisation(replace(KURONEKO, domains=("watch.test",)))
        for scanned in (report, timed_out(report, ASSET_CHECKS, dns=(MX_LOOKUP,)), report):
            scan_id = store.begin_scan(KURONEKO.name)
            store.add_report(scan_id, scanned)
            store.finish_scan(scan_id)
            views = [
                ScanView(r, {"watch.test": store.load_report(r.id, "watch.test")})
                for r in store.scans(KURONEKO.name)
            ]
            found = conditions(rule, Situation(KURONEKO, views[-1], views[-2::-1], NOW))
            raised.append([a.alert.key for a in store.alerts.apply(scan_id, {rule.name: found}, {}, NOW)])
    assert raised == [[MX1], [], []]
