"""``mimawari monitor``, ``alerts``, ``diff`` and ``portfolio`` as a user runs them, in subprocesses.

One story (``story``, built once for the module) is told against labs this process runs: two
organisations are added and ``monitor --once`` scans both; a month later (a second lab: DMARC p=reject →
p=none, a second MX that relays for anyone) a manual ``scan --org`` is evaluated by the next ``monitor
--once``, whose alerts go to two webhook receivers, one of them down (HTTP 500). The tests then read that
history back through ``alerts``, ``diff`` and ``portfolio``. Scans run only the email DNS and MTA checks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mimawari.lab import Lab
from mimawari.serial import to_json
from mimawari.store import Criticality, Organisation, Relation, ScanStatus, open_store
from tests.cli_runner import assert_one_line_error, run
from tests.http_receiver import HttpReceiver, ReceivedRequest

Result = tuple[int, str, str]
KEPT = """
zones:
  acme.test:
    records:
      "@": {MX: 10 mx.acme.test., TXT: "v=spf1 mx -all"}
      mx: {A: 203.0.113.10}
      _dmarc: {TXT: "v=DMARC1; p=reject; rua=mailto:dmarc@acme.test"}
  supply.test:
    records:
      "@": {MX: 10 mx.supply.test., TXT: "v=spf1 mx ~all"}
      mx: {A: 203.0.113.20}
      _dmarc: {TXT: "v=DMARC1; p=none"}
mail:
  servers:
    - {host: mx.acme.test, addresses: [203.0.113.10], smtp: {}}
    - {host: mx.supply.test, addresses: [203.0.113.20], smtp: {}}
"""
DECAYED = (
    KEPT.replace('"@": {MX: 10 mx.acme.test.,', '"@": {MX: [10 mx.acme.test., 20 mx2.acme.test.],')
    .replace("mx: {A: 203.0.113.10}", "mx: {A: 203.0.113.10}\n      mx2: {A: 203.0.113.11}")
    .replace("p=reject; rua", "p=none; rua")
    .replace(
        "    - {host: mx.supply.test",
        "    - {host: mx2.acme.test, addresses: [203.0.113.11], smtp: {open_relay: true}}\n"
        "    - {host: mx.supply.test",
    )
)
CONFIG = """
monitor:
  timezone: Asia/Tokyo
  schedules:
    - {{relations: [supplier], cron: "0 3 * * 1"}}   # Mondays 03:00 in Tokyo: Sundays 18:00 UTC
alerts:
  notifiers:
    - {{kind: webhook, name: hook, url: "{hook}", timeout: 5}}
    - {{kind: webhook, name: broken, url: "{broken}", timeout: 5}}
  rules:
    - {{kind: dmarc_weakened, name: dmarc-weakened}}
    - {{kind: score_drop, name: score-drop, points: 1}}
    - {{kind: new_finding, name: new-finding, severity: medium}}
    - {{kind: new_service, name: new-service, notify: [hook]}}
"""
SCAN_OPTIONS = ("--category", "email-dns", "--category", "email-mta", "--timeout", "1", "--probe-timeout", "2")  # fmt: skip
NEW_SERVICE = "mx2.acme.test [203.0.113.11]:25 smtp"


def connection_file(lab: Lab, path: Path) -> str:
    """What ``mimawari lab up`` writes for ``--lab``, for a lab running in this process."""
    path.write_text(to_json(lab.connection(), indent=2), encoding="utf-8")
    return str(path)


def lines_with(output: str, fragment: str) -> list[str]:
    return [line for line in output.splitlines() if fragment in line]


def payload(request: ReceivedRequest) -> dict[str, Any]:
    """The alert a webhook received (``notify.webhook_payload``)."""
    body = request.json()
    assert isinstance(body, dict), body
    return body


def when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Story:
    database: str
    config: str
    added: tuple[Result, ...]
    first: Result
    """``monitor --once`` with two organisations never scanned."""
    idle: Result
    """``monitor --once`` right after: nothing due."""
    manual: Result
    """``scan --org Acme`` against the decayed lab."""
    evaluated: Result
    """``monitor --once`` after the manual scan: rules evaluated, alerts delivered."""
    quiet: Result
    """``monitor --once`` once more."""
    hook: tuple[ReceivedRequest, ...]
    """What the working webhook received, in all."""
    hook_after_evaluation: int
    broken: tuple[ReceivedRequest, ...]
    broken_after_evaluation: int
    broken_origin: str

    read: dict[tuple[str, ...], Result] = field(default_factory=dict)
    """Outputs of the read-only commands the tests ran, by arguments: the history no longer changes."""

    async def run(self, *args: str) -> Result:
        if args not in self.read:
            self.read[args] = await run("--config", self.config, *args, "--database", self.database)
        return self.read[args]

    def scan_ids(self, organisation: str) -> list[int]:
        with open_store(self.database) as store:
            return [s.id for s in store.scans(organisation)]

    def started(self, scan_id: int) -> datetime:
        with open_store(self.database) as store:
            return next(
                s.started_at for o in ("Acme", "Supply Co") for s in store.scans(o) if s.id == scan_id
            )


async def tell(directory: Path) -> Story:
    database = f"sqlite:///{directory / 'store.db'}"
    config = directory / "config.yaml"
    async with HttpReceiver() as hook, HttpReceiver() as broken:
        broken.status, broken.answer_body = 500, b"down for maintenance"
        config.write_text(
            CONFIG.format(hook=hook.url("/alerts"), broken=broken.url("/alerts")), encoding="utf-8"
        )

        async def mimawari(*args: str) -> Result:
            return await run("--config", str(config), *args, "--database", database)

        added = (
            await mimawari("org", "add", "Acme", "--domain", "acme.test", "--relation", "self"),
            await mimawari(
                "org",
                "add",
                "Supply Co",
                "--domain",
                "supply.test",
                "--relation",
                "supplier",
                "--tag",
                "logistics",
            ),
        )
        async with Lab.from_yaml(KEPT) as lab:
            kept = connection_file(lab, directory / "kept.json")
            first = await mimawari("monitor", "--once", "--lab", kept, *SCAN_OPTIONS)
            idle = await mimawari("monitor", "--once", "--lab", kept, *SCAN_OPTIONS)
        async with Lab.from_yaml(DECAYED) as lab:
            decayed = connection_file(lab, directory / "decayed.json")
            manual = await mimawari("scan", "--org", "Acme", "--lab", decayed, *SCAN_OPTIONS)
            evaluated = await mimawari("monitor", "--once", "--lab", decayed, *SCAN_OPTIONS)
            sent, tried = len(hook.requests), len(broken.requests)
            quiet = await mimawari("monitor", "--once", "--lab", decayed, *SCAN_OPTIONS)
        origin = broken.url("/").rstrip("/")
        return Story(
            database, str(config), added, first, idle, manual, evaluated, quiet,
            tuple(hook.requests), sent, tuple(broken.requests), tried, origin,
        )  # fmt: skip


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    # The function-scoped own_settings fixture is not in force yet: keep the user's files out here too.
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("story-home")
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        for variable in ("MIMAWARI_CONFIG", "MIMAWARI_DATABASE_URL"):
            patch.delenv(variable, raising=False)
        return asyncio.run(tell(tmp_path_factory.mktemp("story")))


def test_monitor_once_scans_the_organisations_never_scanned(story: Story) -> None:
    assert [code for code, _, _ in story.added] == [0, 0]
    assert "added Supply Co (supplier): supply.test" in story.added[1][1]
    code, out, err = story.first
    assert (code, err) == (0, "")
    assert lines_with(out, "Acme: every 1d, due now")  # never scanned: the first scan sets the baseline
    assert lines_with(out, "Supply Co: cron 0 3 * * 1 (Asia/Tokyo), due now")
    (acme,), (supplier,) = story.scan_ids("Acme")[:1], story.scan_ids("Supply Co")
    assert re.search(rf"UTC  scan {acme} of Acme: complete$", out, re.M), out
    assert re.search(rf"UTC  scan {supplier} of Supply Co: complete$", out, re.M), out
    assert "alert" not in out  # a first scan is the baseline: nothing to compare with


def test_a_second_pass_right_after_scans_nothing_and_says_when_next(story: Story) -> None:
    code, out, err = story.idle
    assert (code, err) == (0, "")
    assert not lines_with(out, " scan ") and "alert" not in out
    assert lines_with(out, "UTC  nothing due")
    acme_scanned = story.started(story.scan_ids("Acme")[0])
    assert f"Acme: every 1d, next {when(acme_scanned + timedelta(days=1))}" in out
    supplier_scanned = story.started(story.scan_ids("Supply Co")[0])
    monday_in_tokyo = supplier_scanned.astimezone(UTC).replace(hour=18, minute=0, second=0, microsecond=0)
    while monday_in_tokyo <= supplier_scanned or monday_in_tokyo.weekday() != 6:
        monday_in_tokyo += timedelta(days=1)
    assert f"Supply Co: cron 0 3 * * 1 (Asia/Tokyo), next {when(monday_in_tokyo)}" in out


def test_a_manual_scan_is_evaluated_and_each_alert_delivered_once(story: Story) -> None:
    assert story.manual[0] == 0 and "Open relay" in story.manual[1]
    code, out, err = story.evaluated
    assert (code, err) == (0, "")
    assert not lines_with(out, " scan ")  # the manual scan made Acme not due
    raised = lines_with(out, "  alert [")
    assert any("DMARC policy of acme.test was weakened → hook, broken" in line for line in raised), out
    assert any(re.search(r"\[high\] Acme: acme\.test dropped [\d.]+ points to", line) for line in raised)
    assert any(
        "[critical] Acme: acme.test: new finding: Open relay (E, critical) → hook, broken" in line
        for line in raised
    )
    assert any(line.endswith(f"new service reachable: {NEW_SERVICE} → hook") for line in raised)
    payloads = [payload(r) for r in story.hook]
    assert len(story.hook) == story.hook_after_evaluation == len(raised)
    assert {r.method for r in story.hook} == {"POST"} and {r.path for r in story.hook} == {"/alerts"}
    assert len({(p["rule"], p["key"]) for p in payloads}) == len(payloads)  # each alert once
    assert {p["kind"] for p in payloads} == {"dmarc_weakened", "score_drop", "new_finding", "new_service"}
    assert {p["key"] for p in payloads if p["kind"] == "new_finding"} == {
        "acme.test/email.dmarc.policy",
        "acme.test/email.mta.open_relay",
    }
    assert all(p["schema"] == "mimawari.alert/1" and p["organisation"] == "Acme" for p in payloads)
    delivered = [line.split("  delivered to hook: ")[1] for line in lines_with(out, "  delivered to hook: ")]
    assert sorted(delivered) == sorted(p["title"] for p in payloads)
    # The receiver that answers 500 got each alert it is named for once; each stays pending, to retry.
    failed = lines_with(out, "not delivered to broken (will retry): ")
    assert len(story.broken) == story.broken_after_evaluation == len(failed) == len(raised) - 1
    assert all(
        f"notifier 'broken' (webhook to {story.broken_origin}): answered HTTP 500 Internal Server Error: "
        "down for maintenance" in line
        for line in failed
    ), failed


def test_a_failed_delivery_names_its_alert(story: Story) -> None:
    out = story.evaluated[1]
    titles = [payload(r)["title"] for r in story.broken]
    failed = lines_with(out, "not delivered to broken")
    assert titles and len(failed) == len(titles)
    assert all(any(title in line for line in failed) for title in titles), failed


def test_another_pass_sends_nothing_more(story: Story) -> None:
    code, out, err = story.quiet
    assert (code, err) == (0, "")
    assert "alert" not in out and "delivered" not in out  # the failed ones wait for their back-off
    assert (len(story.hook), len(story.broken)) == (
        story.hook_after_evaluation,
        story.broken_after_evaluation,
    )


async def test_alerts_lists_what_was_raised_and_where_it_went(story: Story) -> None:
    (code, text, err), (_, listed, _), (_, supplier, _), (unknown, _, unknown_err) = await asyncio.gather(
        story.run("alerts"),
        story.run("alerts", "--format", "json"),
        story.run("alerts", "--org", "Supply Co"),
        story.run("alerts", "--org", "Nobody"),
    )
    assert (code, err) == (0, "")
    document = json.loads(listed)
    assert len(document) == story.hook_after_evaluation
    assert [a["raised_at"] for a in document] == sorted((a["raised_at"] for a in document), reverse=True)
    for alert in document:
        assert alert["organisation"] == "Acme" and alert["scan_id"] == story.scan_ids("Acme")[-1]
        deliveries = {d["notifier"]: d for d in alert["deliveries"]}
        assert deliveries["hook"] == {"notifier": "hook", "status": "sent", "attempts": 1, "error": ""}
        if alert["kind"] == "new_service":
            assert set(deliveries) == {"hook"}
            assert re.search(rf"{re.escape(alert['title'])}\s+hook sent\s*$", text, re.M), text
            continue
        assert deliveries["broken"]["status"] == "pending" and deliveries["broken"]["attempts"] == 1
        assert "answered HTTP 500" in deliveries["broken"]["error"]
        assert re.search(rf"{re.escape(alert['title'])}\s+hook sent, broken pending\s*$", text, re.M), text
    assert supplier.strip() == "no alert has been raised"
    assert unknown == 2
    assert_one_line_error(unknown_err, "Nobody")


async def test_diff_shows_the_weakened_dmarc_the_new_mx_and_the_new_findings(story: Story) -> None:
    before, after = story.scan_ids("Acme")
    (code, text, err), (_, listed, _), (_, explicit, _), (_, japanese, _) = await asyncio.gather(
        story.run("diff", "Acme"),
        story.run("diff", "Acme", "--format", "json"),
        story.run("diff", "Acme", "--from", str(before), "--to", str(after)),
        story.run("diff", "Acme", "--lang", "ja"),
    )
    assert (code, err) == (0, "")
    document = json.loads(listed)
    assert (document["organisation"], document["from"], document["to"]) == ("Acme", before, after)
    (domain,) = document["diff"]["domains"]
    score = domain["score"]
    assert score["score_after"] < score["score_before"]
    assert text.startswith(f"Acme: scan {before} (")
    assert f"→ scan {after} (" in text.splitlines()[0]
    assert f"{score['score_before']:.1f} →" in text
    assert f"{score['score_after']:.1f} ({score['score_after'] - score['score_before']:+.1f})" in text
    assert "  grades: MTA servers A → E" in text
    assert "  new: [critical] Open relay (email.mta.open_relay, A → E)" in text
    assert re.search(r"  new: \[\w+\] DMARC policy \(email\.dmarc\.policy, A → [B-E]\)", text), text
    assert f"  added: service {NEW_SERVICE}" in text and "  added: mail host mx2.acme.test" in text
    assert re.search(r"  DMARC weakened: p=reject;.* → p=none;", text), text
    assert "    DMARC policy weakened: p=reject → p=none" in text
    assert {"email.mta.open_relay", "email.dmarc.policy"} <= {c["check_id"] for c in domain["new"]}
    assert {"kind": "service", "name": NEW_SERVICE} in domain["added"]
    assert domain["dmarc_before"]["p"] == "reject" and domain["dmarc_after"]["p"] == "none"
    assert explicit == text
    assert "オープンリレー" in japanese and "DMARC ポリシーが弱まりました: p=reject → p=none" in japanese
    assert f"サービス {NEW_SERVICE}" in japanese and "Open relay" not in japanese


async def test_diff_errors_are_one_line(story: Story) -> None:
    before, after = story.scan_ids("Acme")
    (supplier,) = story.scan_ids("Supply Co")
    cases = {
        ("Nobody",): "no organisation named 'Nobody'",
        ("Supply Co",): "Supply Co needs two complete scans to compare; it has 1",
        ("Acme", "--from", "999"): "scan 999 is not a complete scan of Acme",
        ("Acme", "--from", str(supplier)): f"scan {supplier} is not a complete scan of Acme",
        ("Acme", "--from", str(after), "--to", str(after)): "--from and --to name the same scan",
        ("Acme", "--to", str(before)): f"scan {before} is the first complete scan of Acme: name --from",
    }
    results = await asyncio.gather(*(story.run("diff", *args) for args in cases))
    for (code, out, err), fragment in zip(results, cases.values(), strict=True):
        assert (code, out) == (2, "")
        assert_one_line_error(err, fragment)


async def test_portfolio_ranks_the_lowest_score_first_and_filters(story: Story) -> None:
    (
        (code, text, err),
        (_, listed, _),
        (_, suppliers, _),
        (_, tagged, _),
        (_, group, _),
    ) = await asyncio.gather(
        story.run("portfolio"),
        story.run("portfolio", "--format", "json"),
        story.run("portfolio", "--relation", "supplier"),
        story.run("portfolio", "--tag", "logistics", "--format", "json"),
        story.run("portfolio", "--relation", "group"),
    )
    assert (code, err) == (0, "")
    acme, supplier = json.loads(listed)
    assert (acme["organisation"], supplier["organisation"]) == ("Acme", "Supply Co")
    assert acme["score"] < supplier["score"]
    before, after = story.scan_ids("Acme")
    assert (acme["scan_id"], acme["previous_scan_id"]) == (after, before)
    assert acme["relation"] == "self" and acme["worst_domain"]["domain"] == "acme.test"
    assert {"category": "email-mta", "grade": "E"} in acme["worst_categories"]
    with open_store(story.database) as store:
        old, new = (s.targets[0].score for s in store.scans("Acme"))
    assert old is not None and new is not None and acme["change"] == round(new - old, 1) < 0
    assert supplier["tags"] == ["logistics"] and supplier["relation"] == "supplier"
    assert supplier["change"] is None and supplier["previous_scan_id"] is None
    rows = [line.split() for line in text.splitlines()[1:]]
    assert [row[:2] for row in rows] == [["1", "Acme"], ["2", "Supply"]]
    assert f"{acme['change']:+.1f}" in rows[0] and "—" in rows[1]
    assert "Acme" not in suppliers and "Supply Co" in suppliers
    assert [e["organisation"] for e in json.loads(tagged)] == ["Supply Co"]
    assert group.strip() == "no organisation: none matches the filter"


async def test_with_no_organisation_each_command_says_how_to_add_one(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path / 'store.db'}")
    (code, out, err), (_, monitored, _), (_, raised, _) = await asyncio.gather(
        run("portfolio", *database), run("monitor", "--once", *database), run("alerts", *database)
    )
    assert (code, err) == (0, "")
    assert out.strip() == "no organisation: add one with mimawari org add"
    hint, idle = monitored.strip().splitlines()
    assert hint == "no organisation to monitor: add one with mimawari org add"
    assert idle.endswith(" UTC  nothing due")
    assert raised.strip() == "no alert has been raised"


async def test_a_configuration_that_cannot_be_used_stops_monitor_in_one_line(tmp_path: Path) -> None:
    configurations = {
        "syntax.yaml": ("alerts: [\n", "is not YAML"),
        "interval.yaml": ("monitor: {every: 5x}\n", 'interval "5x" is not understood'),
        "notifier.yaml": (
            "alerts:\n  rules:\n    - {kind: score_drop, name: drop, points: 5, notify: [pager]}\n",
            "rule 'drop' notifies pager, which no notifier is named",
        ),
    }
    for name, (text, _) in configurations.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    database = ("--database", f"sqlite:///{tmp_path / 'store.db'}")
    results = await asyncio.gather(
        *(run("--config", str(tmp_path / name), "monitor", "--once", *database) for name in configurations)
    )
    for (code, out, err), (name, (_, fragment)) in zip(results, configurations.items(), strict=True):
        assert (code, out) == (2, "")
        assert_one_line_error(err, f"the configuration {tmp_path / name}")
        assert fragment in err


async def test_a_yaml_error_in_the_configuration_says_where(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("monitor:\n  every: 6h\nalerts: [\n", encoding="utf-8")
    code, _, err = await run("--config", str(config), "monitor", "--once")
    assert code == 2
    assert_one_line_error(err, "line 4")


async def test_diff_shows_a_replaced_certificate_once(story: Story) -> None:
    code, text, _ = await story.run("diff", "Acme")
    assert code == 0
    # Each lab has its own CA: mx.acme.test presented another certificate in the second scan.
    assert "new certificate on mx.acme.test [203.0.113.10]:25 smtp: " in text
    assert len([line for line in text.splitlines() if "mx.acme.test" in line and "certificate" in line]) == 1


async def test_history_shows_the_scan_ids_diff_takes(story: Story) -> None:
    code, text, _ = await story.run("history", "Acme")
    assert code == 0
    table = "\n".join(text.splitlines()[1:])
    for scan_id in story.scan_ids("Acme"):
        assert re.search(rf"(?<![\w:.-])#?{scan_id}(?![\w:.-])", table), text


async def test_diff_in_japanese_has_no_english_labels(story: Story) -> None:
    code, text, _ = await story.run("diff", "Acme", "--lang", "ja")
    assert code == 0 and "オープンリレー" in text
    assert not re.search(r"^\s+(grades|new|added|removed|DMARC weakened):", text, re.M), text


async def test_a_resolved_finding_shows_how_severe_it_was(story: Story) -> None:
    # The scans in the other order: the open relay of the later one is gone (as after a fix).
    before, after = story.scan_ids("Acme")
    code, text, _ = await story.run("diff", "Acme", "--from", str(after), "--to", str(before))
    assert code == 0
    assert "  resolved: [critical] Open relay (email.mta.open_relay, E → A)" in text, text


class SilentNameserver(asyncio.DatagramProtocol):
    """Takes DNS queries and never answers: a scan stays in progress until it is stopped."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.asked.set()


@pytest.mark.parametrize(
    ("stop", "exit_code"),
    [
        pytest.param(
            signal.SIGINT,
            130,
            id="ctrl-c",
        ),
        pytest.param(signal.SIGTERM, 0, id="sigterm"),
    ],
)
async def test_monitor_stopped_mid_scan_stores_the_scan_as_failed(
    tmp_path: Path, stop: signal.Signals, exit_code: int
) -> None:
    database = ("--database", f"sqlite:///{tmp_path / 'store.db'}")
    with open_store(database[1]) as store:  # never scanned: due at once
        store.add_organisation(Organisation("Quiet", Relation.SELF, Criticality.LOW, ("quiet.test",)))
    nameserver = SilentNameserver()
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: nameserver, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mimawari", "monitor", "-n", f"127.0.0.1:{port}", "--timeout", "30", *database,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            await nameserver.asked.wait()  # the monitor is scanning
            process.send_signal(stop)
            out, err = await process.communicate()
    finally:
        transport.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in err.decode()
    assert process.returncode == exit_code, (out, err)
    with open_store(database[1]) as store:
        (scan,) = store.scans("Quiet", complete_only=False)
    assert (scan.status, scan.error) == (ScanStatus.FAILED, "interrupted")  # never left "running"
