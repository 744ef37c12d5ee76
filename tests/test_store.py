"""The store on SQLite and PostgreSQL: migrations, organisations, scans, reports, interrupted scans.

PostgreSQL: ``$MIMAWARI_TEST_POSTGRESQL_URL`` (default the CI machine's server on 127.0.0.1:5432, trust
authentication); each test gets its own schema, dropped afterwards. Its tests skip, saying why, when the
server does not answer.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mimawari.errors import InputError, InvalidDomainError
from mimawari.model import Grade
from mimawari.scan import DomainReport, evaluate_snapshot
from mimawari.score import RULES_VERSION, prioritise, score
from mimawari.store import (
    DATABASE_URL_ENV,
    Criticality,
    Organisation,
    Relation,
    ScanStatus,
    Store,
    StoreError,
    default_url,
    open_store,
)
from mimawari.store.database import alembic_config, make_engine, migrate
from mimawari.store.models import Base
from tests.helpers import recorded

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "organisations",
    "organisation_domains",
    "organisation_netblocks",
    "organisation_tags",
    "scans",
    "scan_targets",
    "findings",
    "category_scores",
    "alert_states",
    "alerts",
    "deliveries",
    "dmarc_aggregate_reports",
    "dmarc_aggregate_records",
    "dmarc_failure_reports",
    "dmarc_tls_reports",
    "dmarc_tls_policies",
    "spam_rate_days",
    "alembic_version",
}
OBSERVED_AT = 1_790_000_000
ANSWERS = {
    "{d} TXT": ["v=spf1 mx -all"],
    "{d} MX": ["10 mx.{d}."],
    "_dmarc.{d} TXT": ["v=DMARC1; p=none; rua=mailto:dmarc@{d}"],
}


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as opened:
        yield opened


def report(domain: str = "example.test") -> DomainReport:
    snapshot = recorded(
        domain, {k.format(d=domain): [v.format(d=domain) for v in vs] for k, vs in ANSWERS.items()}
    )
    # A fixed moment, as a real scan records one: observations judged "now" would differ by the second.
    return evaluate_snapshot(replace(snapshot, target=replace(snapshot.target, observed_at=OBSERVED_AT)))


def graded_report(domain: str = "example.test") -> DomainReport:
    """A report with a numeric score: every unknown finding made a C, the rest as evaluated."""
    base = report(domain)
    findings = tuple(replace(f, grade=Grade.C) if f.grade is Grade.UNKNOWN else f for f in base.findings)
    weights = {f.check_id: f.severity for f in findings}
    return replace(
        base,
        findings=findings,
        score=score(findings, weights),
        priorities=tuple(prioritise(findings, weights)),
    )


KURONEKO = Organisation(
    "Kuroneko",
    Relation.SELF,
    Criticality.HIGH,
    domains=("Example.TEST.", "kuroneko.example"),
    netblocks=("2001:db8::/32", "192.0.2.0/24"),
    tags=("Own", "japan"),
)


# --- migrations -------------------------------------------------------------------------------------------


def test_a_fresh_database_is_migrated_to_head(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) == TABLES
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_the_migrations_create_what_the_models_describe(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_again_keeps_what_is_stored(database_url: str) -> None:
    stored = graded_report()
    with open_store(database_url) as first:
        first.add_organisation(KURONEKO)
        scan_id = first.begin_scan("Kuroneko")
        first.add_report(scan_id, stored)
        first.finish_scan(scan_id)
    with open_store(database_url) as again:
        assert again.get_organisation("Kuroneko").domains == ("example.test", "kuroneko.example")
        assert [s.id for s in again.scans("Kuroneko")] == [scan_id]
        assert again.load_report(scan_id, "example.test").findings == stored.findings


def test_a_database_of_the_first_schema_is_upgraded_with_its_data(database_url: str) -> None:
    """A database made by the release that had only revision 0001, holding an organisation and a scan
    that was running, upgrades in place: nothing is lost and the scan can be finished and evaluated."""
    engine = make_engine(database_url)
    migrate(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, name, relation, criticality, created_at) "
                "VALUES (7, 'Kuroneko', 'self', 'high', :at)"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        connection.execute(
            text("INSERT INTO organisation_domains (organisation_id, domain) VALUES (7, 'example.test')")
        )
        connection.execute(text("INSERT INTO organisation_tags (organisation_id, tag) VALUES (7, 'own')"))
        connection.execute(
            text(
                "INSERT INTO scans (id, organisation_id, status, started_at, rules_version, error) "
                "VALUES (3, 7, 'running', :at, :rules, '')"
            ),
            {"at": datetime(2026, 11, 2, tzinfo=UTC), "rules": RULES_VERSION},
        )
        assert "alerts" not in inspect(connection).get_table_names()
    engine.dispose()
    with open_store(database_url) as upgraded:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with upgraded.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
        assert upgraded.get_organisation("Kuroneko") == Organisation(
            "Kuroneko", Relation.SELF, Criticality.HIGH, ("example.test",), (), ("own",)
        )
        upgraded.add_report(3, graded_report())
        upgraded.finish_scan(3)
        assert upgraded.alerts.unevaluated() == [("Kuroneko", 3)]
        assert upgraded.load_report(3, "example.test").findings == graded_report().findings


def test_a_schema_from_a_newer_version_is_one_line(database_url: str) -> None:
    with open_store(database_url) as opened, opened.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(StoreError, match="does not know") as raised:
        open_store(database_url)
    assert "\n" not in str(raised.value)


# --- organisations ----------------------------------------------------------------------------------------


def test_an_organisation_is_stored_normalised(store: Store) -> None:
    added = store.add_organisation(KURONEKO)
    assert added == Organisation(
        "Kuroneko",
        Relation.SELF,
        Criticality.HIGH,
        domains=("example.test", "kuroneko.example"),
        netblocks=("192.0.2.0/24", "2001:db8::/32"),
        tags=("japan", "own"),
    )
    assert store.get_organisation("Kuroneko") == added


def test_organisations_are_listed_by_relation_and_tag(store: Store) -> None:
    store.add_organisation(KURONEKO)
    store.add_organisation(Organisation("Hakobune Logistics", "supplier", tags=("logistics",)))  # type: ignore[arg-type]
    store.add_organisation(Organisation("Kuroneko Shop", Relation.GROUP, tags=("japan",)))
    assert [o.name for o in store.list_organisations()] == ["Hakobune Logistics", "Kuroneko", "Kuroneko Shop"]
    assert [o.name for o in store.list_organisations(relation="supplier")] == ["Hakobune Logistics"]
    assert [o.name for o in store.list_organisations(tag="Japan")] == ["Kuroneko", "Kuroneko Shop"]
    assert [o.name for o in store.list_organisations(Relation.GROUP, tag="japan")] == ["Kuroneko Shop"]


def test_removing_an_organisation_removes_its_history(store: Store) -> None:
    store.add_organisation(KURONEKO)
    scan_id = store.begin_scan("Kuroneko")
    store.add_report(scan_id, report())
    store.finish_scan(scan_id)
    plain = store.begin_scan(None)
    store.remove_organisation("Kuroneko")
    assert store.list_organisations() == []
    assert [s.id for s in store.scans(complete_only=False)] == [plain]
    with pytest.raises(InputError, match="holds no report"):
        store.load_report(scan_id, "example.test")


@pytest.mark.parametrize(
    ("organisation", "message"),
    [
        (Organisation(" "), "1 to 200 characters"),
        (Organisation("X", "vendor"), "unknown relation 'vendor': use one of self, group, supplier, other"),  # type: ignore[arg-type]
        (Organisation("X", criticality="urgent"), "unknown criticality"),  # type: ignore[arg-type]
        (Organisation("X", netblocks=("192.0.2.7/24",)), "did you mean 192.0.2.0/24"),
        (Organisation("X", netblocks=("192.0.2.0/33",)), "not a network address"),
        (Organisation("X", tags=("",)), "a tag has 1 to 64 characters"),
    ],
)
def test_invalid_organisations_are_refused(store: Store, organisation: Organisation, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        store.add_organisation(organisation)
    assert store.list_organisations() == []


def test_names_and_domains_are_checked(store: Store) -> None:
    store.add_organisation(KURONEKO)
    with pytest.raises(InputError, match="already exists"):
        store.add_organisation(Organisation("Kuroneko"))
    with pytest.raises(InvalidDomainError):
        store.add_organisation(Organisation("Bad", domains=("not a domain",)))
    for unknown in (
        lambda: store.get_organisation("Nobody"),
        lambda: store.remove_organisation("Nobody"),
        lambda: store.begin_scan("Nobody"),
        lambda: store.scans("Nobody"),
    ):
        with pytest.raises(InputError, match="no organisation named 'Nobody'"):
            unknown()


# --- scans and reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [report, graded_report])
def test_a_report_reads_back_as_it_was_stored(store: Store, make: Callable[[], DomainReport]) -> None:
    stored = make()
    scan_id = store.begin_scan(None)
    store.add_report(scan_id, stored)
    store.finish_scan(scan_id)
    assert store.load_report(scan_id, "EXAMPLE.test") == stored


def test_a_scan_record_carries_scores_and_times(store: Store) -> None:
    store.add_organisation(KURONEKO)
    stored = graded_report()
    assert stored.score is not None and stored.score.score is not None
    scan_id = store.begin_scan("Kuroneko")
    store.add_report(scan_id, stored)
    store.finish_scan(scan_id)
    (record,) = store.scans("Kuroneko")
    assert (record.id, record.organisation, record.status, record.error) == (
        scan_id,
        "Kuroneko",
        ScanStatus.COMPLETE,
        "",
    )
    assert record.rules_version == stored.score.rules_version
    assert record.started_at.tzinfo is UTC and record.finished_at is not None
    assert record.started_at <= record.finished_at
    (target,) = record.targets
    assert (target.domain, target.score, target.grade) == (
        "example.test",
        stored.score.score,
        stored.score.grade,
    )
    assert target.categories == stored.score.categories


def test_an_unfinished_scan_is_never_complete(store: Store) -> None:
    store.add_organisation(KURONEKO)
    running = store.begin_scan("Kuroneko")
    store.add_report(running, report())
    failed = store.begin_scan("Kuroneko")
    store.finish_scan(failed, "failed", error="nameservers unreachable")
    assert store.scans("Kuroneko") == []
    assert store.latest_scan("Kuroneko") is None
    records = {s.id: s for s in store.scans("Kuroneko", complete_only=False)}
    assert records[running].status is ScanStatus.RUNNING and records[running].finished_at is None
    assert [t.domain for t in records[running].targets] == ["example.test"]
    assert (records[failed].status, records[failed].error) == (ScanStatus.FAILED, "nameservers unreachable")


def test_history_is_oldest_first_and_latest_is_the_newest_complete(store: Store) -> None:
    store.add_organisation(KURONEKO)
    done = []
    for _ in range(2):
        scan_id = store.begin_scan("Kuroneko")
        store.add_report(scan_id, report())
        store.finish_scan(scan_id)
        done.append(scan_id)
    store.begin_scan("Kuroneko")  # still running: not the latest
    plain = store.begin_scan(None)
    store.finish_scan(plain)
    assert [s.id for s in store.scans("Kuroneko")] == done
    assert [s.id for s in store.scans()] == [*done, plain]
    latest = store.latest_scan("Kuroneko")
    assert latest is not None and latest.id == done[-1]


def test_reports_go_only_into_running_scans(store: Store) -> None:
    scan_id = store.begin_scan(None)
    store.add_report(scan_id, report())
    with pytest.raises(InputError, match=r"already holds a report for example\.test"):
        store.add_report(scan_id, report())
    with pytest.raises(InputError, match="not running"):
        store.finish_scan(scan_id, "running")
    with pytest.raises(InputError, match="unknown scan status"):
        store.finish_scan(scan_id, "done")
    store.finish_scan(scan_id)
    with pytest.raises(InputError, match="already complete"):
        store.add_report(scan_id, report("other.test"))
    with pytest.raises(InputError, match="already complete"):
        store.finish_scan(scan_id, "failed")
    with pytest.raises(InputError, match="no scan with id 999"):
        store.add_report(999, report())
    with pytest.raises(InputError, match=r"holds no report for other\.test"):
        store.load_report(scan_id, "other.test")


CHILD = """
import sys
import threading
from datetime import UTC, datetime

from sqlalchemy import insert

from mimawari.scan import evaluate_snapshot
from mimawari.store import open_store
from mimawari.store.models import ScanRow
from tests.helpers import recorded

store = open_store(sys.argv[1])
scan_id = store.begin_scan(None)
store.add_report(scan_id, evaluate_snapshot(recorded("example.test", {"_dmarc.example.test TXT": "NXDOMAIN"})))
# A transaction still open when the process dies must leave no trace.
connection = store.engine.connect()
row = {"status": "complete", "started_at": datetime.now(UTC), "rules_version": "x", "error": ""}
connection.execute(insert(ScanRow).values(**row))
print(scan_id, flush=True)
sys.stdin.read()
"""


def test_a_killed_scan_keeps_what_it_committed(database_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()  # the report is committed once the child says so
        child.send_signal(signal.SIGKILL)
        child.wait()
    scan_id = int(line)
    with open_store(database_url) as reopened:
        assert reopened.scans() == []
        (record,) = reopened.scans(complete_only=False)
        assert (record.id, record.status) == (scan_id, ScanStatus.RUNNING)
        assert reopened.load_report(scan_id, "example.test").domain == "example.test"


# --- opening ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "malformed|Could not parse"),
        ("nosuchdb://somewhere/x", "Can't load plugin"),
        ("sqlite:////nonexistent-directory/mimawari.db", "unable to open database file"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/test", "connect|refused"),
    ],
)
def test_an_unusable_database_is_a_one_line_store_error(url: str, reason: str) -> None:
    with pytest.raises(StoreError, match=reason) as raised:
        open_store(url)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 3


def test_passwords_stay_out_of_messages() -> None:
    with pytest.raises(StoreError) as raised:
        open_store("postgresql+psycopg://mimawari:s3cret@127.0.0.1:1/test")
    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)


def test_the_default_is_a_sqlite_file_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'mimawari' / 'mimawari.db'}"
    with open_store() as opened:
        opened.begin_scan(None)
    assert (tmp_path / "data" / "mimawari" / "mimawari.db").is_file()
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with open_store() as opened:
        assert opened.scans(complete_only=False) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened, opened.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_two_writers_at_once_both_succeed(database_url: str) -> None:
    """A monitor and a CLI scan writing to the same database: each waits its turn, neither fails."""
    reports = [report(f"d{i}.example.test") for i in range(6)]
    errors: list[BaseException] = []

    def write(opened: Store) -> None:
        try:
            scan_id = opened.begin_scan(None)
            for stored in reports:
                opened.add_report(scan_id, stored)
            opened.finish_scan(scan_id)
        except BaseException as error:
            errors.append(error)

    with open_store(database_url) as first, open_store(database_url) as second:
        writers = [threading.Thread(target=write, args=(opened,)) for opened in (first, second)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert errors == []
        assert [len(s.targets) for s in first.scans()] == [6, 6]
