"""Scan schedules: interval and cron parsing, next run times across month/year ends and DST changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mimawari.errors import InputError
from mimawari.monitor.schedule import CronExpression, Schedule, format_interval, parse_interval

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST moves the clock by 30 minutes, not an hour


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- intervals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("60s", timedelta(minutes=1)),
        ("1m", timedelta(minutes=1)),
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("30m1h", timedelta(hours=1, minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("1H30M", timedelta(hours=1, minutes=30)),
        (" 1h 30m ", timedelta(hours=1, minutes=30)),
        ("0h1m", timedelta(minutes=1)),
    ],
)
def test_parse_interval_reads_units_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30s", 'interval "30s" is shorter than 1 minute'),
        ("59s", "shorter than 1 minute"),
        ("0m", "shorter than 1 minute"),
        ("", "is not understood"),
        ("6", "is not understood"),
        ("h", "is not understood"),
        ("1.5h", "is not understood"),
        ("-1h", "is not understood"),
        ("1y", "is not understood"),
        ("six hours", "is not understood"),
        ("1h1h", "gives the unit h twice"),
        ("1h30m15m", "gives the unit m twice"),
        ("9" * 5000 + "w", "is too long"),
        ("2000000000d", "is too long"),
    ],
)
def test_parse_interval_rejects_with_one_line_saying_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_interval(text)
    assert "\n" not in str(caught.value)
    assert "s, m, h, d or w" in str(caught.value)


@pytest.mark.parametrize(
    ("every", "text"),
    [
        (timedelta(hours=6), "6h"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(days=14), "2w"),
        (timedelta(days=1, hours=12), "1d12h"),
        (timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5), "1w2d3h4m5s"),
    ],
)
def test_format_interval_is_what_parse_interval_reads(every: timedelta, text: str) -> None:
    assert format_interval(every) == text
    assert parse_interval(text) == every


# --- parsing cron ------------------------------------------------------------------------------

ALL_MINUTES = frozenset(range(60))
ALL_DAYS_OF_WEEK = frozenset(range(7))


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("* * * * *", "minutes", ALL_MINUTES),
        ("* * * * *", "days_of_week", ALL_DAYS_OF_WEEK),
        ("*/15 * * * *", "minutes", {0, 15, 30, 45}),
        ("0-30/10 * * * *", "minutes", {0, 10, 20, 30}),
        ("5,10-12,59 * * * *", "minutes", {5, 10, 11, 12, 59}),
        ("0 */6 * * *", "hours", {0, 6, 12, 18}),
        ("0 8-17/3 * * *", "hours", {8, 11, 14, 17}),
        ("0 0 */10 * *", "days_of_month", {1, 11, 21, 31}),
        ("0 0 * jan,JUL,Dec *", "months", {1, 7, 12}),
        ("0 0 * mar-may *", "months", {3, 4, 5}),
        ("0 0 * */4 *", "months", {1, 5, 9}),
        ("0 0 * * MON-fri", "days_of_week", {1, 2, 3, 4, 5}),
        ("0 0 * * sun", "days_of_week", {0}),
        ("0 0 * * 7", "days_of_week", {0}),
        ("0 0 * * 0,7", "days_of_week", {0}),
        ("0 0 * * 5-7", "days_of_week", {0, 5, 6}),
        ("0 0 * * */2", "days_of_week", {0, 2, 4, 6}),
        ("0 0 * * 1-7/2", "days_of_week", {0, 1, 3, 5}),
        ("07 03 * * *", "minutes", {7}),
        ("@hourly", "minutes", {0}),
        ("@hourly", "hours", frozenset(range(24))),
        ("@daily", "hours", {0}),
        ("@midnight", "hours", {0}),
        ("@weekly", "days_of_week", {0}),
        ("@monthly", "days_of_month", {1}),
        ("@yearly", "months", {1}),
        ("@annually", "days_of_month", {1}),
    ],
)
def test_cron_fields_expand_to_sets(text: str, field: str, expected: set[int]) -> None:
    assert getattr(CronExpression.parse(text), field) == expected


@pytest.mark.parametrize(
    ("text", "either"),
    [
        ("0 0 * * *", False),
        ("0 0 1 * *", False),
        ("0 0 * * mon", False),
        ("0 0 1 * mon", True),
        ("0 0 1-31 * mon", True),  # crontab(5) looks at how the field is written, not what it expands to
        ("0 0 */2 * mon", False),
        ("0 0 13 * */2", False),
    ],
)
def test_day_fields_match_either_only_when_neither_starts_with_a_star(text: str, either: bool) -> None:
    assert CronExpression.parse(text).either_day_matches is either


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("  0   3 * * *  ", "0 3 * * *"),
        ("0\t3 * * *", "0 3 * * *"),
        ("@DAILY", "@daily"),
        ("0 0 29 2 *", "0 0 29 2 *"),  # exists in leap years
        ("0 0 31 1,2 *", "0 0 31 1,2 *"),  # January has a 31st
        ("0 0 31 2 mon", "0 0 31 2 mon"),  # either day field: every Monday in February
    ],
)
def test_cron_keeps_the_expression_as_written(text: str, written: str) -> None:
    assert CronExpression.parse(text).text == written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61 * * * *", re.escape('cron "61 * * * *": minute 61 is not in 0–59')),
        ("99999 * * * *", "minute 99999 is not in 0–59"),
        ("* 24 * * *", "hour 24 is not in 0–23"),
        ("* * 0 * *", "day-of-month 0 is not in 1–31"),
        ("* * 32 * *", "day-of-month 32 is not in 1–31"),
        ("* * * 0 *", "month 0 is not in 1–12"),
        ("* * * 13 *", "month 13 is not in 1–12"),
        ("* * * * 8", "day-of-week 8 is not in 0–7"),
        ("* * * foo *", 'month "foo" is not a number in 1–12 or jan–dec'),
        ("* * * mon *", 'month "mon" is not a number in 1–12 or jan–dec'),
        ("* * * * jan", 'day-of-week "jan" is not a number in 0–7 or sun–sat'),
        ("* * * * funday", 'day-of-week "funday" is not'),
        ("x * * * *", 'minute "x" is not a number in 0–59'),
        ("1.5 * * * *", 'minute "1.5" is not a number'),
        ("-5 * * * *", 'minute "" is not a number'),
        ("1,,2 * * * *", 'minute "" is not a number'),
        ("1-2-3 * * * *", 'minute "2-3" is not a number'),
        ("*/0 * * * *", 'minute step "0" is not in 1–60'),
        ("*/61 * * * *", 'minute step "61" is not in 1–60'),
        ("*/x * * * *", 'minute step "x" is not in 1–60'),
        ("*/ * * * *", 'minute step "" is not in 1–60'),
        ("* */25 * * *", 'hour step "25" is not in 1–24'),
        ("5/15 * * * *", 'minute "5/15" needs \\* or a range before the step'),
        ("30-10 * * * *", "minute range 30-10 runs backwards"),
        ("0 0 * * fri-mon", "day-of-week range fri-mon runs backwards"),
        ("* * * *", "needs 5 fields .* not 4"),
        ("0 * * * * *", "needs 5 fields .* not 6"),
        ("", "needs 5 fields .* not 0"),
        ("@reboot", 'cron "@reboot": unknown alias; use one of @hourly'),
        ("@daily *", "needs 5 fields"),
        ("0 0 31 2 *", 'cron "0 0 31 2 \\*": day-of-month 31 never occurs in month 2, so it would never run'),
        ("0 0 30,31 feb *", "day-of-month 30,31 never occurs in month feb"),
        ("0 0 31 4,6,9,11 *", "never occurs"),
        ("0 0 31 2 */2", "never occurs"),  # day-of-week starts with *, so both must match
    ],
)
def test_cron_rejects_with_one_line_naming_field_and_value(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        CronExpression.parse(text)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("cron ")


# --- next run of a cron expression -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment", "expected"),
    [
        ("0 0 1 1 *", "2024-12-31 23:59", "2025-01-01 00:00"),
        ("0 0 1 * *", "2024-01-31 12:00", "2024-02-01 00:00"),
        ("59 23 31 * *", "2024-04-01 00:00", "2024-05-31 23:59"),
        ("0 0 31 * *", "2024-01-31 00:00", "2024-03-31 00:00"),
        ("30 23 31 12 *", "2024-12-31 23:30", "2025-12-31 23:30"),
        ("0 12 29 2 *", "2024-02-28 00:00", "2024-02-29 12:00"),
        ("0 12 29 2 *", "2024-03-01 00:00", "2028-02-29 12:00"),
        ("0 12 29 2 *", "2099-03-01 00:00", "2104-02-29 12:00"),  # 2100 is no leap year
        ("0 0 29 2 */7", "2024-03-01 00:00", "2032-02-29 00:00"),  # a leap day that is a Sunday
        ("0 0 13 * fri", "2024-09-01 00:00", "2024-09-06 00:00"),  # a Friday, not the 13th
        ("0 0 13 * fri", "2024-09-07 00:00", "2024-09-13 00:00"),  # Friday the 13th
        ("0 0 13 * fri", "2024-10-12 00:00", "2024-10-13 00:00"),  # the 13th, a Sunday
        ("0 0 */2 * mon", "2024-09-01 00:00", "2024-09-09 00:00"),  # an odd day AND a Monday
        ("10-20/5 8-17/3 * * *", "2024-01-01 00:00", "2024-01-01 08:10"),
        ("10-20/5 8-17/3 * * *", "2024-01-01 08:20", "2024-01-01 11:10"),
        ("10-20/5 8-17/3 * * *", "2024-01-01 17:20", "2024-01-02 08:10"),
        ("0 9 * feb,AUG Mon-Fri", "2024-07-31 12:00", "2024-08-01 09:00"),
        ("0 9 * feb,aug mon-fri", "2024-08-30 12:00", "2025-02-03 09:00"),
        ("0 9 * * 7", "2024-05-04 12:00", "2024-05-05 09:00"),
        ("0 12 * * *", "2024-05-05 12:00", "2024-05-06 12:00"),  # strictly after
        ("0 12 * * *", "2024-05-05 11:59:59.999999", "2024-05-05 12:00"),
        ("0 12 * * *", "2024-05-05 12:00:01", "2024-05-06 12:00"),
        ("* * * * *", "2024-05-05 12:00:30", "2024-05-05 12:01"),
        ("* * * * *", "2024-12-31 23:59", "2025-01-01 00:00"),
        ("@hourly", "2024-05-05 12:00", "2024-05-05 13:00"),
        ("@weekly", "2024-05-05 00:00", "2024-05-12 00:00"),
        ("@monthly", "2024-12-15 00:00", "2025-01-01 00:00"),
        ("@yearly", "2024-06-01 00:00", "2025-01-01 00:00"),
    ],
)
def test_next_after_in_utc(text: str, moment: str, expected: str) -> None:
    fired = CronExpression.parse(text).next_after(utc(moment), ZoneInfo("UTC"))
    assert fired == utc(expected)
    assert fired.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "zone", "moment", "expected"),
    [
        ("0 3 * * *", TOKYO, "2024-06-01 00:00", "2024-06-01 18:00"),
        ("0 3 * * *", TOKYO, "2024-05-31 17:00", "2024-05-31 18:00"),
        ("0 0 1 * *", TOKYO, "2024-01-31 14:00", "2024-01-31 15:00"),  # 1 February in Tokyo
        # New York springs forward at 02:00 EST on 10 March 2024: 02:00–02:59 do not exist.
        ("30 2 * * *", NEW_YORK, "2024-03-09 12:00", "2024-03-11 06:30"),
        ("30 1 * * *", NEW_YORK, "2024-03-09 12:00", "2024-03-10 06:30"),
        ("0 3 * * *", NEW_YORK, "2024-03-09 12:00", "2024-03-10 07:00"),
        ("* * * * *", NEW_YORK, "2024-03-10 06:59", "2024-03-10 07:00"),
        # New York falls back at 02:00 EDT on 3 November 2024: 01:00–01:59 happen twice.
        ("30 1 * * *", NEW_YORK, "2024-11-02 12:00", "2024-11-03 05:30"),
        ("30 1 * * *", NEW_YORK, "2024-11-03 05:30", "2024-11-04 06:30"),
        ("*/30 * * * *", NEW_YORK, "2024-11-03 05:30", "2024-11-03 07:00"),
        ("*/30 * * * *", NEW_YORK, "2024-11-03 06:10", "2024-11-03 07:00"),  # inside the second pass
        ("0 2 * * *", NEW_YORK, "2024-11-02 12:00", "2024-11-03 07:00"),
        # Berlin: 02:00–02:59 missing on 31 March 2024, twice on 27 October 2024.
        ("30 2 * * *", BERLIN, "2024-03-30 12:00", "2024-04-01 00:30"),
        ("30 2 * * *", BERLIN, "2024-10-26 12:00", "2024-10-27 00:30"),
        ("30 2 * * *", BERLIN, "2024-10-27 00:30", "2024-10-28 01:30"),
    ],
)
def test_next_after_in_local_time_across_dst(text: str, zone: ZoneInfo, moment: str, expected: str) -> None:
    fired = CronExpression.parse(text).next_after(utc(moment), zone)
    assert fired == utc(expected)
    assert fired.tzinfo is UTC


def test_next_after_accepts_a_moment_in_any_zone() -> None:
    moment = datetime(2024, 6, 1, 9, 0, tzinfo=TOKYO)
    assert CronExpression.parse("0 3 * * *").next_after(moment, TOKYO) == utc("2024-06-01 18:00")


def brute_force_next(cron: CronExpression, moment: datetime, zone: ZoneInfo) -> datetime | None:
    """Minute by minute in UTC, as a slow reference: the first minute whose local time matches."""
    minute = moment.astimezone(UTC).replace(second=0, microsecond=0)
    for _ in range(16 * 24 * 60):
        minute += timedelta(minutes=1)
        local = minute.astimezone(zone)
        if local.fold:
            continue  # the second pass of a repeated local time; it fired on the first
        in_month = local.day in cron.days_of_month
        in_week = int(local.strftime("%w")) in cron.days_of_week
        day = (in_month or in_week) if cron.either_day_matches else (in_month and in_week)
        if day and local.minute in cron.minutes and local.hour in cron.hours and local.month in cron.months:
            return minute
    return None


# 23:30 local time the evening before each 2024 transition (and a zone without DST).
EVENINGS_BEFORE_DST_CHANGES = [
    (NEW_YORK, "2024-03-10 04:30"),
    (NEW_YORK, "2024-11-03 03:30"),
    (BERLIN, "2024-03-30 22:30"),
    (BERLIN, "2024-10-26 21:30"),
    (LORD_HOWE, "2024-04-06 12:30"),
    (LORD_HOWE, "2024-10-05 13:00"),
    (TOKYO, "2024-06-01 14:30"),
]


@pytest.mark.parametrize(("zone", "moment"), EVENINGS_BEFORE_DST_CHANGES)
@pytest.mark.parametrize(
    "text", ["*/20 1-3 * * *", "0,30 * * * *", "15 2 * * *", "45 1 * * *", "* 2 * * sun"]
)
def test_next_after_agrees_with_minute_by_minute_search_around_dst(
    zone: ZoneInfo, moment: str, text: str
) -> None:
    assert utc(moment).astimezone(zone).strftime("%H:%M") == "23:30"
    cron = CronExpression.parse(text)
    current = utc(moment)
    for _ in range(10):  # walk run by run through the night of the change
        expected = brute_force_next(cron, current, zone)
        assert expected is not None
        assert cron.next_after(current, zone) == expected
        current = expected


def test_next_after_rejects_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        CronExpression.parse("@daily").next_after(datetime(2024, 1, 1), TOKYO)


# --- schedules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "cron", "zone", "message"),
    [
        ("6h", "0 3 * * *", "UTC", "not both"),
        (None, None, "UTC", "needs an interval"),
        ("6h", None, "Asia/Tokio", 'unknown time zone "Asia/Tokio": use an IANA name'),
        (None, "0 3 * * *", "", "unknown time zone"),
        (None, "0 3 * * *", "utc", "unknown time zone"),
        (None, "0 3 * * *", "../../etc/passwd", "unknown time zone"),
        (None, "0 3 * * *", "/etc/localtime", "unknown time zone"),
        (None, "0 3 * * *", "America", "unknown time zone"),
        ("30s", None, "UTC", "shorter than 1 minute"),
        (None, "0 3 * *", "UTC", "needs 5 fields"),
    ],
)
def test_schedule_parse_rejects(every: str | None, cron: str | None, zone: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        Schedule.parse(every, cron, zone)
    assert "\n" not in str(caught.value)


def test_schedule_parse_builds_interval_or_cron() -> None:
    assert Schedule.parse("6h", None) == Schedule(every=timedelta(hours=6), zone=ZoneInfo("UTC"))
    tokyo = Schedule.parse(None, "0 3 * * *", "Asia/Tokyo")
    assert tokyo.cron == CronExpression.parse("0 3 * * *")
    assert tokyo.every is None
    assert tokyo.zone == TOKYO


@pytest.mark.parametrize(
    ("every", "cron"),
    [(None, None), (timedelta(hours=1), CronExpression.parse("@daily")), (timedelta(seconds=30), None)],
)
def test_schedule_refuses_impossible_construction(
    every: timedelta | None, cron: CronExpression | None
) -> None:
    with pytest.raises(ValueError, match="every"):
        Schedule(every=every, cron=cron)


NOW = utc("2024-06-05 12:00")


@pytest.mark.parametrize(
    ("every", "cron", "zone", "last_started", "expected"),
    [
        ("6h", None, "UTC", None, NOW),
        ("6h", None, "UTC", utc("2024-06-05 10:00"), utc("2024-06-05 16:00")),
        ("6h", None, "UTC", utc("2024-06-01 00:00"), utc("2024-06-01 06:00")),  # overdue: due now
        ("1h30m", None, "Asia/Tokyo", utc("2024-06-05 11:00"), utc("2024-06-05 12:30")),
        # Six real hours after 00:00 EST on the day New York springs forward: 07:00 EDT, not 06:00.
        ("6h", None, "UTC", datetime(2024, 3, 10, 0, 0, tzinfo=NEW_YORK), utc("2024-03-10 11:00")),
        (None, "0 3 * * *", "Asia/Tokyo", None, NOW),  # never scanned: at once, for a baseline
        (None, "0 3 * * *", "Asia/Tokyo", utc("2024-06-04 18:00"), utc("2024-06-05 18:00")),
        (None, "0 3 * * *", "Asia/Tokyo", utc("2024-06-01 18:00"), utc("2024-06-02 18:00")),  # overdue
        (None, "0 3 * * *", "UTC", utc("2024-06-04 18:00"), utc("2024-06-05 03:00")),
    ],
)
def test_next_run(
    every: str | None, cron: str | None, zone: str, last_started: datetime | None, expected: datetime
) -> None:
    due = Schedule.parse(every, cron, zone).next_run(last_started, NOW)
    assert due == expected
    assert due.tzinfo is UTC


def test_next_run_answers_in_utc_whatever_zone_now_is_in() -> None:
    now = datetime(2024, 6, 5, 21, 0, tzinfo=TOKYO)
    due = Schedule.parse("6h", None).next_run(None, now)
    assert due == now
    assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("last_started", "now"),
    [(None, datetime(2024, 6, 5)), (datetime(2024, 6, 5), NOW)],
)
@pytest.mark.parametrize(("every", "cron"), [("6h", None), (None, "@daily")])
def test_next_run_rejects_naive_datetimes(
    last_started: datetime | None, now: datetime, every: str | None, cron: str | None
) -> None:
    with pytest.raises(ValueError, match="aware"):
        Schedule.parse(every, cron).next_run(last_started, now)


@pytest.mark.parametrize(
    ("every", "cron", "zone", "description"),
    [
        ("6h", None, "UTC", "every 6h"),
        ("90m", None, "UTC", "every 1h30m"),
        ("90s", None, "Asia/Tokyo", "every 1m30s"),
        ("14d", None, "UTC", "every 2w"),
        (None, "0 3 * * *", "Asia/Tokyo", "cron 0 3 * * * (Asia/Tokyo)"),
        (None, " 0  3 * * MON ", "UTC", "cron 0 3 * * MON (UTC)"),
        (None, "@Daily", "Europe/Berlin", "cron @daily (Europe/Berlin)"),
    ],
)
def test_describe(every: str | None, cron: str | None, zone: str, description: str) -> None:
    assert Schedule.parse(every, cron, zone).describe() == description
