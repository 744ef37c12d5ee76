"""``mimawari whatif``: what a DNS change would do to the grades and the score, before anyone touches DNS."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated

import typer
from rich.text import Text as RichText

from mimawari.cli_console import out, user_errors
from mimawari.cli_options import (
    AllowPrivateOption,
    AttemptsOption,
    CaFileOption,
    CategoryOption,
    FormatOption,
    LabOption,
    LangOption,
    Language,
    NameserverOption,
    OutputFormat,
    PortMapOption,
    ProbeTimeoutOption,
    SelectorOption,
    TimeoutOption,
    TrustAnchorOption,
    checks_of,
    lang_of,
    network_from,
)
from mimawari.errors import InputError
from mimawari.model import Lang, Target, Text
from mimawari.options import read_trust_anchors
from mimawari.report.document import points
from mimawari.report.terminal import CATEGORY_NAMES, SCORE, badge
from mimawari.scan import as_target, scan_target
from mimawari.serial import to_jsonable
from mimawari.whatif import Comparison, compare, parse_change, patch, reevaluate

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="'NAME TYPE DATA'",
        help="A record to publish: 'NAME TYPE DATA' (replaces NAME TYPE); repeatable.",
    ),
]
RemoveOption = Annotated[
    list[str] | None,
    typer.Option("--remove", metavar="'NAME TYPE'", help="Records to delete: 'NAME TYPE'; repeatable."),
]
HEAD = Text("what-if for {domain}: {count} change(s)", "{domain} の変更シミュレーション: {count} 件")
REMOVED = Text("(removed)", "（削除）")
CHECKS = Text("checks whose grade changes:", "評価が変わる検査:")
NO_CHANGE = Text("no check changes grade", "評価が変わる検査はありません")
ASKED = Text(
    "{count} new question(s) asked on the network for what the change made new",
    "変更により新たに必要になった {count} 件をネットワークに問い合わせました",
)


def whatif(
    domain: Annotated[str, typer.Argument(help="The domain to scan and change.", show_default=False)],
    set_records: SetOption = None,
    remove_records: RemoveOption = None,
    nameserver: NameserverOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    lang: LangOption = Language.EN,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    dkim_selector: SelectorOption = None,
    trust_anchor: TrustAnchorOption = None,
    ca_file: CaFileOption = None,
    port_map: PortMapOption = None,
    allow_private: AllowPrivateOption = False,
    lab: LabOption = None,
    probe_timeout: ProbeTimeoutOption = 10.0,
    category: CategoryOption = None,
) -> None:
    """Scan DOMAIN, apply record changes to what was seen, and print old → new grades and score."""
    with user_errors():
        changes = [parse_change(t) for t in set_records or []]
        changes += [parse_change(t, remove=True) for t in remove_records or []]
        if not changes:
            raise InputError("say what to change: --set 'NAME TYPE DATA' or --remove 'NAME TYPE'")
        anchors = read_trust_anchors(trust_anchor) if trust_anchor else ()
        network, lab_anchors = network_from(
            nameserver, timeout, attempts, ca_file, port_map, allow_private, lab, probe_timeout
        )
        target = as_target(Target(domain, tuple(dkim_selector or ()), anchors or lab_anchors))
        checks = checks_of(category)

        async def run() -> Comparison:
            await network.dns.ensure_reachable()
            target_now = Target(
                target.domain, target.dkim_selectors, target.trust_anchors, observed_at=int(time.time())
            )
            before = await scan_target(target_now, network, checks)
            after, asked = await reevaluate(patch(before.snapshot, changes), network, checks)
            return compare(before, after, changes, len(asked))

        comparison = asyncio.run(run())
        if output_format is OutputFormat.JSON:
            out.print_json(json.dumps(to_jsonable(comparison), ensure_ascii=False))
        else:
            render(comparison, lang_of(lang))


def render(comparison: Comparison, lang: Lang) -> None:
    out.rule(RichText(HEAD.format(domain=comparison.domain, count=len(comparison.changes)).get(lang), "bold"))
    for change in comparison.changes:
        data = " | ".join(change.records) if change.records else REMOVED.get(lang)
        out.print(f"  {change.name} {change.rdtype} → {data}", markup=False, soft_wrap=True)
    before, after = comparison.before, comparison.after
    if before is not None and after is not None:
        out.print(
            RichText.assemble(
                f"{SCORE.get(lang)} {points(before.score)} ",
                badge(before.grade),
                f" → {points(after.score)} ",
                badge(after.grade),
            )
        )
    for category in comparison.categories:
        out.print(
            RichText.assemble(
                f"  {CATEGORY_NAMES[category.category].get(lang)} {points(category.before)} ",
                badge(category.before_grade),
                f" → {points(category.after)} ",
                badge(category.after_grade),
            )
        )
    out.print(CHECKS.get(lang) if comparison.checks else NO_CHANGE.get(lang))
    for moved in comparison.checks:
        out.print(RichText.assemble(f"  {moved.check_id} ", badge(moved.before), " → ", badge(moved.after)))
    out.print(RichText(ASKED.format(count=comparison.asked).get(lang), "dim"))
