"""dns.ns.cname — does an NS record name an alias (CNAME)?

RFC 2181 §10.3: the name an NS record points to must not be an alias. Resolvers handle it unevenly and
some fail the delegation. C, with the NS records rewritten to the canonical names as the fix. A host
whose address lookups were all unanswered cannot be judged: unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.ns.base import RFC2181_ALIAS, UNKNOWN, ns_absent, ns_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.ns import NS, NsHost, NsObservation

TITLE = Text("Name server is an alias (CNAME)", "ネームサーバー名が別名（CNAME）")

CLEAN = Text(
    "Every NS record names a host directly, not an alias.",
    "すべての NS レコードが別名ではなくホスト名を直接指定しています。",
)
ALIASED = Text(
    "{count} NS record(s) name an alias (CNAME): {aliases}. RFC 2181 §10.3 forbids this and some "
    "resolvers fail to use such name servers.",
    "{count} 件の NS レコードが別名（CNAME）を指定しています: {aliases}。これは RFC 2181 10.3 節で禁止されて"
    "おり、一部のリゾルバーはそのネームサーバーを利用できません。",
)
FIX = Text(
    "Point these NS records (here and at the registrar) at the canonical host names:",
    "これらの NS レコードを（こことレジストラの両方で）正式なホスト名に変更してください:",
)
EFFECT = Text(
    "Every resolver can use every listed name server.",
    "すべてのリゾルバーが、指定されたすべてのネームサーバーを利用できます。",
)


def evaluate(observation: NsObservation) -> Verdict:
    failed = ns_unknown(observation, hosts=False) or ns_absent(observation)
    if failed is not None:
        return failed
    evidence = (*observation.ns_evidence(), *observation.host_evidence())
    undecided = next(
        (h for h in observation.hosts if not any(lookup.status.answered for lookup in h.lookups)), None
    )
    if undecided is not None:
        outcome = ", ".join(lookup.outcome for lookup in undecided.lookups) or "not asked"
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=undecided.name, outcome=outcome), evidence)
    aliased = [h for h in observation.hosts if h.canonical is not None]
    if not aliased:
        return Verdict(Grade.A, CLEAN, evidence)
    fixed = replace(observation, hosts=tuple(_canonical(h) for h in observation.hosts))
    snippet = observation.zone_lines(tuple(_canonical(h).name for h in aliased))
    aliases = ", ".join(f"{h.name} → {h.canonical}" for h in aliased)
    summary = ALIASED.format(count=len(aliased), aliases=aliases)
    return Verdict(Grade.C, summary, evidence, Fix(FIX, snippet), AfterFix(evaluate(fixed).grade, EFFECT))


def _canonical(host: NsHost) -> NsHost:
    canonical = host.canonical
    if canonical is None:
        return host
    ipv4, ipv6 = (
        replace(lookup, name=canonical, cname_chain=()) if lookup is not None else None
        for lookup in (host.ipv4, host.ipv6)
    )
    return NsHost(canonical, ipv4, ipv6)


CHECK = Check(
    id="dns.ns.cname",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC2181_ALIAS,),
    observer=NS,
    evaluate=evaluate,
)
