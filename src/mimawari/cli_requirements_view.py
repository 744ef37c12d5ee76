"""How the sender-requirement matrix is shown: a table of requirements against providers, then what each
row saw, and the sources the rules come from with the day they were checked. JSON carries the same."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from mimawari.checks.email.other.matrix import STATE_LABELS, Matrix, State
from mimawari.deliverability.requirements import Level
from mimawari.model import Lang, Text

STYLES = {
    State.PASS: "green",
    State.FAIL: "bold red",
    State.NEEDS_MESSAGE: "yellow",
    State.NEEDS_SPAM_DATA: "yellow",
    State.UNKNOWN: "magenta",
}
SHORT = {
    State.PASS: Text("pass", "適合"),
    State.FAIL: Text("FAIL", "不適合"),
    State.NEEDS_MESSAGE: Text("message?", "要サンプル"),
    State.NEEDS_SPAM_DATA: Text("data?", "要データ"),
    State.UNKNOWN: Text("unknown", "不明"),
}
RECOMMENDED = Text("*", "*")
HEADINGS = {
    "requirement": Text("Requirement", "要件"),
    "details": Text("What was seen", "確認内容"),
    "fix": Text("Fix", "対処"),
    "sources": Text("Sources (rules as checked on the date shown)", "出典（記載日に確認した要件）"),
    "legend": Text(
        "all = every sender; bulk = over 5,000 messages a day to the provider's users. message? = needs a "
        "sample message (--message FILE); data? = needs spam-rate data (mimawari deliverability import); "
        "* = recommended, not required; – = not a requirement there.",
        "全 = すべての送信者、大量 = その事業者の利用者へ 1 日 5,000 通超。要サンプル = サンプルメッセージが"
        "必要（--message FILE）、要データ = 迷惑メール率データが必要（mimawari deliverability import）、"
        "* = 必須ではなく推奨、– = その対象では要件外。",
    ),
    "overall": Text("Overall", "総合"),
}


def render_matrix(matrix: Matrix, console: Console, lang: Lang) -> None:
    columns = matrix.requirements.columns
    table = Table(title=f"{matrix.domain}", title_justify="left", show_lines=False)
    table.add_column(HEADINGS["requirement"].get(lang), ratio=1, min_width=20)
    for column in columns:
        table.add_column(column.heading.get(lang), justify="center", overflow="fold")
    for row in matrix.rows:
        cells = []
        for column in columns:
            cell = row.cell(column)
            if cell is None:
                cells.append("[dim]–[/dim]")
                continue
            level, state = cell
            extra = RECOMMENDED.get(lang) if level is Level.RECOMMENDED else ""
            cells.append(f"[{STYLES[state]}]{SHORT[state].get(lang)}[/]{extra}")
        table.add_row(row.requirement.title.get(lang), *cells)
    overall = [matrix.column_state(column) for column in columns]
    table.add_row(
        f"[bold]{HEADINGS['overall'].get(lang)}[/bold]",
        *(f"[{STYLES[state]}]{SHORT[state].get(lang)}[/]" for state in overall),
        end_section=True,
    )
    console.print(table)
    console.print(HEADINGS["legend"].get(lang), style="dim")
    console.print()
    console.print(f"[bold]{HEADINGS['details'].get(lang)}[/bold]")
    for row in matrix.rows:
        state = row.result.state
        console.print(
            f"  [{STYLES[state]}]{STATE_LABELS[state].get(lang)}[/] {row.requirement.title.get(lang)}: "
            f"{row.result.summary.get(lang)}",
            highlight=False,
        )
        for evidence in row.result.evidence[:4]:
            console.print(f"      {evidence.source}: {evidence.value}", style="dim", markup=False)
        if row.result.fix is not None:
            console.print(
                f"      {HEADINGS['fix'].get(lang)}: {row.result.fix.action.get(lang)}", markup=False
            )
            if row.result.fix.snippet:
                console.print(f"        {row.result.fix.snippet}", style="cyan", markup=False)
    console.print()
    console.print(f"[bold]{HEADINGS['sources'].get(lang)}[/bold]")
    for provider in matrix.requirements.providers:
        console.print(f"  {provider.name} ({provider.checked}): {provider.source}", markup=False)


def matrix_json(matrix: Matrix, lang: Lang) -> dict[str, Any]:
    columns = matrix.requirements.columns
    return {
        "domain": matrix.domain,
        "requirements_version": matrix.requirements.version,
        "columns": [
            {
                "id": column.id,
                "label": column.label.get(lang),
                "provider": column.provider.id,
                "tier": column.tier.value,
                "state": matrix.column_state(column).value,
            }
            for column in columns
        ],
        "rows": [
            {
                "id": row.requirement.id,
                "title": row.requirement.title.get(lang),
                "state": row.result.state.value,
                "summary": row.result.summary.get(lang),
                "evidence": [{"source": e.source, "value": e.value} for e in row.result.evidence],
                "fix": None
                if row.result.fix is None
                else {"action": row.result.fix.action.get(lang), "snippet": row.result.fix.snippet},
                "cells": {
                    column.id: {"level": cell[0].value, "state": cell[1].value}
                    for column in columns
                    if (cell := row.cell(column)) is not None
                },
            }
            for row in matrix.rows
        ],
        "sources": [
            {"provider": p.id, "name": p.name, "source": p.source, "checked": p.checked, "note": p.note}
            for p in matrix.requirements.providers
        ],
    }
