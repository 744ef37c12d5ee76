"""The CLI as a user meets it: real processes, exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from mimawari.lab import DnsLab
from mimawari.score import RULES_VERSION
from tests.cli_runner import assert_one_line_error, run

pytestmark = pytest.mark.timeout(60)


async def test_version_and_help() -> None:
    code, out, _ = await run("--version")
    assert (code, out.strip()) == (0, "mimawari 0.1.0")
    code, out, _ = await run("--help")
    assert code == 0 and "scan" in out and "demo" in out and "lab" in out


async def test_scan_text_output(lab: DnsLab) -> None:
    code, out, err = await run("scan", "example.test", "--nameserver", str(lab.nameserver))
    assert (code, err) == (0, "")
    assert "DMARC policy" in out and "reject" in out
    assert "score " in out and "/100" in out and "email DNS" in out  # the rating comes first


async def test_scan_japanese_output(lab: DnsLab) -> None:
    code, out, _ = await run("scan", "example.test", "-n", str(lab.nameserver), "--lang", "ja")
    assert code == 0 and "DMARC ポリシー" in out and "スコア" in out


async def test_scan_json_output(lab: DnsLab) -> None:
    code, out, _ = await run(
        "scan", "example.test", "nodmarc.test", "-n", str(lab.nameserver), "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == 2
    (domain,) = [d for d in data["domains"] if d["domain"] == "example.test"]
    assert domain["score"]["rules_version"] == RULES_VERSION
    assert 0 <= domain["score"]["score"] <= 100
    assert domain["priorities"] and all(p["gain"] >= 0 for p in domain["priorities"])
    (finding,) = [f for f in domain["findings"] if f["check_id"] == "email.dmarc.policy"]
    assert finding["grade"] == "A"
    assert domain["observations"]["dmarc"]["records"] == ["v=DMARC1; p=reject"]
    queries = [answer["query"] for answer in domain["snapshot"]["dns"]]
    assert {"name": "_dmarc.example.test", "rdtype": "TXT", "dnssec": False} in queries
    # A domain the lab refuses to answer for is unknown, not missing.
    (other,) = [d for d in data["domains"] if d["domain"] == "nodmarc.test"]
    assert {f["grade"] for f in other["findings"] if f["check_id"] == "email.dmarc.policy"} == {"unknown"}


async def test_bad_domain_is_one_line(lab: DnsLab) -> None:
    code, out, err = await run("scan", "bad..domain", "-n", str(lab.nameserver))
    assert (code, out) == (2, "")
    assert_one_line_error(err, "bad..domain")


async def test_bad_nameserver_is_one_line() -> None:
    code, _, err = await run("scan", "example.test", "-n", "dns.example")
    assert code == 2
    assert_one_line_error(err, "HOST must be an IP address")


async def test_unreachable_nameserver_is_one_line() -> None:
    code, _, err = await run(
        "scan", "example.test", "-n", "127.0.0.1:9", "--timeout", "0.2", "--attempts", "1"
    )
    assert code == 3
    assert_one_line_error(err, "nameserver unreachable: 127.0.0.1:9")


async def test_bad_flag_has_no_traceback() -> None:
    code, _, err = await run("scan", "example.test", "--bogus")
    assert code == 2
    assert "Traceback" not in err and "No such option: --bogus" in err


async def test_demo_runs_and_exits_zero() -> None:
    code, out, _ = await run("demo")
    assert code == 0
    assert "kuroneko-shop.example" in out and "insufficient data" in out


async def test_lab_up_serves_until_interrupted(tmp_path: Path) -> None:
    zone = tmp_path / "lab.yaml"
    zone.write_text("zones:\n  up.test:\n    records:\n      _dmarc: {TXT: 'v=DMARC1; p=quarantine'}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimawari",
        "lab",
        "up",
        "--zone",
        str(zone),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert first.startswith("nameserver 127.0.0.1:")
    nameserver = first.split()[1]
    code, out, _ = await run("scan", "up.test", "-n", nameserver, "--format", "json")
    assert code == 0
    findings = json.loads(out)["domains"][0]["findings"]
    assert [f["grade"] for f in findings if f["check_id"] == "email.dmarc.policy"] == ["B"]
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert "Traceback" not in (await process.stderr.read()).decode()


async def test_lab_up_with_bad_zone_file_is_one_line(tmp_path: Path) -> None:
    zone = tmp_path / "bad.yaml"
    zone.write_text("zones: [nope]")
    code, _, err = await run("lab", "up", "--zone", str(zone))
    assert code == 2
    assert_one_line_error(err, "lab YAML")


async def test_scan_a_running_demo_lab_from_another_process(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimawari",
        "lab",
        "up",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "400", "TMPDIR": str(tmp_path)},
    )
    assert process.stdout is not None
    lines = [(await asyncio.wait_for(process.stdout.readline(), 30)).decode() for _ in range(4)]
    connection = lines[3].split("--lab ")[1].strip()
    assert connection.startswith(str(tmp_path))
    # The group company is configured right: DNSSEC with the lab's anchor, MTA-STS over HTTPS, DKIM,
    # its MX (DANE, TLS); without --intrusive its SMTP smuggling exposure is unknown, never assumed.
    code, out, err = await run("scan", "kuroneko-group.example", "--lab", connection, "--format", "json")
    assert (code, err) == (0, "")
    grades = {f["check_id"]: f["grade"] for f in json.loads(out)["domains"][0]["findings"]}
    assert {k for k, grade in grades.items() if grade not in ("A", "N/A")} == {"email.mta.smtp_smuggling"}
    assert grades["email.mta.smtp_smuggling"] == "unknown"
    assert grades["dns.dnssec.status"] == "A"
    assert grades["email.mta_sts.policy_fetch"] == "A"
    assert grades["email.mta.dane"] == "A"
    # With --intrusive and a recipient the user names, the active probe decides it.
    probe = ("--intrusive", "--probe-recipient", "info@kuroneko-group.example")
    code, out, err = await run(
        "scan", "kuroneko-group.example", "--lab", connection, "--format", "json", *probe
    )
    assert (code, err) == (0, "")
    grades = {f["check_id"]: f["grade"] for f in json.loads(out)["domains"][0]["findings"]}
    assert set(grades.values()) <= {"A", "N/A"}, grades
    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert not Path(connection).exists()  # the connection file goes with the lab


async def test_lab_option_conflicts_and_bad_files_are_one_line(tmp_path: Path) -> None:
    code, _, err = await run("scan", "example.test", "--lab", "x.json", "--nameserver", "127.0.0.1")
    assert code == 2
    assert_one_line_error(err, "--lab already says")
    bogus = tmp_path / "lab.json"
    bogus.write_text("{}")
    code, _, err = await run("scan", "example.test", "--lab", str(bogus))
    assert code == 2
    assert_one_line_error(err, "not a lab connection file")


async def test_demo_condenses_passing_checks_unless_all() -> None:
    code, out, _ = await run("demo", "--lang", "ja", columns=80)
    assert code == 0
    assert "件の検査に合格" in out
    assert "…" not in out  # Japanese sentences fold instead of being cut off in table cells
    assert "DMARC ポリシー" in out
    code, full, _ = await run("demo", "--all")
    assert code == 0
    assert "checks pass" not in full
    assert full.count("\n") > out.count("\n")


async def test_lab_up_refuses_a_non_loopback_address() -> None:
    code, _, err = await run("lab", "up", "--host", "10.0.0.1")
    assert code == 3
    assert_one_line_error(err, "only listens on loopback")


async def test_category_selects_the_checks(lab: DnsLab) -> None:
    code, out, _ = await run(
        "scan", "example.test", "-n", str(lab.nameserver), "--format", "json", "--category", "email-dns"
    )
    assert code == 0
    (domain,) = json.loads(out)["domains"]
    assert {f["category"] for f in domain["findings"]} == {"email-dns"}
    assert domain["snapshot"]["services"] == []  # no mail server was contacted


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--intrusive",), "name their recipient with --probe-recipient"),
        (("--probe-recipient", "a@example.test"), "only used with --intrusive"),
        (("--intrusive", "--probe-recipient", "a@elsewhere.test"), "not an address in a scanned domain"),
    ],
)
async def test_intrusive_probe_needs_a_recipient_in_a_scanned_domain(
    lab: DnsLab, flags: tuple[str, ...], fragment: str
) -> None:
    code, out, err = await run("scan", "example.test", "-n", str(lab.nameserver), *flags)
    assert (code, out) == (2, "")
    assert_one_line_error(err, fragment)


async def test_whatif_prints_old_and_new_grades(lab: DnsLab) -> None:
    change = ("--set", '_dmarc.example.test TXT "v=DMARC1; p=none"', "--category", "email-dns")
    code, out, err = await run(
        "whatif", "example.test", "-n", str(lab.nameserver), *change, "--format", "json"
    )
    assert (code, err) == (0, "")
    result = json.loads(out)
    moved = {c["check_id"]: (c["before"], c["after"]) for c in result["checks"]}
    assert moved["email.dmarc.policy"] == ("A", "C")
    assert result["before"]["score"] > result["after"]["score"]
    code, out, err = await run("whatif", "example.test", "-n", str(lab.nameserver), *change)
    assert code == 0 and "email.dmarc.policy" in out and "→" in out
    code, out, err = await run("whatif", "example.test", "-n", str(lab.nameserver))
    assert (code, out) == (2, "")
    assert_one_line_error(err, "say what to change")


async def test_output_formats_to_files_and_fail_under(lab: DnsLab, tmp_path: Path) -> None:
    base = ("scan", "example.test", "-n", str(lab.nameserver), "--category", "email-dns")
    for fmt, marker in (("html", "<!DOCTYPE html>"), ("markdown", "# "), ("sarif", '"version": "2.1.0"')):
        path = tmp_path / f"report.{fmt}"
        code, out, err = await run(*base, "--format", fmt, "--output", str(path))
        assert (code, out, err) == (0, "", "")
        assert marker in path.read_text(encoding="utf-8")
    code, _, err = await run(*base, "--fail-under", "100")
    assert code == 1
    assert_one_line_error(err.replace("mimawari: under", "mimawari: error: under"), "under --fail-under 100")
    code, _, _ = await run(*base, "--fail-under", "10")
    assert code == 0
    code, out, err = await run(*base, "--output", str(tmp_path / "missing" / "x.html"), "--format", "html")
    assert (code, out) == (2, "")
    assert_one_line_error(err, "cannot write")
