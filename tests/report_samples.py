"""Reports for the document writers' tests: the demo organisation scanned once per test run, and
hand-made reports with hostile scanned values (markup in a TXT record, backticks, pipes)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from mimawari.lab import demo_lab, demo_targets
from mimawari.lookup import Snapshot
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Finding,
    Fix,
    Grade,
    Reference,
    Severity,
    Target,
    Text,
)
from mimawari.scan import DomainReport, scan_domains
from mimawari.score import prioritise, score

SCANNED_AT = 1_790_000_000
"""2026-09-21 14:13:20 UTC."""
HOSTILE = "<script>alert(1)</script>"


@functools.cache
def demo_reports() -> tuple[DomainReport, ...]:
    """The six demo domains. Called from a function-scoped fixture, so it runs under the network guard;
    cached, so the lab is started once however many tests use it."""

    async def run() -> list[DomainReport]:
        async with demo_lab() as lab:
            return await scan_domains(demo_targets(), lab.network())

    return tuple(asyncio.run(run()))


def finding(
    check_id: str,
    grade: Grade,
    severity: Severity = Severity.MEDIUM,
    *,
    category: Category = Category.EMAIL_DNS,
    title: str = "",
    summary: str = "",
    evidence: Sequence[tuple[str, str]] = (),
    snippet: str | None = None,
    references: Sequence[tuple[str, str]] = (),
) -> Finding:
    title = title or f"title of {check_id}"
    summary = summary or f"summary of {check_id}"
    fixable = grade not in (Grade.A, Grade.NA)
    return Finding(
        check_id=check_id,
        target="example.test",
        category=category,
        grade=grade,
        severity=severity,
        title=Text(title, f"{title}（日本語）"),
        summary=Text(summary, f"{summary}（日本語）"),
        evidence=tuple(Evidence(source, value) for source, value in evidence),
        fix=Fix(Text(f"fix {check_id}", f"{check_id} を直す"), snippet) if fixable else None,
        after_fix=AfterFix(Grade.A, Text("all good", "問題なし")) if fixable else None,
        references=tuple(Reference(label, url) for label, url in references),
    )


def report(domain: str, findings: Sequence[Finding], *, observed_at: int = SCANNED_AT) -> DomainReport:
    """A report as ``scan`` builds it, from findings: each weighs by its own severity."""
    weights = {f.check_id: f.severity for f in findings}
    return DomainReport(
        domain,
        Snapshot(Target(domain, observed_at=observed_at)),
        tuple(findings),
        score=score(findings, weights),
        priorities=tuple(prioritise(findings, weights)),
    )


def hostile_report() -> DomainReport:
    """Scanned values that would break a document that did not escape them."""
    return report(
        "example.test",
        [
            finding(
                "email.spf.all",
                Grade.E,
                Severity.CRITICAL,
                title="SPF <b>bold</b> | *starred* [link](javascript:alert(1))",
                summary="1. The record ends in +all & friends; see `code` and <img src=x onerror=alert(1)>",
                evidence=[
                    ("example.test TXT", HOSTILE),
                    ('source "><img src=x onerror=alert(1)>', "v=spf1 +all | ~all ``double`` `"),
                    ("multi-line", "version: STSv1\nmode: ```testing```\n"),
                    ("banner", "220 mail\x1b[31m ready\r"),
                ],
                snippet='example.test. IN TXT "v=spf1 -all"\n```\n</code></pre><script>alert(2)</script>\n',
                references=[
                    ("evil", "javascript:alert(1)"),
                    ("RFC 7208 §5.1", "https://example.org/a?b=1&c=2"),
                ],
            ),
            finding("email.dmarc.policy", Grade.C, Severity.HIGH, evidence=[("_dmarc TXT", "p=none")]),
            finding("email.dkim.key", Grade.UNKNOWN, Severity.HIGH, evidence=[("dkim", "timeout")]),
            finding("dns.caa.present", Grade.A, Severity.LOW, title="CAA | pipes"),
            finding("email.bimi.record", Grade.NA, Severity.INFO),
        ],
    )
