"""``mimawari dmarc summary|sources|readiness DOMAIN``: what the stored aggregate reports say."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from mimawari.cli_console import ListFormat, ListFormatOption, out, user_errors
from mimawari.cli_options import (
    AttemptsOption,
    LangOption,
    Language,
    NameserverOption,
    TimeoutOption,
    dns_client,
    lang_of,
)
from mimawari.cli_org import DatabaseOption, opened
from mimawari.dmarc.analytics import Readiness, readiness, summary
from mimawari.dmarc.sources import Source, source_ips, sources
from mimawari.model import Lang, Target
from mimawari.observations.dmarc import DMARC
from mimawari.observe import DnsClient, Network, run_plan
from mimawari.observe.rdns import ptr_names, reverse_names
from mimawari.parse.names import normalize_domain
from mimawari.serial import to_jsonable
from mimawari.store import Store

DomainArgument = Annotated[
    str, typer.Argument(metavar="DOMAIN", help="The domain the reports are about.", show_default=False)
]
DaysOption = Annotated[int, typer.Option(min=1, max=3650, metavar="DAYS", help="How many days back.")]
ReverseOption = Annotated[
    bool, typer.Option("--reverse-dns/--no-reverse-dns", help="Look up the senders' PTR names (DNS queries).")
]


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def _reverse(
    store: Store, domain: str, days: int, now: datetime, dns: DnsClient | None
) -> dict[str, str | None] | None:
    if dns is None:
        return None
    return ptr_names(asyncio.run(reverse_names(source_ips(store, domain, days, now), dns)))


def _json(value: object) -> None:
    out.print_json(json.dumps(to_jsonable(value), ensure_ascii=False))


def summary_command(
    domain: DomainArgument,
    days: DaysOption = 30,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """Volumes and pass rates per day: DMARC, aligned DKIM, aligned SPF, dispositions."""
    with user_errors(), opened(database) as store:
        found = summary(store, normalize_domain(domain), days, datetime.now(UTC))
        if output_format is ListFormat.JSON:
            _json(found)
            return
        total = found.total
        policy = f"p={found.policy.p}" if found.policy is not None and found.policy.p else "no report yet"
        out.print(
            f"{found.domain}: {total.messages} messages in {found.reports} report(s) from {found.reporters} "
            f"reporter(s), {found.since:%Y-%m-%d} … {found.until:%Y-%m-%d}; policy seen: {policy}",
            markup=False,
        )
        table = Table(
            "day",
            "messages",
            "DMARC pass",
            "DKIM aligned",
            "SPF aligned",
            "quarantined",
            "rejected",
            box=None,
        )
        for day in found.daily:
            v = day.volume
            if v.messages:
                table.add_row(
                    f"{day.day:%Y-%m-%d}",
                    str(v.messages),
                    _percent(v.dmarc_pass_rate),
                    _percent(v.dkim_aligned_rate),
                    _percent(v.spf_aligned_rate),
                    str(v.quarantine),
                    str(v.reject),
                )
        table.add_row(
            "total",
            str(total.messages),
            _percent(total.dmarc_pass_rate),
            _percent(total.dkim_aligned_rate),
            _percent(total.spf_aligned_rate),
            str(total.quarantine),
            str(total.reject),
        )
        out.print(table)


def sources_command(
    domain: DomainArgument,
    days: DaysOption = 30,
    reverse_dns: ReverseOption = True,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    lang: LangOption = Language.EN,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """Who sends mail as the domain, grouped by organisation, with a verdict and the fix."""
    with user_errors(), opened(database) as store:
        name, now = normalize_domain(domain), datetime.now(UTC)
        dns = dns_client(nameserver, timeout, attempts) if reverse_dns else None
        found = sources(store, name, days, now, _reverse(store, name, days, now, dns))
        if output_format is ListFormat.JSON:
            _json(found)
            return
        _print_sources(found, lang_of(lang))


def _print_sources(found: tuple[Source, ...], lang: Lang) -> None:
    if not found:
        out.print("no report about this domain in the window: mimawari dmarc ingest …", markup=False)
        return
    table = Table("source", "verdict", "messages", "DMARC pass", "DKIM d=", "SPF domain", "seen", box=None)
    for source in found:
        table.add_row(
            source.name,
            source.verdict.value,
            str(source.messages),
            _percent(source.dmarc_pass_rate),
            ", ".join(source.dkim_domains) or "—",
            ", ".join(source.spf_domains) or "—",
            f"{source.first_seen:%m-%d}…{source.last_seen:%m-%d}",
        )
    out.print(table)
    for source in found:
        if source.fix is not None:
            out.print(f"{source.name} ({source.verdict.value}): {source.fix.get(lang)}", markup=False)


def readiness_command(
    domain: DomainArgument,
    days: DaysOption = 30,
    reverse_dns: ReverseOption = True,
    nameserver: NameserverOption = None,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    lang: LangOption = Language.EN,
    output_format: ListFormatOption = ListFormat.TEXT,
    database: DatabaseOption = None,
) -> None:
    """Whether the next policy step (none → quarantine → reject) is safe, and the record to publish."""
    with user_errors(), opened(database) as store:
        name, now = normalize_domain(domain), datetime.now(UTC)
        dns = dns_client(nameserver, timeout, attempts) if reverse_dns else None
        record = _current_record(name, dns) if dns is not None else None
        found = readiness(
            store, name, days, now, _reverse(store, name, days, now, dns), current_record=record
        )
        if output_format is ListFormat.JSON:
            _json(found)
            return
        _print_readiness(found, lang_of(lang))


def _current_record(domain: str, dns: DnsClient) -> str | None:
    """The DMARC record published now, so that the record offered keeps its rua/ruf (None on failure)."""
    network = Network(dns=dns)
    observation = asyncio.run(run_plan(DMARC.plan(Target(domain)), network))
    return observation.record.text if observation.record is not None else None


def _print_readiness(found: Readiness, lang: Lang) -> None:
    current = f"p={found.current.p}" if found.current is not None and found.current.p else "unknown"
    step = f"→ p={found.next_policy}" if found.next_policy else "(already at the strictest policy)"
    out.print(f"{found.domain}: policy {current} {step}", markup=False)
    out.print(
        f"  legitimate mail: {found.legitimate_messages} messages, {found.legitimate_failing} would fail "
        f"({_percent(found.failing_share)}); {found.days_with_data} day(s) of data",
        markup=False,
    )
    for source in found.failing_sources:
        fix = f": {source.fix.get(lang)}" if source.fix is not None else ""
        out.print(f"  - {source.name} ({source.verdict}): {source.failing} failing{fix}", markup=False)
    out.print(("SAFE: " if found.safe else "NOT YET: ") + found.advice.get(lang), markup=False)
    if found.record:
        out.print(f"  {found.record}", markup=False)
    for assumption in found.assumptions:
        out.print(f"  note: {assumption.get(lang)}", markup=False)
