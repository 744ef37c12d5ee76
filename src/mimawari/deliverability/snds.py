"""Microsoft SNDS (Smart Network Data Services): what Outlook.com saw from each sending IP, per day.

The export (the web page's CSV, or ``data.aspx`` of Automated Data Access) has one row per IP and day:
IP address, Activity start, Activity end, RCPT commands, DATA commands, Message recipients, Filter result
(GREEN / YELLOW / RED), Complaint rate, Trap message start, Trap message end, Trap hits, Sample HELO,
JMR P1 Sender, Comments. The automated export has no header row; a first row naming the columns is
skipped. Times are ``9/29/2026 9:00 PM``; a row counts for the day its activity ended.

SNDS knows IPs, not domains: the rows are attributed to the domain given on import. The complaint rate
is complaints per message recipient, shown in bands: ``< 0.1%`` (an upper bound), or a percentage. An
IP's rows of one day combine into one daily figure, weighted by message recipients; when any IP's figure
is only an upper bound the combined figure is one too (``< 0.1%`` and ``< 0.1%`` stay ``< 0.1%``; ``<
0.1%`` over 9,000 recipients and ``0.3%`` over 1,000 give at most 0.12 %). A lower bound (``> 10%``)
counts as its value. A row without a complaint rate adds its recipients to the volume only.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from mimawari.deliverability.exports import read_export
from mimawari.errors import InputError
from mimawari.model import SpamRateDay

SOURCE = "microsoft-snds"
COLUMNS = 14
_NEEDED = 8
"""Up to Complaint rate: the columns the daily figure needs."""
_TIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_RATE = re.compile(r"^(?P<op><=?|>=?)?\s*(?P<value>\d+(?:\.\d+)?)\s*%$")
_NO_RATE = frozenset({"", "-", "n/a", "na"})


@dataclass(frozen=True)
class SndsRow:
    ip: str
    day: str
    recipients: int
    rate: float | None
    upper_bound: bool


def read_file(path: Path) -> tuple[SpamRateDay, ...]:
    """The daily figures in an SNDS export, oldest first; ``InputError`` naming the line for a bad row."""
    data = read_export(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text (UTF-8) CSV file") from None
    return combined(parse(text, str(path)))


def parse(text: str, origin: str) -> list[SndsRow]:
    rows: list[SndsRow] = []
    try:
        for number, fields in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not any(field.strip() for field in fields):
                continue
            if number == 1 and fields[0].strip().lower() in ("ip address", "ip"):
                continue  # the web export's header row
            rows.append(_row(fields, f"{origin}: line {number}"))
    except csv.Error as error:
        raise InputError(f"{origin}: not a CSV file ({error})") from None
    if not rows:
        raise InputError(
            f"{origin}: no SNDS rows (expected {COLUMNS} columns: IP address, Activity start, …)"
        )
    return rows


def _row(fields: list[str], where: str) -> SndsRow:
    if len(fields) < _NEEDED:
        raise InputError(
            f"{where}: {len(fields)} columns, expected {COLUMNS} (IP address, Activity start, Activity end, "
            "RCPT commands, DATA commands, Message recipients, Filter result, Complaint rate, …)"
        )
    ip = fields[0].strip()
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise InputError(f"{where}: {ip[:60]!r} is not an IP address") from None
    recipients = fields[5].strip().replace(",", "")
    if not recipients.isdigit():
        raise InputError(f"{where}: Message recipients {fields[5][:40]!r} is not a count")
    rate, bound = _rate(fields[7], where)
    return SndsRow(ip, _day(fields[2], where), int(recipients), rate, bound)


def _day(text: str, where: str) -> str:
    value = " ".join(text.split())
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(value, layout).date().isoformat()
        except ValueError:
            continue
    raise InputError(f"{where}: Activity end {text[:40]!r} is not a time such as 9/29/2026 9:00 PM")


def _rate(text: str, where: str) -> tuple[float | None, bool]:
    """``< 0.1%`` → (0.001, upper bound); ``0.3%`` → (0.003, exact); blank → no rate."""
    value = " ".join(text.split())
    if value.lower() in _NO_RATE:
        return None, False
    found = _RATE.match(value)
    if found is None:
        raise InputError(f"{where}: Complaint rate {text[:40]!r} is not a percentage such as < 0.1% or 0.3%")
    try:
        ratio = Decimal(found["value"]) / 100
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
        raise InputError(f"{where}: Complaint rate {text[:40]!r} is not a number") from None
    if ratio > 1:
        raise InputError(f"{where}: Complaint rate {text[:40]!r} is over 100%")
    return float(ratio), (found["op"] or "").startswith("<")


def combined(rows: list[SndsRow]) -> tuple[SpamRateDay, ...]:
    """One figure per day: the IPs' rates weighted by their message recipients."""
    by_day: defaultdict[str, list[SndsRow]] = defaultdict(list)
    for row in rows:
        by_day[row.day].append(row)
    return tuple(_day_figure(day, by_day[day]) for day in sorted(by_day))


def _day_figure(day: str, rows: list[SndsRow]) -> SpamRateDay:
    volume = sum(row.recipients for row in rows)
    rated = [row for row in rows if row.rate is not None]
    if not rated:
        return SpamRateDay(day, SOURCE, None, None, volume)
    weight = sum(row.recipients for row in rated)
    # Decimal: "0.3%" over any recipients must come out as exactly 0.003, the threshold itself.
    if weight:
        total = sum(Decimal(repr(row.rate)) * row.recipients for row in rated)
        rate = float(total / weight)
    else:  # rates without recipients (a hand-made file): each IP counts once
        rate = float(sum(Decimal(repr(row.rate)) for row in rated) / len(rated))
    return SpamRateDay(day, SOURCE, rate, None, volume, any(row.upper_bound for row in rated))
