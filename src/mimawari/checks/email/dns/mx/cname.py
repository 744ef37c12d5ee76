"""email.mx.cname — does an MX record name an alias (CNAME) instead of the mail server itself?

RFC 2181 §10.3 says an MX target must not be an alias, and RFC 5321 §5.1 has senders handle it only as
a tolerated error: most deliver, some refuse, and the extra lookup adds delay. The fix is the MX record
naming the canonical name, taken from the CNAME chain the A/AAAA lookups followed. A host whose address
lookups all failed cannot be judged, so any such host makes the verdict unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    RFC2181_ALIAS,
    RFC5321_MX,
    host_evidence,
    mx_unknown,
    not_applicable,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mx import MX, MxHost, MxObservation

TITLE = Text("MX target is an alias (CNAME)", "MX の宛先が別名（CNAME）")

CLEAN = Text(
    "Every MX record names a host directly, not an alias.",
    "すべての MX レコードが別名ではなくホスト名を直接指定しています。",
)
ALIASED = Text(
    "{count} MX record(s) name an alias (CNAME): {aliases}. RFC 2181 §10.3 forbids this; some senders "
    "refuse such MX records and all need an extra lookup.",
    "{count} 件の MX レコードが別名（CNAME）を指定しています: {aliases}。これは RFC 2181 10.3 節で禁止されて"
    "おり、一部の送信側はこの MX を拒否し、すべての送信側で余分な問い合わせが発生します。",
)
UNDECIDED = Text(
    "Could not be determined: no address lookup of {host} was answered ({outcome}). This is not a finding; "
    "scan again.",
    "判定できませんでした（{host} のアドレス問い合わせに応答がありません: {outcome}）。問題が見つかったという"
    "意味ではありません。再度スキャンしてください。",
)
FIX = Text(
    "Point each of these MX records at the canonical host name the alias leads to.",
    "これらの MX レコードの宛先を、別名が指す正式なホスト名に変更してください。",
)
EFFECT = Text(
    "Every sender delivers to the MX hosts without relying on tolerance of aliases.",
    "すべての送信側が、別名の許容に頼らずに MX ホストへ配送できます。",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    hosts = observation.mail_hosts
    if not hosts:
        return not_applicable(observation)
    evidence = (observation.mx_evidence(), *host_evidence(hosts))
    # A name with a CNAME has no other data, so one answered lookup settles it (RFC 1034 §3.6.2).
    undecided = next((h for h in hosts if not any(lookup.status.answered for lookup in h.lookups)), None)
    if undecided is not None:
        outcome = ", ".join(lookup.outcome for lookup in undecided.lookups)
        return Verdict(Grade.UNKNOWN, UNDECIDED.format(host=undecided.exchange, outcome=outcome), evidence)
    aliased = [h for h in hosts if h.canonical is not None]
    if not aliased:
        return Verdict(Grade.A, CLEAN, evidence)
    aliases = ", ".join(f"{h.exchange} → {h.canonical}" for h in aliased)
    fixed_hosts = tuple(_canonical(h) for h in observation.hosts)
    fixed = replace(observation, hosts=fixed_hosts)
    snippet = "\n".join(_canonical(h).zone_line(observation.domain) for h in aliased)
    after = AfterFix(evaluate(fixed).grade, EFFECT)
    summary = ALIASED.format(count=len(aliased), aliases=aliases)
    return Verdict(Grade.C, summary, evidence, Fix(FIX, snippet), after)


def _canonical(host: MxHost) -> MxHost:
    canonical = host.canonical
    if canonical is None:
        return host
    lookups = {
        lookup.rdtype: replace(lookup, name=canonical, cname_chain=())
        for lookup in host.lookups
        if lookup.status is not Status.NOT_APPLICABLE
    }
    return replace(host, exchange=canonical, ipv4=lookups.get("A"), ipv6=lookups.get("AAAA"))


CHECK = Check(
    id="email.mx.cname",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC2181_ALIAS, RFC5321_MX),
    observer=MX,
    evaluate=evaluate,
)
