"""dns.ns.resolvable — does every name server of the zone have an address?

An NS host name without A and AAAA records (and without glue) cannot be asked: resolvers that pick it
waste time, and when no NS host resolves the domain is unreachable. Some: C; all: E. A lookup that
failed without an address is unknown, never "unresolvable".
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import EXAMPLE_V4, PLACEHOLDER_V4
from mimawari.checks.email.dns.ns.base import RFC1034_NS, ns_absent, ns_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.hosts import AddressLookup, HostAddress
from mimawari.observations.ns import NS, NsHost, NsObservation
from mimawari.parse.mx import AddressScope

TITLE = Text("Name servers resolve", "ネームサーバーの名前解決")

CLEAN = Text(
    "Every name server of {zone} has an address.",
    "{zone} のすべてのネームサーバーにアドレスがあります。",
)
DEAD = Text(
    "{count} of {total} name server(s) of {zone} have no address (no A and no AAAA record): {dead}.",
    "{zone} のネームサーバー {total} 台中 {count} 台にアドレス（A・AAAA レコード）がありません: {dead}。",
)
FIX_REMOVE = Text(
    "Delete the NS records of the servers without an address (here and at the registrar), keeping only:",
    "アドレスのないサーバーの NS レコードを（こことレジストラの両方で）削除し、次だけを残してください:",
)
FIX_ADDRESS = Text(
    "Publish the address of each name server (replace the placeholder with its public IPv4 address).",
    "各ネームサーバーのアドレスを公開してください（プレースホルダーを公開 IPv4 アドレスに置き換えます）。",
)
EFFECT = Text(
    "Resolvers can reach every listed name server.",
    "リゾルバーが、指定されたすべてのネームサーバーに到達できます。",
)


def evaluate(observation: NsObservation) -> Verdict:
    failed = ns_unknown(observation, hosts=True) or ns_absent(observation)
    if failed is not None:
        return failed
    evidence = (*observation.ns_evidence(), *observation.host_evidence())
    zone = observation.zone or observation.domain
    dead = [h for h in observation.hosts if h.resolution is Status.ABSENT]
    if not dead:
        return Verdict(Grade.A, CLEAN.format(zone=zone), evidence)
    alive = tuple(h for h in observation.hosts if h not in dead)
    if alive:
        fixed = replace(observation, hosts=alive)
        fix = Fix(FIX_REMOVE, observation.zone_lines(tuple(h.name for h in alive)))
    else:
        fixed = replace(observation, hosts=tuple(_resolved(h) for h in observation.hosts))
        fix = Fix(FIX_ADDRESS, "\n".join(f"{h.name}. IN A {PLACEHOLDER_V4}" for h in dead))
    grade = Grade.E if not alive else Grade.C
    summary = DEAD.format(
        count=len(dead), total=len(observation.hosts), zone=zone, dead=", ".join(h.name for h in dead)
    )
    severity = Severity.HIGH if grade is Grade.E else Severity.MEDIUM
    return Verdict(grade, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT), severity)


def _resolved(host: NsHost) -> NsHost:
    address = HostAddress(EXAMPLE_V4, AddressScope.PUBLIC)
    return replace(host, ipv4=AddressLookup(host.name, "A", Status.PRESENT, "records", (address,)))


CHECK = Check(
    id="dns.ns.resolvable",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC1034_NS,),
    observer=NS,
    evaluate=evaluate,
)
