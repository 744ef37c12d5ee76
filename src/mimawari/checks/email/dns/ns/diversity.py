"""dns.ns.diversity — are the name servers spread over more than one network?

RFC 2182 §3 asks for secondaries "at topologically distant" places. The usual outside-in proxy: not all
IPv4 addresses in one /24, and not all IPv6 addresses in one /48 (the smallest prefixes routed on the
internet), since one routing or data-centre failure then takes every server down. IPv4 concentrated: C
(IPv6, if any, then hardly helps: most resolvers still try IPv4). Only IPv6 concentrated: B. A name
server whose addresses are unknown makes the verdict unknown; no address at all is graded by
dns.ns.resolvable and is not applicable here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.ns.base import RFC2182, ns_absent, ns_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.hosts import AddressLookup, HostAddress
from mimawari.observations.ns import NS, NsHost, NsObservation
from mimawari.parse.mx import AddressScope

TITLE = Text("Name servers on separate networks", "ネームサーバーのネットワーク分散")

NO_ADDRESSES = Text(
    "No name server address to compare (see the name server resolution check).",
    "比較できるネームサーバーのアドレスがありません（ネームサーバーの名前解決のチェックを参照）。",
)
SPREAD = Text(
    "The name servers of {zone} are spread over {networks}.",
    "{zone} のネームサーバーは {networks} に分散しています。",
)
CONCENTRATED = Text(
    "Every {family} address of the name servers of {zone} is in {network}: one routing or data-centre "
    "failure takes them all down.",
    "{zone} のネームサーバーの {family} アドレスがすべて {network} 内にあります。1 つの経路障害やデータ"
    "センター障害で全台が停止します。",
)
FIX = Text(
    "Add a name server on a different network — a secondary DNS service, or your own server elsewhere — "
    "and list it here and at the registrar (replace the placeholder with its address):",
    "別のネットワークにあるネームサーバー（セカンダリ DNS サービスや別拠点の自社サーバー）を追加し、"
    "こことレジストラに登録してください（プレースホルダーをそのアドレスに置き換えます）:",
)
EFFECT = Text(
    "The domain stays resolvable when one network fails.",
    "1 つのネットワークに障害が起きても、ドメインの名前解決が続きます。",
)
PREFIX = {4: 24, 6: 48}
OTHER_NETWORK = {4: ("198.51.100.53", "192.0.2.53"), 6: ("2001:db8:53::53", "2001:db8:5353::53")}
"""Stand-ins for the new server's address, to compute the after-fix grade."""


def networks(observation: NsObservation, version: int) -> set[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return {
        ipaddress.ip_network(f"{a.address}/{PREFIX[version]}", strict=False)
        for h in observation.hosts
        for a in h.addresses
        if ipaddress.ip_address(a.address).version == version
    }


def evaluate(observation: NsObservation) -> Verdict:
    failed = ns_unknown(observation, hosts=True, every_address=True) or ns_absent(observation)
    if failed is not None:
        return failed
    evidence = (*observation.ns_evidence(), *observation.host_evidence())
    zone = observation.zone or observation.domain
    found = {version: networks(observation, version) for version in (4, 6)}
    if not found[4] and not found[6]:
        return Verdict(Grade.NA, NO_ADDRESSES, evidence)
    concentrated = [v for v in (4, 6) if len(found[v]) == 1]
    if not concentrated:
        listed = ", ".join(str(n) for v in (4, 6) for n in sorted(found[v], key=str))
        return Verdict(Grade.A, SPREAD.format(zone=zone, networks=listed), evidence)
    version = concentrated[0]
    (network,) = found[version]
    family = f"IPv{version}"
    grade = Grade.C if version == 4 or not found[4] else Grade.B
    taken = {h.name for h in observation.hosts}
    name = next(n for i in range(2, 20) if (n := f"ns{i}.{zone}") not in taken)
    extra = NsHost(
        name,
        *(
            _lookup(name, v, next(a for a in OTHER_NETWORK[v] if ipaddress.ip_address(a) not in network))
            if v in concentrated
            else None
            for v in (4, 6)
        ),
    )
    rdtype = {4: "A", 6: "AAAA"}
    snippet = "\n".join(
        [
            observation.zone_lines((name,)),
            *(
                f"{name}. IN {rdtype[v]} <IPv{v} address outside {next(iter(found[v]))}>"
                for v in concentrated
            ),
        ]
    )
    fixed = replace(observation, hosts=(*observation.hosts, extra))
    summary = CONCENTRATED.format(family=family, zone=zone, network=network)
    severity = Severity.MEDIUM if grade is Grade.C else Severity.LOW
    return Verdict(
        grade, summary, evidence, Fix(FIX, snippet), AfterFix(evaluate(fixed).grade, EFFECT), severity
    )


def _lookup(name: str, version: int, address: str) -> AddressLookup:
    rdtype = "A" if version == 4 else "AAAA"
    return AddressLookup(
        name, rdtype, Status.PRESENT, "records", (HostAddress(address, AddressScope.PUBLIC),)
    )


CHECK = Check(
    id="dns.ns.diversity",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC2182,),
    observer=NS,
    evaluate=evaluate,
)
