"""DMARC report analytics: volumes and pass rates over time, and the readiness to tighten the policy.

``summary`` counts the domain's mail in the reports of a window, per day and in total: DMARC pass (aligned
DKIM or aligned SPF, RFC 7489 §3), aligned DKIM, aligned SPF and what receivers did with it.
``readiness`` takes the sender inventory (``sources.py``) and answers the question a domain owner asks
before moving p=none → quarantine → reject (or a partial pct / t=y to all mail): how much of the mail
they want delivered would fail today, from which senders, and what to fix first or to publish now.

Days are those the reports' periods begin on (a report covers about a day, RFC 7489 §7.2), not those of
single messages, which reports do not date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from mimawari.dmarc.model import PublishedPolicy
from mimawari.dmarc.senders import SenderMap
from mimawari.dmarc.sources import AggregateRow, Source, inventory, window_rows, window_start
from mimawari.model import Text
from mimawari.parse.dmarc import is_dmarc_record, parse_dmarc
from mimawari.store.dmarc_models import AggregateReportRow

if TYPE_CHECKING:
    from mimawari.store import Store

SAFE_FAILING_SHARE = 0.005
"""Tightening is safe when at most 0.5 % of legitimate mail fails DMARC: the rest is the noise of broken
forwarding and one-off mistakes, small enough to fix from the failure reports after the step."""
MIN_DAYS = 7
"""Days with reports needed before any verdict: a week holds the weekly newsletter and the Monday batch."""
MIN_MESSAGES = 1000
"""Legitimate messages needed: below this, one unseen sender can hide in the gap."""


# --- summary -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    messages: int
    dmarc_pass: int
    dkim_aligned: int
    """Messages whose DKIM passed aligned with From."""
    spf_aligned: int
    none: int
    """Dispositions: what receivers did (``none`` also when they report anything but the three values of
    RFC 7489 §7.2.1.1: they applied no policy)."""
    quarantine: int
    reject: int
    dmarc_pass_rate: float
    dkim_aligned_rate: float
    spf_aligned_rate: float


@dataclass(frozen=True)
class DayVolume:
    day: date
    volume: Volume


@dataclass(frozen=True)
class DmarcSummary:
    domain: str
    since: datetime
    until: datetime
    total: Volume
    daily: tuple[DayVolume, ...]
    """Every day of the window, oldest first; days without reports have zero messages."""
    reports: int
    reporters: int
    reporter_names: tuple[str, ...]
    policy: PublishedPolicy | None
    """The policy the newest report about the domain saw published (any time, not only in the window)."""
    policy_seen: datetime | None
    """End of that report's period."""


def _volume(rows: Iterable[AggregateRow]) -> Volume:
    counts = {"messages": 0, "dmarc_pass": 0, "dkim_aligned": 0, "spf_aligned": 0}
    dispositions = {"none": 0, "quarantine": 0, "reject": 0}
    for row in rows:
        counts["messages"] += row.messages
        counts["dmarc_pass"] += row.messages * row.dmarc_pass
        counts["dkim_aligned"] += row.messages * (row.dkim == "pass")
        counts["spf_aligned"] += row.messages * (row.spf == "pass")
        disposition = row.disposition.lower()
        dispositions[disposition if disposition in dispositions else "none"] += row.messages
    m = counts["messages"]
    return Volume(
        **counts,
        **dispositions,
        dmarc_pass_rate=counts["dmarc_pass"] / m if m else 0.0,
        dkim_aligned_rate=counts["dkim_aligned"] / m if m else 0.0,
        spf_aligned_rate=counts["spf_aligned"] / m if m else 0.0,
    )


def _policy(data: Mapping[str, Any] | None) -> PublishedPolicy | None:
    if not data or not data.get("domain"):
        return None
    known = {f.name for f in fields(PublishedPolicy)}
    return PublishedPolicy(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class _Reports:
    count: int
    reporters: tuple[str, ...]
    policy: PublishedPolicy | None
    policy_seen: datetime | None


def _reports(store: Store, domain: str, since: datetime) -> _Reports:
    """What ``DmarcLedger.rows`` does not give: the reports themselves, who sent them, the newest policy."""
    in_window = (AggregateReportRow.domain == domain, AggregateReportRow.end >= since)
    by_reporter = (
        select(AggregateReportRow.org_name, func.count(AggregateReportRow.id))
        .where(*in_window)
        .group_by(AggregateReportRow.org_name)
        .order_by(AggregateReportRow.org_name)
    )
    newest = (
        select(AggregateReportRow.policy, AggregateReportRow.end)
        .where(AggregateReportRow.domain == domain)
        .order_by(AggregateReportRow.end.desc(), AggregateReportRow.id.desc())
        .limit(1)
    )
    with store._transaction() as session:
        reporters = [(name, int(count)) for name, count in session.execute(by_reporter)]
        latest = session.execute(newest).first()
    return _Reports(
        count=sum(count for _, count in reporters),
        reporters=tuple(name for name, _ in reporters),
        policy=_policy(latest[0]) if latest else None,
        policy_seen=latest[1] if latest else None,
    )


def _window_days(since: datetime, now: datetime, rows: Iterable[AggregateRow]) -> list[date]:
    first, last = since.date(), now.date()
    days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    return sorted(days | {row.day for row in rows})


def summary(store: Store, domain: str, days: int, now: datetime) -> DmarcSummary:
    """Volumes and pass rates of ``domain``'s mail in the reports of the last ``days`` days before ``now``."""
    name, rows = window_rows(store, domain, days, now)
    since = window_start(days, now)
    by_day: dict[date, list[AggregateRow]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    reports = _reports(store, name, since)
    return DmarcSummary(
        domain=name,
        since=since,
        until=now,
        total=_volume(rows),
        daily=tuple(DayVolume(day, _volume(by_day.get(day, []))) for day in _window_days(since, now, rows)),
        reports=reports.count,
        reporters=len(reports.reporters),
        reporter_names=reports.reporters,
        policy=reports.policy,
        policy_seen=reports.policy_seen,
    )


# --- readiness -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailingSource:
    name: str
    verdict: str
    failing: int
    """Its messages that fail DMARC today."""
    share: float
    """Of all legitimate mail."""
    fix: Text | None


@dataclass(frozen=True)
class Readiness:
    domain: str
    since: datetime
    until: datetime
    current: PublishedPolicy | None
    """The policy from the newest report (or parsed from ``current_record`` when given)."""
    next_policy: str | None
    """``quarantine`` or ``reject`` for all mail; None when already at p=reject for all mail, or unknown."""
    legitimate_messages: int
    legitimate_failing: int
    failing_share: float
    failing_sources: tuple[FailingSource, ...]
    """Legitimate senders with failing mail, most failing first."""
    days_with_data: int
    enough_data: bool
    safe: bool
    record: str | None
    """The DMARC record for the next step (publish it when ``safe``)."""
    advice: Text
    assumptions: tuple[Text, ...]
    sources: tuple[Source, ...]


def _partial(policy: PublishedPolicy) -> bool:
    return (policy.pct is not None and policy.pct < 100) or (policy.testing or "").lower() == "y"


def next_policy(policy: PublishedPolicy) -> str | None:
    """The next step: a partial quarantine/reject to all mail, else none → quarantine → reject."""
    p = (policy.p or "none").lower()
    if p in ("quarantine", "reject") and _partial(policy):
        return p
    return {"quarantine": "reject", "reject": None}.get(p, "quarantine")


ASSUMED_FROM_REPORT = (
    Text(
        en="Rebuilt from the policy the reports saw: reports do not carry rua= or ruf=, so add your current "
        "rua=/ruf= tags before publishing (without rua= the reports stop).",
        ja="レポートに記載されたポリシーから組み立てました。レポートには rua= / ruf= が含まれないため、公開前に現在の "
        "rua= / ruf= タグを追加してください（rua= がないとレポートが届かなくなります）。",
    ),
    Text(
        en="Reporters fill in defaults: adkim=r, aspf=r and fo=0 are left out as defaults, and sp (or np) equal to "
        "p is taken as inherited from p, so subdomains follow the new p.",
        ja="レポーターは既定値を補って記載するため、adkim=r・aspf=r・fo=0 は既定値として省き、p と同じ sp（np）は p を"
        "継承したものとみなしてサブドメインも新しい p に従うようにしています。",
    ),
)
ASSUMED_FROM_RECORD = Text(
    en="Built from the record you gave: every tag is kept except p, pct and t, which the step replaces.",
    ja="指定されたレコードから作成しました。p・pct・t 以外のタグはそのまま残しています。",
)


def record_for(policy: PublishedPolicy, p: str) -> str:
    """A record for policy ``p`` rebuilt from a report's ``policy_published`` (see ASSUMED_FROM_REPORT)."""
    tags = [("p", p)]
    if policy.sp and policy.sp != policy.p:
        tags.append(("sp", policy.sp))
    if policy.np and policy.np != (policy.sp or policy.p):
        tags.append(("np", policy.np))
    tags += [(name, "s") for name in ("adkim", "aspf") if (getattr(policy, name) or "").lower() == "s"]
    if policy.fo and policy.fo != "0":
        tags.append(("fo", policy.fo))
    return "; ".join(["v=DMARC1", *(f"{name}={value}" for name, value in tags)])


def _from_record(text: str, domain: str) -> PublishedPolicy:
    record = parse_dmarc(text)
    pct = record.pct
    return PublishedPolicy(
        domain=domain,
        p=record.tag("p"),
        sp=record.tag("sp"),
        np=record.tag("np"),
        adkim=record.tag("adkim"),
        aspf=record.tag("aspf"),
        pct=pct,
        fo=record.tag("fo"),
        testing=record.tag("t"),
    )


def _advice(
    domain: str,
    step: str | None,
    current: PublishedPolicy | None,
    failing: tuple[FailingSource, ...],
    share: float,
    days_with_data: int,
    legitimate: int,
    record: str | None,
) -> Text:
    if current is None:
        return Text(
            en=f"No aggregate reports about {domain} in the window: publish a DMARC record with p=none and "
            "rua= and collect reports first.",
            ja=f"期間内に {domain} の集計レポートがありません。まず p=none と rua= を含む DMARC レコードを公開し、"
            "レポートを集めてください。",
        )
    if step is None:
        return Text(
            en=f"{domain} is already at p=reject for all mail: nothing left to tighten; keep watching the reports.",
            ja=f"{domain} はすでに全メールに p=reject を適用しています。これ以上強化する段階はありません。レポートの監視を続けてください。",
        )
    percent = f"{100 * share:.2f}"
    if days_with_data < MIN_DAYS or legitimate < MIN_MESSAGES:
        return Text(
            en=f"Not enough data to decide on p={step}: {days_with_data} days with reports and {legitimate} "
            f"legitimate messages; wait for at least {MIN_DAYS} days and {MIN_MESSAGES} messages.",
            ja=f"p={step} へ進むか判断するにはデータが足りません（レポートのある日数 {days_with_data} 日、正規メール "
            f"{legitimate} 通）。少なくとも {MIN_DAYS} 日・{MIN_MESSAGES} 通を待ってください。",
        )
    if share > SAFE_FAILING_SHARE:
        first = failing[:3]
        en = "; ".join(
            f"{s.name} ({s.failing} messages): {s.fix.en if s.fix else 'find out why it fails'}"
            for s in first
        )
        ja = "／".join(
            f"{s.name}（{s.failing} 通）: {s.fix.ja if s.fix else '失敗の原因を調べてください'}"
            for s in first
        )
        limit = f"{100 * SAFE_FAILING_SHARE:g}"
        return Text(
            en=f"Not yet: {percent}% of legitimate mail would fail under p={step} (at most {limit}% is safe). "
            f"Fix first: {en}",
            ja=f"まだ早いです。p={step} にすると正規メールの {percent}% が不合格になります（安全な上限は {limit}%）。"
            f"先に修正してください: {ja}",
        )
    return Text(
        en=f"Safe to move to p={step}: {percent}% of legitimate mail would fail. Publish at _dmarc.{domain}: {record}",
        ja=f"p={step} に進めて安全です（不合格になる正規メールは {percent}%）。_dmarc.{domain} に次のレコードを公開してください: {record}",
    )


def readiness(
    store: Store,
    domain: str,
    days: int,
    now: datetime,
    reverse: Mapping[str, str | None] | None = None,
    *,
    current_record: str | None = None,
    senders: SenderMap | None = None,
) -> Readiness:
    """Whether ``domain`` can take the next policy step today, on the reports of the last ``days`` days.

    ``current_record`` is the DMARC record published now (the TXT at ``_dmarc.<domain>``, looked up by the
    caller through ``observe``): given, the next record keeps its rua/ruf and other tags exactly; without
    it the record is rebuilt from the newest report's ``policy_published`` (``assumptions`` says how).
    """
    name, rows = window_rows(store, domain, days, now)
    since = window_start(days, now)
    found = inventory(rows, name, reverse, senders)
    reports = _reports(store, name, since)
    current, assumptions = reports.policy, tuple[Text, ...](ASSUMED_FROM_REPORT)
    if current_record is not None and is_dmarc_record(current_record):
        current, assumptions = _from_record(current_record, name), (ASSUMED_FROM_RECORD,)
    step = next_policy(current) if current is not None else None
    record = None
    if current is not None and step is not None:
        if current_record is not None and is_dmarc_record(current_record):
            record = parse_dmarc(current_record).rebuilt(p=step, pct=None, t=None)
        else:
            record = record_for(current, step)
    legitimate = [s for s in found if s.verdict.legitimate]
    legitimate_messages = sum(s.messages for s in legitimate)
    legitimate_failing = sum(s.dmarc_fail for s in legitimate)
    share = legitimate_failing / legitimate_messages if legitimate_messages else 0.0
    failing = tuple(
        FailingSource(s.name, s.verdict.value, s.dmarc_fail, s.dmarc_fail / legitimate_messages, s.fix)
        for s in sorted(legitimate, key=lambda s: (-s.dmarc_fail, s.name))
        if s.dmarc_fail
    )
    days_with_data = len({row.day for row in rows if row.messages})
    enough = days_with_data >= MIN_DAYS and legitimate_messages >= MIN_MESSAGES
    return Readiness(
        domain=name,
        since=since,
        until=now,
        current=current,
        next_policy=step,
        legitimate_messages=legitimate_messages,
        legitimate_failing=legitimate_failing,
        failing_share=share,
        failing_sources=failing,
        days_with_data=days_with_data,
        enough_data=enough,
        safe=bool(current is not None and step is not None and enough and share <= SAFE_FAILING_SHARE),
        record=record,
        advice=_advice(name, step, current, failing, share, days_with_data, legitimate_messages, record),
        assumptions=assumptions if record is not None else (),
        sources=found,
    )
