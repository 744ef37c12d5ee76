"""mimawari (見回り, "the patrol"): open, explainable outside-in security posture ratings.

The public API is what ``__all__`` lists; everything else may change between releases.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

__version__ = "0.1.0"

with warnings.catch_warnings():
    # dnspython's DNSSEC module touches cryptography's DSA classes, which cryptography 46+ deprecates on
    # access, so importing it warns (and tests, which turn warnings into errors, fail). mimawari never
    # signs or validates with DSA (RFC 8624 §3.1: MUST NOT); importing it first here, once, keeps the
    # warning from every user's terminal.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import dns.dnssec  # noqa: F401

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
