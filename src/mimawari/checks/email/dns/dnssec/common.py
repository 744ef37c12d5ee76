"""Texts and evidence shared by the DNSSEC and DANE checks."""

from __future__ import annotations

from mimawari.model import Evidence, Reference, Text
from mimawari.observations.dnssec import Validation
from mimawari.parse.dnssec import Security, algorithm_name, digest_name

RFC_4035 = Reference("RFC 4035 §5", "https://www.rfc-editor.org/rfc/rfc4035#section-5")
RFC_8624 = Reference("RFC 8624 §3.1, §3.3", "https://www.rfc-editor.org/rfc/rfc8624#section-3.1")
RFC_7672 = Reference("RFC 7672 §2.2, §3.1.3", "https://www.rfc-editor.org/rfc/rfc7672#section-2.2")

UNKNOWN = Text(
    "The DNSSEC status of {name} could not be determined: the lookup {query} ended in {outcome}. This says "
    "nothing about whether the zone is signed; scan again.",
    "{name} の DNSSEC の状態を判定できませんでした（{query} の問い合わせ結果: {outcome}）。"
    "署名の有無とは関係ありません。再度スキャンしてください。",
)
INDETERMINATE = Text(
    "No trust anchor covers {name} ({problem}), so its DNSSEC status cannot be proven. Give the right "
    "anchor with --trust-anchor FILE.",
    "{name} を対象とするトラストアンカーがないため（{problem}）、DNSSEC の状態を証明できません。"
    "--trust-anchor FILE で正しいトラストアンカーを指定してください。",
)
DS_TEMPLATE = "{zone}. IN DS <key tag> 13 2 <SHA-256 digest of the zone's KSK, from your DNS host>"


def not_determined(validation: Validation) -> Text:
    """The summary for a validation that ended UNKNOWN or INDETERMINATE."""
    if validation.security is Security.INDETERMINATE:
        return INDETERMINATE.format(name=validation.name, problem=validation.problem)
    failed = validation.failed
    query = str(failed.query) if failed is not None else f"{validation.name} {validation.rdtype}"
    outcome = failed.outcome if failed is not None else "error"
    return UNKNOWN.format(name=validation.name, query=query, outcome=outcome)


def chain_evidence(validation: Validation) -> tuple[Evidence, ...]:
    """The chain of trust as evidence: one line per zone, then the problem or the failed lookup."""
    evidence = [Evidence(f"DNSSEC {validation.name}", validation.security.value)]
    for link in validation.links:
        parts = [link.security.value]
        if link.ds:
            parts.append("DS " + " | ".join(link.ds))
        if link.algorithms:
            parts.append("DNSKEY " + ", ".join(algorithm_name(a) for a in link.algorithms))
        if link.key_tags:
            parts.append("key tags " + ", ".join(map(str, link.key_tags)))
        if link.digest_types:
            parts.append("DS digest " + ", ".join(digest_name(d) for d in link.digest_types))
        if link.proof:
            parts.append(link.proof)
        evidence.append(Evidence(f"zone {link.zone}", "; ".join(parts)))
    if validation.problem:
        evidence.append(Evidence("problem", validation.problem))
    if validation.failed is not None:
        evidence.append(Evidence(str(validation.failed.query), validation.failed.describe()))
    return tuple(evidence)


def ds_lines(zone: str, records: tuple[str, ...]) -> str:
    return "\n".join(f"{zone.rstrip('.')}. IN DS {record}" for record in records)
