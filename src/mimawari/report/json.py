"""Machine-readable scan results. The top level carries ``schema`` so consumers can detect changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mimawari import __version__
from mimawari.scan import DomainReport
from mimawari.serial import to_jsonable

SCHEMA_VERSION = 1


def report_data(reports: Sequence[DomainReport]) -> dict[str, Any]:
    return {
        "tool": "mimawari",
        "version": __version__,
        "schema": SCHEMA_VERSION,
        "domains": [
            {
                "domain": report.domain,
                "findings": [to_jsonable(finding) for finding in report.findings],
                "observations": {name: to_jsonable(obs) for name, obs in report.observations.items()},
                "snapshot": to_jsonable(report.snapshot),
            }
            for report in reports
        ],
    }


def render(reports: Sequence[DomainReport]) -> str:
    return json.dumps(report_data(reports), indent=2, ensure_ascii=False) + "\n"
