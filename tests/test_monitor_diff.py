"""The diff between two scans, end to end: two lab configurations of one organisation, scanned for real.

``BEFORE`` and ``AFTER`` are the same organisation a month apart: the second MX ``mx2`` was added, the
DMARC policy dropped from reject to none, ``mx1`` now shows an expired certificate, POP3S was switched off
on the mailbox host, one domain left the organisation and one joined. Each lab run has its own CA, so every
certificate that answered in both scans was reissued. Only the DMARC, MTA and mailbox checks run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from mimawari.checks import ALL_CHECKS
from mimawari.lab import demo_lab, demo_targets
from mimawari.lookup import Query, Snapshot
from mimawari.model import Finding, Grade, Target
from mimawari.monitor.assets import Asset, AssetKind, certificates_of, exposure_of, undetermined_of
from mimawari.monitor.diff import NEEDS_ACTION, FindingChange, ScanDiff, classify, diff_domain, diff_reports
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.serial import from_jsonable, to_jsonable
from mimawari.store import open_store
from tests.monitor_samples import scan_lab, timed_out

CHECKS = {k: c for k, c in ALL_CHECKS.items() if c.observer.name in ("dmarc", "mta", "mailbox")}
BEFORE = """
zones:
  watch.test:
    records:
      "@": {MX: 10 mx1.watch.test.}
      mx1: {A: 203.0.113.61}
      imap: {A: 203.0.113.62}
      _imaps._tcp: {SRV: 0 1 993 imap.watch.test.}
      _pop3s._tcp: {SRV: 0 1 995 imap.watch.test.}
      _dmarc: {TXT: "v=DMARC1; p=reject; rua=mailto:dmarc@watch.test"}
  steady.test: {records: {_dmarc: {TXT: "v=DMARC1; p=quarantine"}}}
  gone.test: {records: {_dmarc: {TXT: "v=DMARC1; p=none"}}}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imaps: {}, pop3s: {}}
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
      _dmarc: {TXT: "v=DMARC1; p=none; rua=mailto:dmarc@watch.test"}
  steady.test: {records: {_dmarc: {TXT: "v=DMARC1; p=quarantine"}}}
  fresh.test: {records: {_dmarc: {TXT: "v=DMARC1; p=reject"}}}
mail:
  servers:
    - {host: mx1.watch.test, addresses: [203.0.113.61], smtp: {cert: expired}}
    - {host: mx2.watch.test, addresses: [203.0.113.63], smtp: {}}
    - {host: imap.watch.test, addresses: [203.0.113.62], imaps: {}}
"""
MX1 = "mx1.watch.test [203.0.113.61]:25 smtp"
MX2 = "mx2.watch.test [203.0.113.63]:25 smtp"
IMAPS = "imap.watch.test [203.0.113.62]:993 imaps"
POP3S = "imap.watch.test [203.0.113.62]:995 pop3s"


async def both_scans() -> tuple[dict[str, DomainReport], dict[str, DomainReport]]:
    before = await scan_lab(BEFORE, ("watch.test", "steady.test", "gone.test"), CHECKS)
    after = await scan_lab(AFTER, ("watch.test", "steady.test", "fresh.test"), CHECKS)
    return before, after


def service(name: str) -> Asset:
    return Asset(AssetKind.SERVICE, name)


def certificate(report: DomainReport, endpoint: str) -> Asset:
    (seen,) = (c for c in certificates_of(report) if c.endpoint == endpoint)
    return seen.asset


def grades(changes: tuple[FindingChange, ...]) -> dict[str, tuple[Grade | None, Grade | None]]:
    return {c.check_id: (c.grade_before, c.grade_after) for c in changes}


def report_grade(report: DomainReport, check_id: str) -> Grade:
    return next(f.grade for f in report.findings if f.check_id == check_id)


async def test_second_scan_shows_the_new_mx_the_weaker_dmarc_and_the_reissued_certificates() -> None:
    before, after = await both_scans()
    diff = diff_reports(before, after)
    assert (diff.added_domains, diff.removed_domains) == (("fresh.test",), ("gone.test",))
    assert [d.domain for d in diff.domains] == ["steady.test", "watch.test"]
    steady, watch = diff.domains
    assert steady.empty and diff.changed == (watch,) and not diff.empty
    old, new = before["watch.test"], after["watch.test"]

    # Certificates replaced on an endpoint that answered both times are in ``certificates``, not here.
    assert watch.added == tuple(
        sorted({certificate(new, MX2), Asset(AssetKind.MAIL_HOST, "mx2.watch.test"), service(MX2)})
    )
    # POP3S refused the connection: decided gone. Its certificate was the one IMAPS showed too.
    assert certificate(old, POP3S) == certificate(old, IMAPS)
    assert watch.removed == (service(POP3S),)
    assert watch.unconfirmed == ()

    changed = {c.endpoint: c for c in watch.certificates}
    assert set(changed) == {MX1, IMAPS}
    moment = new.snapshot.target.moment()
    mx1 = changed[MX1]
    mx1_days_before, mx1_days_after = mx1.before.days_left(moment), mx1.after.days_left(moment)
    assert mx1_days_before is not None and mx1_days_before > 25
    assert mx1_days_after is not None and mx1_days_after < 0  # the new one expired a month ago
    assert mx1.before.names == mx1.after.names == ("mx1.watch.test",)
    assert mx1.before.fingerprint != mx1.after.fingerprint

    new_findings = grades(watch.new)
    assert set(new_findings) == {
        "email.dmarc.policy",
        "email.dmarc.subdomain_policy",
        "email.mta.certificate",
    }
    for check_id, (was, now) in new_findings.items():
        assert was is Grade.A and now in NEEDS_ACTION
        assert now is report_grade(new, check_id)
    assert watch.resolved == watch.worse == watch.better == watch.undetermined == ()

    assert (
        watch.dmarc_before is not None
        and watch.dmarc_before.describe() == "p=reject; sp=reject; np=reject; pct=100"
    )
    assert [t.en for t in watch.dmarc_weakened] == ["DMARC policy weakened: p=reject → p=none"]
    assert old.score is not None and new.score is not None
    assert (watch.score.score_before, watch.score.score_after) == (old.score.score, new.score.score)
    assert watch.score.changed and {c.category.value for c in watch.categories} == {"email-dns", "email-mta"}


async def test_diff_is_json_and_the_same_from_the_store(tmp_path: Path) -> None:
    before, after = await both_scans()
    diff = diff_reports(before, after)
    data = to_jsonable(diff)
    assert from_jsonable(ScanDiff, data) == diff
    (watch,) = (d for d in data["domains"] if d["domain"] == "watch.test")
    assert {"kind": "service", "name": MX2} in watch["added"]
    assert watch["dmarc_after"]["p"] == "none"
    assert watch["new"][0]["after"]["grade"] in ("B", "C", "D", "E")
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        loaded: list[dict[str, DomainReport]] = []
        for reports in (before, after):
            scan_id = store.begin_scan()
            for report in reports.values():
                store.add_report(scan_id, report)
            store.finish_scan(scan_id)
            loaded.append({d: store.load_report(scan_id, d) for d in reports})
    assert diff_reports(*loaded) == diff


async def test_a_timeout_is_neither_a_removal_nor_a_fix() -> None:
    _, after = await both_scans()
    report = after["watch.test"]
    dmarc = Query.of("_dmarc.watch.test", "TXT")
    silent = timed_out(report, CHECKS, ("mx2.watch.test", 25), ("imap.watch.test", 993), dns=(dmarc,))
    # The host's other ports refused the connection: decided. With 993 silent, the host is undecided.
    imap_host = Asset(AssetKind.MAIL_HOST, "imap.watch.test")
    assert undetermined_of(silent) == {service(MX2), service(IMAPS), imap_host}
    diff = diff_domain(report, silent)
    assert diff.removed == ()
    assert diff.unconfirmed == tuple(
        sorted(
            {
                certificate(report, IMAPS),
                certificate(report, MX2),
                imap_host,
                service(IMAPS),
                service(MX2),
            }
        )
    )
    assert diff.dmarc_after is None and diff.dmarc_weakened == ()
    undetermined = grades(diff.undetermined)
    assert undetermined["email.dmarc.policy"] == (report_grade(report, "email.dmarc.policy"), Grade.UNKNOWN)
    assert diff.resolved == () and "email.dmarc.policy" not in grades(diff.new)
    # The other way round, what was undecided is not called new.
    back = diff_domain(silent, report)
    assert back.added == back.removed == () and back.new == back.resolved == ()
    assert "email.dmarc.policy" in grades(back.undetermined)


async def test_an_mx_lookup_timeout_leaves_every_mta_asset_unconfirmed() -> None:
    _, after = await both_scans()
    report = after["watch.test"]
    silent = timed_out(report, CHECKS, dns=(Query.of("watch.test", "MX"),))
    diff = diff_domain(report, silent)
    assert diff.removed == () and diff.added == ()
    mta_assets = {
        Asset(AssetKind.MAIL_HOST, "mx1.watch.test"),
        Asset(AssetKind.MAIL_HOST, "mx2.watch.test"),
        service(MX1),
        service(MX2),
        certificate(report, MX1),
        certificate(report, MX2),
    }
    assert set(diff.unconfirmed) == mta_assets
    assert service(IMAPS) in exposure_of(silent).assets  # the mailbox side still answered


async def test_the_same_organisation_scanned_twice_has_an_empty_diff() -> None:
    async with demo_lab() as lab:
        anchors = lab.connection().trust_anchors
        targets = [Target(d, trust_anchors=anchors) for d in demo_targets()]
        scans: list[Mapping[str, DomainReport]] = []
        for _ in range(2):
            reports = await scan_domains(targets, lab.network(probe_timeout=0.5))
            scans.append({r.domain: r for r in reports})
    diff = diff_reports(*scans)
    assert diff.empty, diff.changed
    assert [d.domain for d in diff.domains] == sorted(demo_targets())
    # The tarpit MX of kuroneko-logistics timed out both times: undecided, never added or removed.
    tarpit = service("backup.kuroneko-logistics.example [203.0.113.12]:25 smtp")
    assert tarpit in undetermined_of(scans[1]["kuroneko-logistics.example"])
    assert tarpit not in exposure_of(scans[1]["kuroneko-logistics.example"]).assets


def finding(grade: Grade) -> Finding:
    """The DMARC policy finding of an empty snapshot (unknown: nothing recorded), at ``grade``."""
    policy = {"email.dmarc.policy": ALL_CHECKS["email.dmarc.policy"]}
    (found,) = evaluate_snapshot(Snapshot(Target("example.test")), policy).findings
    return replace(found, grade=grade)


def test_each_pair_of_grades_is_classified_once() -> None:
    a, b, c, e, na, unknown = (
        finding(g) for g in (Grade.A, Grade.B, Grade.C, Grade.E, Grade.NA, Grade.UNKNOWN)
    )
    expected = {
        (a, c): "new",
        (None, c): "new",  # a check that did not run before is not a finding then
        (na, b): "new",
        (c, a): "resolved",
        (c, na): "resolved",
        (c, e): "worse",
        (e, b): "better",
        (c, unknown): "undetermined",
        (unknown, c): "undetermined",
        (a, unknown): "undetermined",
        (c, None): "undetermined",  # no longer checked: not fixed
        (a, a): None,
        (c, c): None,
        (na, a): None,
        (unknown, unknown): None,
    }
    assert {pair: classify(*pair) for pair in expected} == expected
