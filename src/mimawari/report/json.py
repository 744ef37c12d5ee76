"""Machine-readable scan results. The top level carries ``schema`` so consumers can detect changes.

``write`` streams: each domain is written as soon as its report arrives, so memory does not grow with
the number of domains; the output is one JSON document all the same, one domain per line (compact:
``json.dumps`` with an indent falls back to its pure-Python encoder, several times slower at scale).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Any, TextIO

from mimawari import __version__
from mimawari.scan import DomainReport
from mimawari.serial import to_jsonable

SCHEMA_VERSION = 2
"""2: each domain has ``score`` (with ``rules_version``) and ``priorities``."""


def domain_data(report: DomainReport) -> dict[str, Any]:
    return {
        "domain": report.domain,
        "score": to_jsonable(report.score),
        "priorities": [
            {"check_id": p.finding.check_id, "gain": p.gain, "value": p.value} for p in report.priorities
        ],
        "findings": [to_jsonable(finding) for finding in report.findings],
        "observations": {name: to_jsonable(obs) for name, obs in report.observations.items()},
        "snapshot": to_jsonable(report.snapshot),
    }


async def write(reports: AsyncIterable[DomainReport], out: TextIO) -> list[str]:
    """Write ``{"tool", "version", "schema", "domains": [...]}`` to ``out``; returns the domains written."""
    head = json.dumps({"tool": "mimawari", "version": __version__, "schema": SCHEMA_VERSION})
    out.write(head[:-1] + ', "domains": [')
    written: list[str] = []
    async for report in reports:
        text = json.dumps(domain_data(report), ensure_ascii=False, separators=(",", ":"))
        out.write(("," if written else "") + "\n" + text)
        out.flush()
        written.append(report.domain)
    out.write("\n]}\n" if written else "]}\n")
    return written
