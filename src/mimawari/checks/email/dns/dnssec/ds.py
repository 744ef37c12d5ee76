"""dns.dnssec.ds — does every DS record at the parent match a key of the domain's zone?

A DS that matches no DNSKEY (a key rolled without updating the registrar, a typo in the digest) breaks
the chain of trust when it is the only one (RFC 4035 §5.2: bogus, E) and is a roll-over accident waiting to
happen when a matching DS sits beside it (B). The fix is the exact DS set computed from the zone's keys.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import RFC_4035, chain_evidence, ds_lines, not_determined
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.dnssec import DNSSEC, DnssecObservation
from mimawari.parse.dnssec import Security

TITLE = Text("DS records match the zone's keys", "DS レコードとゾーンの鍵の一致")

MATCH = Text(
    "Every DS record of {zone} at its parent matches one of the zone's DNSKEYs.",
    "親ゾーンにある {zone} の DS レコードは、すべてゾーンの DNSKEY と一致しています。",
)
NO_DS = Text(
    "{zone} has no DS record at its parent, so there is nothing to match (see dns.dnssec.status).",
    "{zone} の DS レコードが親ゾーンにないため、照合する対象がありません（dns.dnssec.status を参照）。",
)
NONE_MATCH = Text(
    "No DS record of {zone} at its parent matches a DNSKEY of the zone (DS: {ds}; key tags: {tags}): the "
    "chain of trust is broken and validating resolvers answer SERVFAIL for the domain.",
    "親ゾーンにある {zone} の DS レコードがどれもゾーンの DNSKEY と一致しません（DS: {ds}、鍵タグ: {tags}）。"
    "信頼の連鎖が切れており、検証リゾルバーはこのドメインに SERVFAIL を返します。",
)
STALE = Text(
    "{count} DS record(s) of {zone} match no DNSKEY ({ds}); validation still works through the others, "
    "but a stale DS is how the next key roll breaks the domain.",
    "{zone} の DS レコードのうち {count} 件がどの DNSKEY とも一致しません（{ds}）。他の DS で検証は成功して"
    "いますが、古い DS は次回の鍵更新で障害を起こす原因になります。",
)
FIX = Text(
    "Publish exactly these DS records for {zone} at your registrar (they match the zone's current KSKs) and "
    "remove the others.",
    "レジストラで {zone} の DS レコードを次のものだけにし（ゾーンの現在の KSK と一致）、他は削除してください。",
)
EFFECT = Text(
    "Every DS leads to a key of the zone; the chain of trust holds.",
    "すべての DS がゾーンの鍵につながり、信頼の連鎖が保たれます。",
)


def evaluate(observation: DnssecObservation) -> Verdict:
    validation = observation.domain_validation
    evidence = chain_evidence(validation)
    link = validation.links[-1] if validation.links else None  # the deepest zone reached
    if validation.security in (Security.UNKNOWN, Security.INDETERMINATE):
        return Verdict(Grade.UNKNOWN, not_determined(validation), evidence)
    if link is None or link.security is Security.INSECURE or not link.ds:
        zone = link.zone if link is not None else validation.zone or observation.domain
        return Verdict(Grade.NA, NO_DS.format(zone=zone), evidence)
    if not link.key_tags:  # the DS itself failed to validate, so the keys were never fetched
        return Verdict(Grade.NA, NO_DS.format(zone=link.zone), evidence)
    if not link.unmatched_ds:
        return Verdict(Grade.A, MATCH.format(zone=link.zone), evidence)
    evidence += tuple(Evidence(f"{link.zone} DS matching no key", ds) for ds in link.unmatched_ds)
    fix = Fix(FIX.format(zone=link.zone), ds_lines(link.zone, link.expected_ds))
    fixed = replace(link, unmatched_ds=(), matched_keys=link.key_tags, ds=link.expected_ds)
    links = tuple(fixed if lk is link else lk for lk in validation.links)
    after = evaluate(replace(observation, domain_validation=replace(validation, links=links)))
    ds = " | ".join(link.unmatched_ds)
    if not link.matched_keys:
        tags = ", ".join(map(str, link.key_tags))
        summary = NONE_MATCH.format(zone=link.zone, ds=ds, tags=tags)
        return Verdict(Grade.E, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.CRITICAL)
    summary = STALE.format(zone=link.zone, count=len(link.unmatched_ds), ds=ds)
    return Verdict(Grade.B, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.LOW)


CHECK = Check(
    id="dns.dnssec.ds",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC_4035,),
    observer=DNSSEC,
    evaluate=evaluate,
)
