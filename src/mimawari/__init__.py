"""mimawari (見回り, "the patrol"): open, explainable outside-in security posture ratings.

The public API is what ``__all__`` lists; everything else may change between releases.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mimawari.check import Check, Registry, registry
    from mimawari.checks import ALL_CHECKS
    from mimawari.errors import (
        InputError,
        InvalidDomainError,
        InvalidNameserverError,
        LabError,
        MimawariError,
        NameserverUnreachableError,
        OperationalError,
        ZoneError,
    )
    from mimawari.lookup import DnsAnswer, HttpRequest, HttpResponse, Plan, Query, Snapshot, replay
    from mimawari.model import (
        AfterFix,
        Category,
        Evidence,
        Finding,
        Fix,
        Grade,
        Reference,
        Severity,
        Status,
        Target,
        Text,
        Verdict,
    )
    from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, Scope
    from mimawari.scan import DomainReport, evaluate_snapshot, scan, scan_domains, scan_target
    from mimawari.serial import from_json, to_json

_EXPORTS = {
    "ALL_CHECKS": "mimawari.checks",
    "AfterFix": "mimawari.model",
    "Category": "mimawari.model",
    "Check": "mimawari.check",
    "DnsAnswer": "mimawari.lookup",
    "DnsClient": "mimawari.observe",
    "DomainReport": "mimawari.scan",
    "Evidence": "mimawari.model",
    "Finding": "mimawari.model",
    "Fix": "mimawari.model",
    "Grade": "mimawari.model",
    "HttpClient": "mimawari.observe",
    "HttpRequest": "mimawari.lookup",
    "HttpResponse": "mimawari.lookup",
    "InputError": "mimawari.errors",
    "InvalidDomainError": "mimawari.errors",
    "InvalidNameserverError": "mimawari.errors",
    "LabError": "mimawari.errors",
    "MimawariError": "mimawari.errors",
    "Nameserver": "mimawari.observe",
    "NameserverUnreachableError": "mimawari.errors",
    "Network": "mimawari.observe",
    "OperationalError": "mimawari.errors",
    "Plan": "mimawari.lookup",
    "Query": "mimawari.lookup",
    "Reference": "mimawari.model",
    "Registry": "mimawari.check",
    "Scope": "mimawari.observe",
    "Severity": "mimawari.model",
    "Snapshot": "mimawari.lookup",
    "Status": "mimawari.model",
    "Target": "mimawari.model",
    "Text": "mimawari.model",
    "Verdict": "mimawari.model",
    "ZoneError": "mimawari.errors",
    "evaluate_snapshot": "mimawari.scan",
    "from_json": "mimawari.serial",
    "registry": "mimawari.check",
    "replay": "mimawari.lookup",
    "scan": "mimawari.scan",
    "scan_domains": "mimawari.scan",
    "scan_target": "mimawari.scan",
    "to_json": "mimawari.serial",
}
"""Each public name and the module it lives in: imported on first use (PEP 562), so that a command
that needs a few modules (``mimawari dmarc parse``) does not pay for importing every check."""


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mimawari' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "ALL_CHECKS",
    "AfterFix",
    "Category",
    "Check",
    "DnsAnswer",
    "DnsClient",
    "DomainReport",
    "Evidence",
    "Finding",
    "Fix",
    "Grade",
    "HttpClient",
    "HttpRequest",
    "HttpResponse",
    "InputError",
    "InvalidDomainError",
    "InvalidNameserverError",
    "LabError",
    "MimawariError",
    "Nameserver",
    "NameserverUnreachableError",
    "Network",
    "OperationalError",
    "Plan",
    "Query",
    "Reference",
    "Registry",
    "Scope",
    "Severity",
    "Snapshot",
    "Status",
    "Target",
    "Text",
    "Verdict",
    "ZoneError",
    "__version__",
    "evaluate_snapshot",
    "from_json",
    "registry",
    "replay",
    "scan",
    "scan_domains",
    "scan_target",
    "to_json",
]
