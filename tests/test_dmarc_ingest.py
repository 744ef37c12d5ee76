"""Ingesting reports, on SQLite and PostgreSQL: each report stored once and whole, a broken one not at
all; ``dmarc parse`` and ``dmarc ingest`` on the command line; what the stored reports tell a scan."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mimawari.dmarc.containers import documents
from mimawari.dmarc.feed import enriched
from mimawari.dmarc.ingest import ReportResult, read_all
from mimawari.dmarc.model import Outcome, ReportKind
from mimawari.model import Target
from mimawari.store import Store, open_store
from tests.cli_runner import assert_one_line_error, run

FIXTURES = Path(__file__).parent / "fixtures" / "dmarc"
GOOD_AGGREGATES = 8
GOOD_TLS = 6
DUPLICATES: list[str] = []


def aggregate(report_id: str, records: int, *, begin: int = 1_764_547_200, selector: str = "k2026") -> str:
    """An RFC 7489 aggregate report for kuroneko.example with ``records`` records of 3 messages each."""
    rows = "".join(
        f"""<record><row><source_ip>192.0.2.{i % 250 + 1}</source_ip><count>3</count>
<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
<identifiers><header_from>kuroneko.example</header_from></identifiers>
<auth_results><dkim><domain>kuroneko.example</domain><selector>{selector}</selector><result>pass</result></dkim>
<spf><domain>kuroneko.example</domain><result>pass</result></spf></auth_results></record>"""
        for i in range(records)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feedback><report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email>
<report_id>{report_id}</report_id><date_range><begin>{begin}</begin><end>{begin + 86399}</end></date_range>
</report_metadata><policy_published><domain>kuroneko.example</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>
<sp>none</sp><pct>100</pct></policy_published>{rows}</feedback>"""


@pytest.fixture
def store(database_url: str) -> Store:
    return open_store(database_url)


def ingest(store: Store, *paths: Path) -> list[ReportResult]:
    return list(read_all(documents(paths), store))


def test_the_corpus_is_stored_once(store: Store) -> None:
    with store:
        first = ingest(store, FIXTURES)
        assert all(r.stored is None for r in first if not r.ok)  # rejected: nothing stored
        stored = [r for r in first if r.stored is Outcome.STORED]
        kinds = Counter(r.kind.value for r in stored if r.kind is not None)
        counts = store.dmarc.counts()
        assert (kinds["aggregate"], kinds["smtp_tls"]) == (GOOD_AGGREGATES, GOOD_TLS)
        assert {k: counts[k] for k in ("aggregate", "failure", "smtp_tls")} == {
            "aggregate": GOOD_AGGREGATES,
            "failure": kinds["failure"],
            "smtp_tls": GOOD_TLS,
        }
        assert counts["records"] == sum(r.records for r in stored if r.kind is ReportKind.AGGREGATE)
        # The corpus holds the same failure report encoded twice: recognised the first time already.
        assert [r.file for r in first if r.stored is Outcome.DUPLICATE] == DUPLICATES

        again = ingest(store, FIXTURES)
        assert {r.stored for r in again if r.ok} == {Outcome.DUPLICATE}
        assert len([r for r in again if r.ok]) == len([r for r in first if r.ok])
        assert store.dmarc.counts() == counts


def test_a_report_broken_half_way_leaves_nothing(store: Store, tmp_path: Path) -> None:
    # 12 000 records: two batches are inserted before the parser meets the cut.
    text = aggregate("cut-1", 12_000)
    broken = tmp_path / "cut.xml.gz"
    broken.write_bytes(gzip.compress(text[: len(text) * 9 // 10].encode()))
    with store:
        (result,) = ingest(store, broken)
        assert not result.ok and "truncated" in result.error
        assert store.dmarc.counts() == {"aggregate": 0, "records": 0, "failure": 0, "smtp_tls": 0}
        whole = tmp_path / "whole.xml"
        whole.write_text(text)
        (stored,) = ingest(store, whole)
        assert (stored.ok, stored.records, stored.messages) == (True, 12_000, 36_000)


def test_a_reused_report_id_for_another_period_is_another_report(store: Store, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "day1.xml").write_text(aggregate("reused", 2))
    (reports / "day2.xml").write_text(aggregate("reused", 3, begin=1_764_633_600))
    with store:
        results = ingest(store, reports)
        assert [(r.stored, r.records) for r in results] == [(Outcome.STORED, 2), (Outcome.STORED, 3)]
        assert store.dmarc.counts()["aggregate"] == 2
        assert [r.stored for r in ingest(store, reports)] == [Outcome.DUPLICATE, Outcome.DUPLICATE]


def test_selectors_and_tls_reports_feed_the_scan(store: Store, tmp_path: Path) -> None:
    (tmp_path / "agg.xml").write_text(aggregate("feed", 4, selector="mimawari2026"))
    tls = json.loads((FIXTURES / "tlsrpt" / "rfc8460-appendix-example.json").read_text())
    with store:
        ingest(store, tmp_path / "agg.xml", FIXTURES / "tlsrpt" / "rfc8460-appendix-example.json")
        target = enriched(Target("kuroneko.example", ("s1",)), store, datetime(2025, 12, 3, tzinfo=UTC))
        assert target.dkim_selectors == ("s1", "mimawari2026")
        assert target.tls_reports is None  # the TLS report is about another domain, and old
        domain = tls["policies"][0]["policy"]["policy-domain"]
        summary = enriched(Target(domain), store, datetime(2016, 4, 10, tzinfo=UTC)).tls_reports
        assert summary is not None and summary.reporters == (tls["organization-name"],)
        failed = sum(p["summary"]["total-failure-session-count"] for p in tls["policies"])
        assert summary.failed_sessions == failed and summary.failures


async def test_parse_prints_one_json_object_per_report(tmp_path: Path) -> None:
    code, out, err = await run("dmarc", "parse", str(FIXTURES / "aggregate"), "--format", "json")
    assert code == 1 and err == ""  # some fixtures are broken on purpose
    lines = [json.loads(line) for line in out.splitlines()]
    fields = [
        "file",
        "kind",
        "ok",
        "error",
        "report_id",
        "org_name",
        "domain",
        "begin",
        "end",
        "records",
        "messages",
    ]
    assert all(list(line) == fields for line in lines)
    google = next(line for line in lines if line["file"].endswith("google.xml"))
    assert google["ok"] and google["kind"] == "aggregate" and google["org_name"] == "google.com"
    assert sum(line["ok"] for line in lines) == GOOD_AGGREGATES
    assert all(line["error"] for line in lines if not line["ok"])
    code, out, _ = await run("dmarc", "parse", str(FIXTURES / "aggregate" / "google.xml"))
    assert code == 0 and out.endswith("read 1 report(s), 3 record(s); 0 rejected\n")


async def test_ingest_and_read_back_on_the_command_line(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path / 'd.db'}")
    (tmp_path / "reports").mkdir()
    for day in range(3):
        (tmp_path / "reports" / f"r{day}.xml").write_text(
            aggregate(f"cli-{day}", 5, begin=1_764_547_200 + day * 86400)
        )
    code, out, _ = await run("dmarc", "ingest", str(tmp_path / "reports"), *database)
    assert code == 0 and out.endswith("stored 3 report(s), 15 record(s); 0 rejected\n")
    code, out, _ = await run("dmarc", "ingest", str(tmp_path / "reports"), *database)
    assert code == 0 and "stored 0 report(s), 0 record(s), 3 already stored; 0 rejected" in out
    code, out, _ = await run(
        "dmarc", "summary", "kuroneko.example", "--days", "3650", "--format", "json", *database
    )
    summary = json.loads(out)
    assert code == 0 and summary["total"]["messages"] == 45 and summary["reports"] == 3
    code, out, _ = await run(
        "dmarc",
        "sources",
        "kuroneko.example",
        "--days",
        "3650",
        "--no-reverse-dns",
        "--format",
        "json",
        *database,
    )
    (source,) = json.loads(out)
    assert code == 0 and source["verdict"] == "aligned" and source["messages"] == 45
    code, _, err = await run("dmarc", "ingest", str(tmp_path / "missing"), *database)
    assert code == 2
    assert_one_line_error(err, "no such file or directory")
    code, _, err = await run("dmarc", "ingest", "imaps://reports:secret@127.0.0.1/INBOX", *database)
    assert code == 2
    assert_one_line_error(err, "MIMAWARI_IMAP_PASSWORD")
    assert "secret" not in err
