"""Findings as SARIF 2.1.0 (OASIS), for CI pipelines and code-scanning dashboards.

One run; each check that produced a result is a rule, each finding that needs attention (graded B–E or
unknown) a result. A domain is not a file, so results are placed with a logical location of kind
``resource`` (SARIF 2.1.0 §3.33) instead of a physical one. ``partialFingerprints`` (§3.27.17) are a
hash of (domain, check id), so a dashboard tracks one problem across scans while its evidence changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from mimawari import __version__
from mimawari.checks import ALL_CHECKS
from mimawari.model import Finding, Grade, Lang, Severity
from mimawari.scan import DomainReport
from mimawari.score import Priority

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

LEVELS: Mapping[Grade, str] = {
    Grade.E: "error",
    Grade.D: "error",
    Grade.C: "warning",
    Grade.B: "note",
    Grade.UNKNOWN: "note",
}
"""SARIF ``level`` (§3.27.10) by grade; grades not listed (A, N/A) make no result."""

SECURITY_SEVERITY: Mapping[Severity, str] = {
    Severity.INFO: "1.0",
    Severity.LOW: "3.0",
    Severity.MEDIUM: "5.5",
    Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
}
"""GitHub code scanning reads ``security-severity`` (a CVSS-like 0–10 string) from a rule's properties
to show low / medium / high / critical; these values sit inside its bands for our severities."""

FINGERPRINT_KEY = "mimawari/domainCheck/v1"


def fingerprint(domain: str, check_id: str) -> str:
    """Stable across scans and versions for one (domain, check): what a dashboard deduplicates by."""
    return hashlib.sha256(f"{domain}\0{check_id}".encode()).hexdigest()


def rule_name(check_id: str) -> str:
    """``email.mta.open_relay`` → ``EmailMtaOpenRelay`` (SARIF's ``name`` is a readable identifier)."""
    return "".join(word.capitalize() for part in check_id.split(".") for word in part.split("_"))


def _message(finding: Finding, lang: Lang) -> str:
    lines = [finding.summary.get(lang), *(f"{e.source}: {e.value}" for e in finding.evidence)]
    return "\n".join(lines)


def _rule(findings: Sequence[Finding], lang: Lang) -> dict[str, Any]:
    """The rule for one check, from its results; the check's own severity when it is registered."""
    first = findings[0]
    check = ALL_CHECKS.get(first.check_id)
    severity = check.severity if check else max((f.severity for f in findings), key=lambda s: s.rank)
    rule: dict[str, Any] = {
        "id": first.check_id,
        "name": rule_name(first.check_id),
        "shortDescription": {"text": first.title.get(lang)},
    }
    fix = next((f.fix for f in findings if f.fix is not None), None)
    if fix is not None:
        # The first result's fix stands for the check; each result keeps its own in ``properties``.
        action = fix.action.get(lang)
        rule["help"] = {"text": f"{action}\n{fix.snippet}" if fix.snippet else action}
    if first.references:
        rule["helpUri"] = first.references[0].url
    rule["properties"] = {
        "severity": severity.value,
        "category": first.category.value,
        "security-severity": SECURITY_SEVERITY[severity],
        "tags": ["security", first.category.value],
    }
    return rule


def _result(
    report: DomainReport, finding: Finding, priority: Priority | None, rule_index: int, lang: Lang
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "grade": finding.grade.value,
        "severity": finding.severity.value,
        "category": finding.category.value,
        "gain": priority.gain if priority else None,
        "rules_version": report.score.rules_version if report.score else None,
    }
    if finding.after_fix is not None:
        properties["after_fix_grade"] = finding.after_fix.grade.value
    if finding.fix is not None:
        properties["fix"] = finding.fix.action.get(lang)
        if finding.fix.snippet:
            properties["snippet"] = finding.fix.snippet
    return {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.grade],
        "message": {"text": _message(finding, lang)},
        "locations": [
            {
                "logicalLocations": [
                    {"name": report.domain, "fullyQualifiedName": report.domain, "kind": "resource"}
                ]
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(report.domain, finding.check_id)},
        "properties": properties,
    }


def _ordered(report: DomainReport) -> list[tuple[Finding, Priority | None]]:
    """The findings that make results: the prioritised ones first, in the order to fix them, then the
    rest graded B–E or unknown (unknown has no priority: nothing says what fixing it is worth)."""
    ranked: list[tuple[Finding, Priority | None]] = [(p.finding, p) for p in report.priorities]
    seen = {p.finding.check_id for p in report.priorities}
    return ranked + [(f, None) for f in report.findings if f.grade in LEVELS and f.check_id not in seen]


def _score(report: DomainReport) -> dict[str, Any]:
    rating = report.score
    return {
        "domain": report.domain,
        "score": rating.score if rating else None,
        "grade": rating.grade.value if rating else None,
        "rules_version": rating.rules_version if rating else None,
        "categories": [
            {"category": c.category.value, "score": c.score, "grade": c.grade.value}
            for c in (rating.categories if rating else ())
        ],
    }


def render(reports: Sequence[DomainReport], *, lang: Lang = "en") -> dict[str, Any]:
    """The SARIF log of ``reports`` as JSON-ready data (``json.dump`` it)."""
    ordered = [(report, _ordered(report)) for report in reports]
    by_check: dict[str, list[Finding]] = {}
    for _, results in ordered:
        for finding, _ in results:
            by_check.setdefault(finding.check_id, []).append(finding)
    check_ids = sorted(by_check)
    index = {check_id: i for i, check_id in enumerate(check_ids)}
    driver = {
        "name": "mimawari",
        "version": __version__,
        "rules": [_rule(by_check[check_id], lang) for check_id in check_ids],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "language": lang,
                "results": [
                    _result(report, finding, priority, index[finding.check_id], lang)
                    for report, results in ordered
                    for finding, priority in results
                ],
                "properties": {"scores": [_score(report) for report in reports]},
            }
        ],
    }
