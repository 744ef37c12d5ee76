"""When an organisation is next due for a scan: an interval or a 5-field cron expression in a time zone.

Pure scheduling logic for ``mimawari monitor``: no I/O and no clock (callers pass ``now``). Cron follows
crontab(5): ``minute hour day-of-month month day-of-week``, with the aliases @hourly … @yearly. It is
evaluated in the organisation's local time and answered in UTC; a local time that a DST change skips
does not fire, and a local time that happens twice fires once, at its first occurrence.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mimawari.errors import InputError

MINIMUM_INTERVAL = timedelta(minutes=1)
_UTC_ZONE = ZoneInfo("UTC")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_INTERVAL = re.compile(r"(?:[0-9]+[wdhms])+")
_INTERVAL_PART = re.compile(r"([0-9]+)([wdhms])")
_INTERVAL_HINT = "use a number and a unit s, m, h, d or w, e.g. 30m, 6h, 1d or 1h30m (at least 1m)"


def parse_interval(text: str) -> timedelta:
    """``"6h"`` → 6 hours; parts combine (``"1h30m"``), each unit at most once."""
    compact = "".join(text.split()).lower()
    if not _INTERVAL.fullmatch(compact):
        raise InputError(f'interval "{text}" is not understood: {_INTERVAL_HINT}')
    parts = _INTERVAL_PART.findall(compact)
    units = [unit for _, unit in parts]
    seconds = 0
    for number, unit in parts:
        if units.count(unit) > 1:
            raise InputError(f'interval "{text}" gives the unit {unit} twice: {_INTERVAL_HINT}')
        # Cut long digit strings short: int() refuses 4300+ digits, and timedelta ends at 1e9 days.
        seconds += int(number[:16]) * _UNIT_SECONDS[unit]
    try:
        total = timedelta(seconds=seconds)
    except OverflowError:
        raise InputError(f'interval "{text}" is too long: {_INTERVAL_HINT}') from None
    if total < MINIMUM_INTERVAL:
        raise InputError(f'interval "{text}" is shorter than 1 minute: {_INTERVAL_HINT}')
    return total


def format_interval(every: timedelta) -> str:
    """The compact form ``parse_interval`` reads: 90 minutes → ``"1h30m"``."""
    seconds = every // timedelta(seconds=1)
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names of low, low + 1, …, compared case-insensitively: jan = 1, sun = 0."""

    def allowed(self) -> str:
        names = f" or {self.names[0]}–{self.names[-1]}" if self.names else ""
        return f"a number in {self.low}–{self.high}{names}"


_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day-of-month", 1, 31),
    _CronField(
        "month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    ),
    _CronField("day-of-week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
# fmt: off
_ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
# fmt: on
_DIGITS = re.compile(r"[0-9]+")
# Month lengths of a leap year: 29 February fires, every four years or so.
_LONGEST_MONTH = {month: calendar.monthrange(2000, month)[1] for month in range(1, 13)}
# Every calendar date falls on every weekday within the 400-year Gregorian cycle, so a search that
# long finds any expression that can fire at all (parse rejects the ones that cannot).
_SEARCH_YEARS = 400


def _cron_value(cron: str, field: _CronField, text: str) -> int:
    if text.lower() in field.names:
        return field.low + field.names.index(text.lower())
    if not _DIGITS.fullmatch(text):
        raise InputError(f'cron "{cron}": {field.name} "{text}" is not {field.allowed()}')
    if len(text) > 4 or not field.low <= int(text) <= field.high:
        raise InputError(f'cron "{cron}": {field.name} {text} is not in {field.low}–{field.high}')
    return int(text)


def _expand(cron: str, field: _CronField, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        span, has_step, step_text = item.partition("/")
        step = 1
        if has_step:
            width = field.high - field.low + 1
            if not _DIGITS.fullmatch(step_text) or len(step_text) > 4 or not 1 <= int(step_text) <= width:
                raise InputError(f'cron "{cron}": {field.name} step "{step_text}" is not in 1–{width}')
            step = int(step_text)
        if span == "*":
            low, high = field.low, field.high
        elif "-" in span:
            first, _, last = span.partition("-")
            low, high = _cron_value(cron, field, first), _cron_value(cron, field, last)
            if low > high:
                raise InputError(f'cron "{cron}": {field.name} range {span} runs backwards; list the values')
        elif has_step:
            raise InputError(f'cron "{cron}": {field.name} "{item}" needs * or a range before the step')
        else:
            low = high = _cron_value(cron, field, span)
        values.update(range(low, high + 1, step))
    if field.name == "day-of-week" and 7 in values:
        values = (values - {7}) | {0}  # crontab(5): 0 and 7 are both Sunday
    return frozenset(values)


@dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression: the expanded set of values each field allows."""

    text: str
    """The expression as written (aliases kept), fields separated by single spaces."""
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    """0 = Sunday … 6 = Saturday."""
    either_day_matches: bool
    """crontab(5): when neither day field starts with ``*``, a day matching either one fires;
    otherwise a day must match both (the one starting with ``*`` usually matches every day)."""

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        fields = text.split()
        written = " ".join(fields)
        if len(fields) == 1 and fields[0].startswith("@"):
            written = fields[0].lower()
            if written not in _ALIASES:
                raise InputError(f'cron "{text}": unknown alias; use one of {", ".join(_ALIASES)}')
            fields = _ALIASES[written].split()
        if len(fields) != 5:
            raise InputError(
                f'cron "{text}": needs 5 fields (minute hour day-of-month month day-of-week) '
                f"or an alias such as @daily, not {len(fields)}"
            )
        minutes, hours, days_of_month, months, days_of_week = (
            _expand(written, field, value) for field, value in zip(_FIELDS, fields, strict=True)
        )
        either = not fields[2].startswith("*") and not fields[4].startswith("*")
        if not either and not any(day <= _LONGEST_MONTH[month] for month in months for day in days_of_month):
            raise InputError(
                f'cron "{written}": day-of-month {fields[2]} never occurs in month {fields[3]}, '
                "so it would never run"
            )
        return cls(written, minutes, hours, days_of_month, months, days_of_week, either_day_matches=either)

    def matches_day(self, day: date) -> bool:
        in_month = day.day in self.days_of_month
        in_week = day.isoweekday() % 7 in self.days_of_week  # isoweekday: Monday 1 … Sunday 7
        return (in_month or in_week) if self.either_day_matches else (in_month and in_week)

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first matching minute strictly after ``moment``, in ``zone``'s local time, as UTC."""
        _require_aware(moment, "moment")
        start = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        for wall in self._wall_times_from(start):
            fired = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first of a repeated local time
            if fired.astimezone(zone).replace(tzinfo=None) != wall:
                continue  # in a spring-forward gap: this local time does not exist that day
            # Wall times after ``start`` can still be at or before ``moment`` when ``moment`` lies in
            # the second pass of a repeated hour; those already fired in the first pass.
            if fired > moment:
                return fired
        raise ValueError(f"cron {self.text}: no run within {_SEARCH_YEARS} years after {moment.isoformat()}")

    def _wall_times_from(self, start: datetime) -> Iterator[datetime]:
        """Matching local wall times at or after ``start``, in order, skipping months and days that
        cannot match instead of stepping minute by minute."""
        months, hours, minutes = sorted(self.months), sorted(self.hours), sorted(self.minutes)
        for year in range(start.year, min(start.year + _SEARCH_YEARS, MAXYEAR) + 1):
            for month in months:
                if (year, month) < (start.year, start.month):
                    continue
                for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
                    day = date(year, month, day_number)
                    if day < start.date() or not self.matches_day(day):
                        continue
                    for hour in hours:
                        for minute in minutes:
                            wall = datetime(year, month, day_number, hour, minute)
                            if wall >= start:
                                yield wall


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")


@dataclass(frozen=True)
class Schedule:
    """How often one organisation is scanned: every fixed interval, or at the times a cron expression
    names in ``zone``'s local time."""

    every: timedelta | None = None
    cron: CronExpression | None = None
    zone: ZoneInfo = _UTC_ZONE

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError("a Schedule needs exactly one of every and cron")
        if self.every is not None and self.every < MINIMUM_INTERVAL:
            raise ValueError(f"every must be at least {MINIMUM_INTERVAL}, got {self.every}")

    @classmethod
    def parse(cls, every: str | None, cron: str | None, zone: str = "UTC") -> Schedule:
        if every is not None and cron is not None:
            raise InputError("a schedule takes an interval (every: 6h) or cron (cron: 0 3 * * *), not both")
        if every is None and cron is None:
            raise InputError("a schedule needs an interval (every: 6h) or cron (cron: 0 3 * * *)")
        try:
            time_zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InputError(f'unknown time zone "{zone}": use an IANA name such as Asia/Tokyo') from None
        if every is not None:
            return cls(every=parse_interval(every), zone=time_zone)
        assert cron is not None
        return cls(cron=CronExpression.parse(cron), zone=time_zone)

    def next_run(self, last_started: datetime | None, now: datetime) -> datetime:
        """When the next scan is due, in UTC; a time before ``now`` means it is due now. A first
        scan is due at once, so that later scans have a baseline to compare with."""
        _require_aware(now, "now")
        if last_started is None:
            return now.astimezone(UTC)
        _require_aware(last_started, "last_started")
        if self.every is not None:
            # Add in UTC: adding to a local-time datetime is wall-clock arithmetic, off by the DST shift.
            return last_started.astimezone(UTC) + self.every
        assert self.cron is not None  # __post_init__: exactly one of every and cron
        return self.cron.next_after(last_started, self.zone)

    def describe(self) -> str:
        if self.every is not None:
            return f"every {format_interval(self.every)}"
        assert self.cron is not None
        return f"cron {self.cron.text} ({self.zone})"
