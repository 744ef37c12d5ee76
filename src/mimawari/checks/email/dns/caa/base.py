"""What the CAA checks share: references, the unknown verdict, and the starter records."""

from __future__ import annotations

from mimawari.model import Grade, Reference, Text, Verdict
from mimawari.observations.caa import CaaObservation
from mimawari.parse.caa import CaaProperty, caa_line, parse_caa

RFC8659 = Reference("RFC 8659 §3, §4", "https://www.rfc-editor.org/rfc/rfc8659#section-3")
RFC8659_IODEF = Reference("RFC 8659 §4.4", "https://www.rfc-editor.org/rfc/rfc8659#section-4.4")

STARTER_CA = "letsencrypt.org"
"""The example CA in suggested records; the fix text tells the owner to name the CA they use."""

UNKNOWN = Text(
    "Could not be determined: the lookup of {name} ended in {outcome}. This is not a finding; scan again.",
    "判定できませんでした（{name} の問い合わせ結果: {outcome}）。問題が見つかったという意味ではありません。"
    "再度スキャンしてください。",
)
ABSENT = Text(
    "No CAA records apply to {domain}.",
    "{domain} に適用される CAA レコードはありません。",
)


def caa_unknown(observation: CaaObservation) -> Verdict | None:
    if observation.status.answered:
        return None
    failed = observation.lookups[-1]
    summary = UNKNOWN.format(name=str(failed.query), outcome=failed.outcome)
    return Verdict(Grade.UNKNOWN, summary, observation.evidence())


def starter_issue(owner: str) -> tuple[str, CaaProperty]:
    """The suggested ``issue`` record as a zone-file line, and as the property it publishes."""
    return caa_line(owner, 0, "issue", STARTER_CA), parse_caa(f'0 issue "{STARTER_CA}"')


def starter_iodef(owner: str, org_domain: str) -> tuple[str, CaaProperty]:
    url = f"mailto:security@{org_domain}"
    return caa_line(owner, 0, "iodef", url), parse_caa(f'0 iodef "{url}"')
