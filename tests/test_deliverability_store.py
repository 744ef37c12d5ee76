"""The spam-complaint figures in the store, on SQLite and PostgreSQL: stored once per domain, day and
source, updated by a newer import, read back as a window; the upgrade from revision 0003 keeps the DMARC
data; and the scan's target is given the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mimawari.dmarc.feed import SPAM_RATE_DAYS, enriched
from mimawari.errors import InputError
from mimawari.model import SpamRateDay, SpamRateSummary, Target
from mimawari.store import Store, open_store
from mimawari.store.database import alembic_config, make_engine, migrate
from mimawari.store.deliverability import Imported

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
DAYS = (
    SpamRateDay("2026-11-30", "google-postmaster", 0.0005),
    SpamRateDay("2026-12-01", "google-postmaster", 0.0015),
    SpamRateDay("2026-12-01", "microsoft-snds", 0.001, None, 8100, upper_bound=True),
    SpamRateDay("2026-12-02", "yahoo-arf", 0.002, 4, 2000),
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as opened:
        yield opened


def test_figures_are_stored_and_read_back_as_a_window(store: Store) -> None:
    assert store.deliverability.add("Example.COM.", DAYS, NOW) == Imported(added=4)
    assert store.deliverability.series("example.com", 30, NOW) == SpamRateSummary(30, DAYS)
    # The window ends on now's UTC day and counts back: 2 days are 12-02 and 12-03.
    assert store.deliverability.series("example.com", 2, NOW) == SpamRateSummary(2, DAYS[3:])
    assert store.deliverability.series("example.com", 30, NOW - timedelta(days=2)) == SpamRateSummary(
        30, DAYS[:3]
    )
    assert store.deliverability.series("example.org", 30, NOW) is None
    assert store.deliverability.series("example.com", 30, NOW - timedelta(days=10)) is None
    assert store.deliverability.span("example.com") == ("2026-11-30", "2026-12-02", 4)
    assert store.deliverability.span("example.org") is None


def test_importing_again_changes_nothing_and_a_newer_figure_replaces_its_day(store: Store) -> None:
    store.deliverability.add("example.com", DAYS, NOW)
    assert store.deliverability.add("example.com", DAYS, NOW) == Imported(unchanged=4)
    revised = (
        SpamRateDay("2026-12-02", "yahoo-arf", 0.0025, 5, 2000),
        SpamRateDay("2026-12-03", "yahoo-arf", 0.0, 0, 1000),
    )
    assert store.deliverability.add("example.com", revised, NOW) == Imported(added=1, updated=1)
    summary = store.deliverability.series("example.com", 30, NOW)
    assert summary is not None
    assert summary.series == (*DAYS[:3], *revised)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM spam_rate_days")).scalar_one()
    assert rows == 5


def test_nothing_is_pruned_and_bad_input_is_one_line(store: Store) -> None:
    old = SpamRateDay("2019-01-01", "google-postmaster", 0.0001)
    store.deliverability.add("example.com", (old,), NOW)
    assert store.deliverability.series("example.com", 3650, NOW) == SpamRateSummary(3650, (old,))
    assert store.deliverability.add("example.com", ()) == Imported()
    with pytest.raises(InputError, match="is not a day"):
        store.deliverability.add("example.com", (SpamRateDay("12/01/2026", "yahoo-arf", 0.1),))
    with pytest.raises(InputError, match="not a domain name"):
        store.deliverability.add("localhost", DAYS)


def test_the_scan_target_is_given_the_figures_of_its_domain(store: Store) -> None:
    store.deliverability.add("example.com", DAYS, NOW)
    target = enriched(Target("example.com"), store, NOW)
    assert target.spam_rates == SpamRateSummary(SPAM_RATE_DAYS, DAYS)
    assert enriched(Target("example.org"), store, NOW).spam_rates is None


def test_a_database_at_revision_0003_is_upgraded_with_its_data(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0003")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        assert "spam_rate_days" not in inspect(connection).get_table_names()
        connection.execute(
            text(
                'INSERT INTO dmarc_tls_reports (id, organization_name, report_id, begin, "end", '
                "contact_info, origin, ingested_at) VALUES (5, 'Google Inc.', 'r-1', :at, :at, '', 'f', :at)"
            ),
            {"at": at},
        )
        connection.execute(
            text(
                "INSERT INTO dmarc_tls_policies (report_id, policy_type, policy_domain, successful_sessions, "
                "failed_sessions, details) VALUES (5, 'sts', 'example.com', 99, 1, '{}')"
            )
        )
    engine.dispose()
    with open_store(database_url) as upgraded:
        with upgraded.engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert MigrationContext.configure(connection).get_current_revision() == head
        assert upgraded.dmarc.counts()["smtp_tls"] == 1
        tls = upgraded.dmarc.tls_summary("example.com", 30, at + timedelta(days=1))
        assert tls is not None and tls.failed_sessions == 1
        assert upgraded.deliverability.add("example.com", DAYS, NOW) == Imported(added=4)
        assert upgraded.deliverability.series("example.com", 30, NOW) == SpamRateSummary(30, DAYS)
