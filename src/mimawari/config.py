"""The configuration file: the database, the monitor's schedules, alert rules and notifiers.

Found at ``--config FILE``, else ``$MIMAWARI_CONFIG``, else ``config.yaml`` in the user's configuration
directory (``~/.config/mimawari/``); no file means the defaults. ``docs/monitoring.md`` documents every key.
A file that cannot be used stops the command with one line naming the file and the key at fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Self

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mimawari.errors import InputError
from mimawari.monitor.notify import NotifierConfig
from mimawari.monitor.rules import Rule, Selector
from mimawari.monitor.schedule import Schedule, parse_interval
from mimawari.store.database import DATABASE_URL_ENV
from mimawari.store.records import Organisation
from mimawari.yaml_documents import parse_document, read_limited

CONFIG_ENV = "MIMAWARI_CONFIG"


class _Strict(BaseModel):
    # Inputs stay out of error messages: a password pasted into the wrong key is never echoed.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _parsed(parse: Callable[[], object]) -> None:
    """Run a parser inside a validator: its ``InputError`` becomes the ValueError pydantic reports with
    the key's location (``monitor.schedules.1: cron "61 * * * *": minute 61 is not in 0–59``)."""
    try:
        parse()
    except InputError as error:
        raise ValueError(str(error)) from None


class ScheduleEntry(Selector):
    """``every`` or ``cron`` for the organisations the selector picks; the first matching entry wins."""

    every: str | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _parsed(lambda: Schedule.parse(self.every, self.cron))
        return self


class MonitorConfig(_Strict):
    concurrency: int = Field(default=2, ge=1, le=64)
    """Organisations scanned at once."""
    timezone: str = "UTC"
    """The zone cron expressions are read in (``Asia/Tokyo``)."""
    every: str = "24h"
    """The schedule of an organisation no entry of ``schedules`` picks."""
    stale_after: str = "6h"
    """A scan still ``running`` after this long belonged to a process that died: it is marked failed."""
    schedules: tuple[ScheduleEntry, ...] = ()

    @field_validator("every", "stale_after")
    @classmethod
    def _interval(cls, value: str) -> str:
        _parsed(lambda: parse_interval(value))
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        _parsed(lambda: Schedule.parse("1h", None, value))
        return value

    def default_schedule(self) -> Schedule:
        return Schedule.parse(self.every, None, self.timezone)

    def schedule_for(self, organisation: Organisation) -> Schedule:
        for entry in self.schedules:
            if entry.matches(organisation):
                return Schedule.parse(entry.every, entry.cron, self.timezone)
        return self.default_schedule()


class AlertsConfig(_Strict):
    rules: tuple[Rule, ...] = ()
    notifiers: tuple[NotifierConfig, ...] = ()

    @model_validator(mode="after")
    def _names(self) -> Self:
        _unique("rule", (r.name for r in self.rules))
        _unique("notifier", (n.name for n in self.notifiers))
        known = {n.name for n in self.notifiers}
        for rule in self.rules:
            unknown = sorted(set(rule.notify) - known)
            if unknown:
                raise ValueError(
                    f"rule {rule.name!r} notifies {', '.join(unknown)}, which no notifier is named"
                )
        return self

    def notifiers_of(self, rule: Rule) -> tuple[str, ...]:
        return rule.notify or tuple(n.name for n in self.notifiers)


def _unique(what: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"two {what}s are named {name!r}")
        seen.add(name)


class Config(_Strict):
    database: str | None = None
    """A SQLAlchemy URL; ``$MIMAWARI_DATABASE_URL`` and ``--database`` take precedence."""
    monitor: MonitorConfig = MonitorConfig()
    alerts: AlertsConfig = AlertsConfig()


def database_url(given: str | None = None) -> str | None:
    """The database to open: ``given`` (``--database``), else ``$MIMAWARI_DATABASE_URL``, else the
    configuration's ``database``; None leaves the choice to ``store.default_url`` (the SQLite file)."""
    for candidate in (given, os.environ.get(DATABASE_URL_ENV)):
        if candidate and candidate.strip():
            return candidate.strip()
    configured = load_config().database  # read only when needed: --database works despite a broken file
    return configured.strip() if configured and configured.strip() else None


def config_path(path: str | Path | None = None) -> Path | None:
    """The file to read: the one given, ``$MIMAWARI_CONFIG``, or the default one when it exists."""
    if path is not None:
        return Path(path)
    configured = os.environ.get(CONFIG_ENV, "").strip()
    if configured:
        return Path(configured)
    default = Path(platformdirs.user_config_dir("mimawari")) / "config.yaml"
    return default if default.is_file() else None


def load_config(path: str | Path | None = None) -> Config:
    """The configuration (defaults when there is no file); ``InputError`` in one line when unusable."""
    found = config_path(path)
    if found is None:
        return Config()
    raw = read_limited(found, "the configuration")
    return parse_document(Config, raw, f"the configuration {found}", "database, monitor, alerts")
