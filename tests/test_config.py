"""The configuration file: a full example, where it is found, the database's precedence, one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mimawari.config import CONFIG_ENV, Config, config_path, database_url, load_config
from mimawari.errors import InputError
from mimawari.model import Category, Severity
from mimawari.monitor.notify import NotifierConfig
from mimawari.monitor.notify_config import EmailNotifierConfig, SlackNotifierConfig, WebhookNotifierConfig
from mimawari.monitor.rules import (
    CertificateExpiring,
    DmarcWeakened,
    GradeDrop,
    NewFinding,
    NewService,
    ScoreBelow,
    ScoreDrop,
)
from mimawari.store import DATABASE_URL_ENV, Organisation, Relation
from mimawari.yaml_documents import MAX_BYTES as MAX_CONFIG_BYTES
from tests.cli_runner import assert_one_line_error, run

FULL = """
database: sqlite:////var/lib/mimawari/mimawari.db
monitor:
  concurrency: 4
  timezone: Asia/Tokyo
  every: 12h
  stale_after: 3h
  schedules:
    - organisations: [Kuroneko]
      cron: "30 2 * * 1-5"        # 02:30 Tokyo time on weekdays
    - relations: [supplier]
      every: 7d
    - tags: [critical]
      cron: "@hourly"
    - relations: [self]           # Kuroneko is self too: the first entry already picked it
      every: 1h
alerts:
  notifiers:
    - kind: email
      name: soc-mail
      host: smtp.example.org
      port: 587
      username: mimawari
      password_env: MIMAWARI_SMTP_PASSWORD
      sender: mimawari@example.org
      recipients: [soc@example.org]
      lang: ja
    - kind: webhook
      name: siem
      url: https://siem.example.org/hooks/mimawari
      headers: {Authorization: "Bearer ${SIEM_TOKEN}"}
    - kind: slack
      name: ops-channel
      url: https://hooks.slack.com/services/T000/B000/XXXX
  rules:
    - {kind: score_below, name: low-score, threshold: 70, notify: [soc-mail]}
    - {kind: score_drop, name: drop, points: 10}
    - {kind: grade_drop, name: grades, categories: [email-dns, email-mta], steps: 2, relations: [self, group]}
    - {kind: new_finding, name: findings, severity: critical, tags: [Own]}
    - {kind: new_service, name: services, organisations: [Kuroneko]}
    - {kind: certificate_expiring, name: certs, days: 21, notify: [siem, ops-channel]}
    - {kind: dmarc_weakened, name: dmarc}
"""
KURONEKO = Organisation("Kuroneko", Relation.SELF, tags=("own",))
HAKOBUNE = Organisation("Hakobune", Relation.SUPPLIER, tags=("critical",))
SHIRO = Organisation("Shiro", Relation.GROUP, tags=("critical",))
ANYONE = Organisation("Anyone")


def written(directory: Path, text: str, name: str = "config.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_configuration_loads(tmp_path: Path) -> None:
    config = load_config(written(tmp_path, FULL))
    assert config.database == "sqlite:////var/lib/mimawari/mimawari.db"
    monitor = config.monitor
    assert (monitor.concurrency, monitor.timezone, monitor.every, monitor.stale_after) == (
        4,
        "Asia/Tokyo",
        "12h",
        "3h",
    )
    rules = config.alerts.rules
    assert [type(r) for r in rules] == [
        ScoreBelow,
        ScoreDrop,
        GradeDrop,
        NewFinding,
        NewService,
        CertificateExpiring,
        DmarcWeakened,
    ]
    below, _, grades, findings, services, certs, _ = rules
    assert isinstance(below, ScoreBelow) and below.threshold == 70
    assert isinstance(grades, GradeDrop) and (grades.categories, grades.steps) == (
        (Category.EMAIL_DNS, Category.EMAIL_MTA),
        2,
    )
    assert isinstance(findings, NewFinding) and findings.severity is Severity.CRITICAL
    assert isinstance(certs, CertificateExpiring) and certs.days == 21
    assert [r.name for r in rules if r.matches(KURONEKO)] == [r.name for r in rules]
    assert [r.name for r in rules if r.matches(HAKOBUNE)] == ["low-score", "drop", "certs", "dmarc"]
    assert not services.matches(SHIRO) and grades.matches(SHIRO)

    notifiers: tuple[NotifierConfig, ...] = config.alerts.notifiers
    assert [type(n) for n in notifiers] == [EmailNotifierConfig, WebhookNotifierConfig, SlackNotifierConfig]
    email = notifiers[0]
    assert isinstance(email, EmailNotifierConfig)
    assert (email.port, email.security, email.lang, email.greeting_name) == (
        587,
        "starttls",
        "ja",
        "example.org",
    )
    assert config.alerts.notifiers_of(below) == ("soc-mail",)
    assert config.alerts.notifiers_of(certs) == ("siem", "ops-channel")
    assert config.alerts.notifiers_of(findings) == ("soc-mail", "siem", "ops-channel")  # none named: all


def test_the_first_matching_schedule_wins_in_the_configured_time_zone(tmp_path: Path) -> None:
    monitor = load_config(written(tmp_path, FULL)).monitor
    tokyo = ZoneInfo("Asia/Tokyo")
    kuroneko = monitor.schedule_for(KURONEKO)
    assert kuroneko.cron is not None and kuroneko.cron.text == "30 2 * * 1-5" and kuroneko.zone == tokyo
    # Monday 09:00 in Tokyo: the next run is Tuesday 02:30 Tokyo time, 17:30 UTC on Monday.
    monday = datetime(2026, 9, 21, 0, 0, tzinfo=UTC)
    assert kuroneko.next_run(monday, monday) == datetime(2026, 9, 21, 17, 30, tzinfo=UTC)
    supplier = monitor.schedule_for(HAKOBUNE)  # also tagged critical: the earlier entry wins
    assert supplier.every == timedelta(days=7)
    critical = monitor.schedule_for(SHIRO)
    assert critical.cron is not None and critical.cron.text == "@hourly"
    default = monitor.schedule_for(ANYONE)
    assert (default.every, default.zone) == (timedelta(hours=12), tokyo)
    assert monitor.default_schedule() == default


def test_no_file_means_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() is None
    config = load_config()
    assert config == Config()
    assert (config.database, config.alerts.rules, config.alerts.notifiers) == (None, (), ())
    schedule = config.monitor.schedule_for(KURONEKO)
    assert (schedule.every, schedule.zone) == (timedelta(hours=24), ZoneInfo("UTC"))
    assert load_config(written(tmp_path, "")) == Config()  # an empty file too
    assert load_config(written(tmp_path, "# nothing yet\n", "comments.yaml")) == Config()


def test_where_the_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    default = written(tmp_path / "xdg" / "mimawari", "database: sqlite:///default.db\n")
    assert config_path() == default
    assert load_config().database == "sqlite:///default.db"
    chosen = written(tmp_path, "database: sqlite:///chosen.db\n", "chosen.yaml")
    monkeypatch.setenv(CONFIG_ENV, str(chosen))
    assert config_path() == chosen and load_config().database == "sqlite:///chosen.db"
    given = written(tmp_path, "database: sqlite:///given.db\n", "given.yaml")
    assert load_config(given).database == "sqlite:///given.db"
    assert config_path(str(given)) == given
    # A file named by the environment that is not there is an error, not the defaults.
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(InputError, match=r"cannot read the configuration .*missing\.yaml"):
        load_config()


def test_database_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert database_url() is None  # nothing anywhere: the store picks its SQLite file
    monkeypatch.setenv(CONFIG_ENV, str(written(tmp_path, "database: ' sqlite:///config.db '\n")))
    assert database_url() == "sqlite:///config.db"
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:///env.db")
    assert database_url() == "sqlite:///env.db"
    assert database_url("sqlite:///given.db") == "sqlite:///given.db"
    assert database_url("  ") == "sqlite:///env.db"  # blank counts as not given
    monkeypatch.setenv(DATABASE_URL_ENV, "")
    assert database_url(None) == "sqlite:///config.db"


BIG = "# " + "x" * MAX_CONFIG_BYTES + "\n"
BROKEN = [
    ("not-yaml", "monitor: [every\n", ["is not YAML"]),
    ("a-list", "- database\n- monitor\n", ["must be a mapping"]),
    ("unknown-key", "monitor:\n  evry: 6h\n", ["monitor.evry", "not permitted"]),
    (
        "bad-field",
        "alerts:\n  rules:\n    - {kind: score_below, name: low, threshold: 0}\n",
        ["alerts.rules.0", "threshold", "greater than 0"],
    ),
    (
        "unknown-kind",
        "alerts:\n  rules:\n    - {kind: score_above, name: low}\n",
        ["alerts.rules.0", "score_above", "score_below"],
    ),
    (
        "unknown-notifier",
        "alerts:\n  rules:\n    - {kind: new_service, name: svc, notify: [pager]}\n",
        ["alerts", "'svc'", "pager"],
    ),
    (
        "same-name",
        "alerts:\n  rules:\n    - {kind: new_service, name: svc}\n    - {kind: dmarc_weakened, name: svc}\n",
        ["alerts", "two rules are named 'svc'"],
    ),
    (
        "bad-relation",
        "monitor:\n  schedules:\n    - {relations: [vendor], every: 1h}\n",
        ["monitor.schedules.0.relations.0", "supplier"],
    ),
    (
        "bad-cron",
        "monitor:\n  schedules:\n    - {tags: [own], cron: '61 * * * *'}\n",
        ['cron "61 * * * *"', "minute"],
    ),
    ("bad-timezone", "monitor:\n  timezone: Mars/Olympus\n", ["time zone", "Mars/Olympus"]),
    ("bad-interval", "monitor:\n  every: 5x\n", ['interval "5x"']),
    ("too-large", BIG, ["larger than 1 MiB"]),
]


@pytest.mark.parametrize(("name", "text", "fragments"), BROKEN, ids=[case[0] for case in BROKEN])
def test_an_unusable_file_is_one_line_naming_file_and_key(
    tmp_path: Path, name: str, text: str, fragments: list[str]
) -> None:
    path = written(tmp_path, text, f"{name}.yaml")
    with pytest.raises(InputError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(InputError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"cannot read the configuration {path}: ") and "\n" not in message


def test_a_secret_in_the_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    text = """
alerts:
  notifiers:
    - {kind: email, name: soc-mail, host: smtp.example.org, sender: m@example.org, recipients: [soc@example.org],
       password: hunter2-secret}
"""
    with pytest.raises(InputError) as raised:
        load_config(written(tmp_path, text))
    message = str(raised.value)
    assert "alerts.notifiers.0" in message and "password_env" in message
    assert "hunter2-secret" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("monitor:\n  timezone: Mars/Olympus\n", "monitor.timezone"),
        ("monitor:\n  every: 5x\n", "monitor.every"),
        ("monitor:\n  stale_after: soon\n", "monitor.stale_after"),
        (
            "monitor:\n  schedules:\n    - {every: 1h}\n    - {tags: [own], cron: '61 * * * *'}\n",
            "monitor.schedules.1",
        ),
    ],
    ids=["timezone", "every", "stale_after", "cron"],
)
def test_schedule_errors_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(InputError) as raised:
        load_config(written(tmp_path, text))
    assert key in str(raised.value), str(raised.value)


async def test_the_cli_stops_on_a_broken_configuration(tmp_path: Path) -> None:
    path = written(tmp_path, "alerts:\n  rules:\n    - {kind: score_below, name: low}\n", "broken.yaml")
    code, out, err = await run("--config", str(path), "org", "list")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"the configuration {path}: alerts.rules.0.score_below.threshold")
    code, _, err = await run("--config", str(tmp_path / "nowhere.yaml"), "org", "list")
    assert code == 2
    assert_one_line_error(err, "nowhere.yaml")
