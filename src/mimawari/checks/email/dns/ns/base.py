"""What the NS checks share: references, and the unknown / not-applicable verdicts."""

from __future__ import annotations

from mimawari.model import Grade, Reference, Status, Text, Verdict
from mimawari.observations.ns import NsObservation

RFC1034_NS = Reference("RFC 1034 §4.1", "https://www.rfc-editor.org/rfc/rfc1034#section-4.1")
RFC2182 = Reference("RFC 2182 §3, §5 (secondary servers)", "https://www.rfc-editor.org/rfc/rfc2182")
RFC2181_ALIAS = Reference("RFC 2181 §10.3", "https://www.rfc-editor.org/rfc/rfc2181#section-10.3")

UNKNOWN = Text(
    "Could not be determined: the lookup of {name} ended in {outcome}. This is not a finding; scan again.",
    "判定できませんでした（{name} の問い合わせ結果: {outcome}）。問題が見つかったという意味ではありません。"
    "再度スキャンしてください。",
)
NXDOMAIN = Text(
    "{domain} does not exist (NXDOMAIN): there is no zone to judge.",
    "{domain} は存在しない（NXDOMAIN）ため、判定対象のゾーンがありません。",
)
NO_NS = Text(
    "No NS records were found for {domain} or its parents up to {top}.",
    "{domain} および {top} までの親ドメインに NS レコードが見つかりませんでした。",
)


def ns_unknown(observation: NsObservation, *, hosts: bool, every_address: bool = False) -> Verdict | None:
    """``unknown`` when the NS climb failed, or (``hosts``) when an NS host's addresses are not known —
    with ``every_address``, when any of its A/AAAA lookups failed."""
    if not observation.status.answered:
        failed = observation.lookups[-1]
        summary = UNKNOWN.format(name=str(failed.query), outcome=failed.outcome)
        return Verdict(Grade.UNKNOWN, summary, observation.ns_evidence())
    if not hosts:
        return None
    for host in observation.hosts:
        if host.resolution in (Status.TIMEOUT, Status.ERROR) or (
            every_address and any(not lookup.status.answered for lookup in host.lookups)
        ):
            lookup = next(lookup for lookup in host.lookups if not lookup.status.answered)
            summary = UNKNOWN.format(name=f"{lookup.name} {lookup.rdtype}", outcome=lookup.outcome)
            return Verdict(Grade.UNKNOWN, summary, (*observation.ns_evidence(), *observation.host_evidence()))
    return None


def ns_absent(observation: NsObservation) -> Verdict | None:
    """Not applicable when the domain does not exist or no NS RRset was found (graded by dns.ns.count)."""
    if observation.status is Status.PRESENT:
        return None
    if observation.nxdomain:
        return Verdict(Grade.NA, NXDOMAIN.format(domain=observation.domain), observation.ns_evidence())
    top = observation.lookups[-1].query.name if observation.lookups else observation.domain
    return Verdict(Grade.NA, NO_NS.format(domain=observation.domain, top=top), observation.ns_evidence())
