"""Organisations on the command line: add, scan --org (stored), history, list, show, remove."""

from __future__ import annotations

import re
from pathlib import Path

from mimawari.lab import DnsLab
from mimawari.store import ScanStatus, open_store
from tests.cli_runner import assert_one_line_error, run


async def test_an_organisation_is_scanned_stored_and_followed(lab: DnsLab, tmp_path: Path) -> None:
    db = ("--database", f"sqlite:///{tmp_path / 'store.db'}")
    code, out, _ = await run(
        "org", "add", "Example Corp", "--domain", "example.test", "--relation", "self", *db
    )
    assert code == 0 and "added Example Corp" in out
    scan = ("scan", "--org", "Example Corp", "-n", str(lab.nameserver), "--category", "email-dns", *db)
    for _ in range(2):
        code, out, err = await run(*scan)
        assert (code, err) == (0, "")
        assert "example.test" in out
    code, out, _ = await run("history", "Example Corp", *db)
    assert code == 0 and "2 complete scan(s)" in out and "example.test" in out
    assert re.search(r"^\s+email DNS\s+\S\S\s+[A-E?]", out, re.MULTILINE)  # the category's line
    code, out, _ = await run("org", "list", "--relation", "self", *db)
    assert code == 0 and "Example Corp" in out and re.search(r"\d+\.\d [A-E] \(\d{4}-", out)
    code, out, _ = await run("org", "show", "Example Corp", *db)
    assert code == 0 and "latest scan" in out
    with open_store(db[1]) as store:
        (first, second) = store.scans("Example Corp")
        assert first.status is second.status is ScanStatus.COMPLETE
        report = store.load_report(second.id, "example.test")
        assert any(f.check_id == "email.dmarc.policy" for f in report.findings)
    code, out, _ = await run("org", "remove", "Example Corp", *db)
    assert code == 0
    code, _, err = await run("history", "Example Corp", *db)
    assert code == 2
    assert_one_line_error(err, "Example Corp")


async def test_a_scan_that_fails_is_stored_as_failed_never_complete(tmp_path: Path) -> None:
    db = ("--database", f"sqlite:///{tmp_path / 'store.db'}")
    await run("org", "add", "Broken", "--domain", "example.test", *db)
    code, _, err = await run("scan", "--org", "Broken", "-n", "127.0.0.1:9", "--timeout", "0.2", *db)
    assert code == 3
    assert_one_line_error(err, "nameserver unreachable")
    with open_store(db[1]) as store:
        assert store.scans("Broken") == []
        (failed,) = store.scans("Broken", complete_only=False)
        assert failed.status is ScanStatus.FAILED and "unreachable" in failed.error
    code, out, _ = await run("history", "Broken", *db)
    assert code == 0 and "no complete scan" in out


async def test_scan_needs_domains_or_an_organisation(tmp_path: Path) -> None:
    code, out, err = await run("scan")
    assert (code, out) == (2, "")
    assert_one_line_error(err, "name the domains to scan")
