"""Do mimawari and sslyze find the same TLS configuration? The comparison half of ``bench/tls_probe.py``.

Both tools' results are brought to one shape (``Findings``: IANA suite names per accepted version, group
names, and what each tool knows how to offer), then compared endpoint by endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.email_dns import BenchError
from mimawari.model import Status
from mimawari.observe.tls_hello import VERSION_NAMES
from mimawari.parse.tls_suites import by_code, by_name, suites_for
from mimawari.probes import TlsScan

SSLYZE_VERSIONS = dict(
    zip(("ssl_3_0", "tls_1_0", "tls_1_1", "tls_1_2", "tls_1_3"), VERSION_NAMES.values(), strict=True)
)


@dataclass(frozen=True)
class Endpoint:
    host: str
    address: str
    profile: str


@dataclass(frozen=True)
class Findings:
    """One tool on one endpoint in IANA suite names and mimawari's group names, with what it could have
    found: the suites and curves it knows how to offer."""

    suites: dict[str, frozenset[str]]
    """Accepted version → its accepted suites."""
    offered: dict[str, frozenset[str]]
    curves: frozenset[str]
    curves_offered: frozenset[str]


def from_tls_scan(scan: TlsScan) -> Findings:
    offered = {
        name: frozenset(s.name for s in map(by_code, suites_for(code)) if s is not None)
        for code, name in VERSION_NAMES.items()
    }
    answered = (Status.PRESENT, Status.ABSENT)
    return Findings(
        {v.version: frozenset(v.ciphers) for v in scan.accepted()},
        offered,
        frozenset(g.group for g in scan.groups if g.status is Status.PRESENT),
        frozenset(g.group for g in scan.groups if g.status in answered),
    )


def from_sslyze(document: dict[str, Any]) -> dict[str, Findings]:
    """sslyze's JSON by host name, for the servers whose every scan command completed."""

    def suites(entries: list[dict[str, Any]]) -> frozenset[str]:
        names = [e["cipher_suite"]["name"] for e in entries]
        return frozenset(s.name if (s := by_name(name)) else name for name in names)

    def curves(entries: list[dict[str, Any]]) -> frozenset[str]:  # sslyze: X25519, the registry: x25519
        return frozenset(c["name"].lower() if c["name"].startswith("X") else c["name"] for c in entries)

    found: dict[str, Findings] = {}
    for server in document["server_scan_results"]:
        result = server.get("scan_result") or {}
        commands = [result.get(f"{key}_cipher_suites") or {} for key in SSLYZE_VERSIONS]
        groups = result.get("elliptic_curves") or {}
        if any(command.get("status") != "COMPLETED" for command in [*commands, groups]):
            continue
        accepted, offered = {}, {}
        for version, command in zip(SSLYZE_VERSIONS.values(), commands, strict=True):
            yes, no = (suites(command["result"][f"{k}_cipher_suites"]) for k in ("accepted", "rejected"))
            offered[version] = yes | no
            if command["result"]["is_tls_version_supported"]:
                accepted[version] = yes
        supported = curves(groups["result"]["supported_curves"])
        rejected = curves(groups["result"]["rejected_curves"])
        found[server["server_location"]["hostname"]] = Findings(
            accepted, offered, supported, supported | rejected
        )
    return found


def compare(
    endpoints: Sequence[Endpoint], ours: dict[str, Findings], theirs: dict[str, Findings]
) -> dict[str, Any]:
    """Accepted versions; per version both accept, the accepted suites both tools can offer; the EC
    curves both can offer. A curve mismatch is ``explained`` in the one case ``agreement_lines`` tells."""
    counts = dict.fromkeys(["versions_agree", "suite_pairs", "suites_agree", "curves_agree"], 0)
    counts |= dict.fromkeys(["suites_mimawari", "suites_sslyze", "one_tool_only"], 0)
    mismatches: list[dict[str, Any]] = []

    def agree(
        e: Endpoint, what: str, mine: frozenset[str], other: frozenset[str], explained: bool = False
    ) -> bool:
        if mine != other:
            only = {
                "mimawari": " ".join(sorted(mine - other)) or "-",
                "sslyze": " ".join(sorted(other - mine)) or "-",
            }
            mismatches.append(
                {"endpoint": e.host, "profile": e.profile, "what": what, **only, "explained": explained}
            )
        return mine == other

    for e in endpoints:
        m, s = ours[e.host], theirs[e.host]
        counts["suites_mimawari"] += sum(map(len, m.suites.values()))
        counts["suites_sslyze"] += sum(map(len, s.suites.values()))
        counts["versions_agree"] += agree(e, "versions", frozenset(m.suites), frozenset(s.suites))
        for version in sorted(m.suites.keys() & s.suites.keys()):
            both = m.offered[version] & s.offered[version]
            counts["suite_pairs"] += 1
            counts["one_tool_only"] += len((m.suites[version] | s.suites[version]) - both)
            counts["suites_agree"] += agree(
                e, f"{version} suites", m.suites[version] & both, s.suites[version] & both
            )
        both = m.curves_offered & s.curves_offered
        ecdsa_before_13 = (
            "TLSv1.3" not in m.suites
            and all("_ECDSA_" in suite for suite in m.suites.get("TLSv1.2", {"-"}))
            and s.curves & both <= m.curves
        )
        counts["curves_agree"] += agree(e, "EC curves", m.curves & both, s.curves & both, ecdsa_before_13)
    return {"endpoints": len(endpoints), **counts, "mismatches": mismatches}


def agreement_lines(agreement: dict[str, Any]) -> list[str]:
    a = agreement
    lines = [
        f"agreement: accepted versions on {a['versions_agree']}/{a['endpoints']} endpoints, accepted suites"
        f" on {a['suites_agree']}/{a['suite_pairs']} (endpoint, version) pairs ({a['suites_mimawari']} and"
        f" {a['suites_sslyze']} accepted suites, {a['one_tool_only']} of them offered by one tool only),"
        f" EC curves on {a['curves_agree']}/{a['endpoints']} endpoints"
    ]
    if a["mismatches"]:
        lines += ["", f"{'endpoint':<24} {'profile':<11} {'what':<16} {'only mimawari':<36} only sslyze"]
        for m in a["mismatches"]:
            lines.append(
                f"{m['endpoint']:<24} {m['profile']:<11} {m['what']:<16} {m['mimawari']:<36} {m['sslyze']}"
            )
    if any(m["explained"] for m in a["mismatches"]):
        lines.append(
            "EC curves differ where TLS 1.2 is the highest version and the certificate is ECDSA: sslyze"
            " offers one curve at a time, and such a server can use only its certificate's own curve when"
            " that is all the client supports (RFC 8422 §5.1); mimawari keeps that curve in every offer."
        )
    return lines


def agreement(
    endpoints: Sequence[Endpoint], scans: Sequence[TlsScan], outputs: Sequence[Path]
) -> dict[str, Any]:
    """mimawari's last scans against sslyze's last run; every sslyze run must have covered every endpoint."""
    found: dict[str, Findings] = {}
    for output in outputs:
        try:
            found = from_sslyze(json.loads(output.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BenchError(
                f"sslyze wrote no usable JSON ({exc!r}); see {output} (kept with --keep)"
            ) from None
        missing = [e.host for e in endpoints if e.host not in found]
        if missing:
            raise BenchError(f"sslyze has no complete result for {', '.join(missing[:5])}; see {output}")
    return compare(endpoints, {scan.request.host: from_tls_scan(scan) for scan in scans}, found)
