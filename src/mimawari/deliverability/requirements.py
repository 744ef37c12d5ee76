"""The mailbox providers' sender requirements, read from ``data/sender_requirements.yaml``.

The rules change (Gmail added TLS in December 2023, Outlook.com began rejecting in May 2025), so they are
data with their source and the day they were checked, not code: a new rule is a new entry, and the test
that decides it is named, one of ``checks.email.other.matrix_judge.TESTS``. A malformed file is a
programming error caught at import, with the key that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

from mimawari.model import Text


class Level(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


class Tier(StrEnum):
    ALL = "all"
    """Every sender to the provider's users."""
    BULK = "bulk"
    """Senders of more than 5,000 messages a day to the provider's users."""


TIER_LABELS = {
    Tier.ALL: Text("all senders", "全送信者"),
    Tier.BULK: Text("over 5,000/day", "1 日 5,000 通超"),
}
TIER_SHORT = {Tier.ALL: Text("all", "全"), Tier.BULK: Text("bulk", "大量")}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    short: str
    """For narrow tables: ``Yahoo`` for Yahoo Mail."""
    source: str
    checked: str
    note: str = ""
    faq: str = ""


@dataclass(frozen=True)
class Column:
    """One audience: a provider's senders of one tier."""

    id: str
    provider: Provider
    tier: Tier

    @property
    def label(self) -> Text:
        tier = TIER_LABELS[self.tier]
        return Text(f"{self.provider.name} ({tier.en})", f"{self.provider.name}（{tier.ja}）")

    @property
    def heading(self) -> Text:
        """Two short lines for a table header: the provider, the tier."""
        tier = TIER_SHORT[self.tier]
        return Text(f"{self.provider.short}\n{tier.en}", f"{self.provider.short}\n{tier.ja}")


@dataclass(frozen=True)
class Requirement:
    id: str
    test: str
    """The name of the test in ``checks.email.other.matrix_judge.TESTS`` that decides it."""
    title: Text
    applies: tuple[tuple[str, Level], ...]
    """(column id, level) for every column the requirement belongs to."""

    def level(self, column: Column) -> Level | None:
        return next((level for column_id, level in self.applies if column_id == column.id), None)


@dataclass(frozen=True)
class RequirementSet:
    version: str
    providers: tuple[Provider, ...]
    columns: tuple[Column, ...]
    requirements: tuple[Requirement, ...]


class RequirementDataError(ValueError):
    """The requirement file does not have the expected shape; the message names the key."""


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequirementDataError(f"{where}: expected a mapping")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise RequirementDataError(f"{where}: expected a non-empty string")
    return value


def _provider(key: str, value: Any) -> Provider:
    entry = _mapping(value, f"providers.{key}")
    where = f"providers.{key}"
    return Provider(
        id=key,
        name=_text(entry.get("name"), f"{where}.name"),
        short=str(entry.get("short") or entry.get("name")),
        source=_text(entry.get("source"), f"{where}.source"),
        checked=_text(entry.get("checked"), f"{where}.checked"),
        note=str(entry.get("note", "")),
        faq=str(entry.get("faq", "")),
    )


def _column(index: int, value: Any, providers: dict[str, Provider]) -> Column:
    entry = _mapping(value, f"columns.{index}")
    provider = providers.get(str(entry.get("provider")))
    if provider is None:
        raise RequirementDataError(f"columns.{index}.provider: not one of {', '.join(providers)}")
    try:
        tier = Tier(str(entry.get("tier")))
    except ValueError:
        raise RequirementDataError(f"columns.{index}.tier: expected all or bulk") from None
    return Column(_text(entry.get("id"), f"columns.{index}.id"), provider, tier)


def _requirement(index: int, value: Any, columns: dict[str, Column], tests: frozenset[str]) -> Requirement:
    where = f"requirements.{index}"
    entry = _mapping(value, where)
    test = _text(entry.get("test"), f"{where}.test")
    if tests and test not in tests:
        raise RequirementDataError(f"{where}.test: {test!r} is not a known test")
    title = _mapping(entry.get("title"), f"{where}.title")
    applies: list[tuple[str, Level]] = []
    for column_id, level in _mapping(entry.get("applies"), f"{where}.applies").items():
        if column_id not in columns:
            raise RequirementDataError(f"{where}.applies.{column_id}: not a column")
        try:
            applies.append((column_id, Level(level)))
        except ValueError:
            raise RequirementDataError(
                f"{where}.applies.{column_id}: expected required or recommended"
            ) from None
    return Requirement(
        id=_text(entry.get("id"), f"{where}.id"),
        test=test,
        title=Text(_text(title.get("en"), f"{where}.title.en"), _text(title.get("ja"), f"{where}.title.ja")),
        applies=tuple(applies),
    )


def parse_requirements(data: Any, tests: frozenset[str] = frozenset()) -> RequirementSet:
    """The requirement set in ``data`` (the YAML file's content); ``tests`` the test names allowed."""
    root = _mapping(data, "(file)")
    providers = {
        key: _provider(key, value) for key, value in _mapping(root.get("providers"), "providers").items()
    }
    raw_columns = root.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise RequirementDataError("columns: expected a list")
    columns = {c.id: c for c in (_column(i, v, providers) for i, v in enumerate(raw_columns))}
    raw_requirements = root.get("requirements")
    if not isinstance(raw_requirements, list) or not raw_requirements:
        raise RequirementDataError("requirements: expected a list")
    requirements = tuple(_requirement(i, v, columns, tests) for i, v in enumerate(raw_requirements))
    if len({r.id for r in requirements}) != len(requirements):
        raise RequirementDataError("requirements: an id is used twice")
    return RequirementSet(
        version=_text(str(root.get("version", "")), "version"),
        providers=tuple(providers.values()),
        columns=tuple(columns.values()),
        requirements=requirements,
    )


def bundled_requirements(tests: frozenset[str] = frozenset()) -> RequirementSet:
    """The requirement set shipped with mimawari (``data/sender_requirements.yaml``)."""
    text = resources.files("mimawari").joinpath("data/sender_requirements.yaml").read_text(encoding="utf-8")
    return parse_requirements(yaml.safe_load(text), tests)
