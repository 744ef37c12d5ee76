"""dns.ns.count — does the domain's zone have at least two name servers?

RFC 1034 §4.1 asks for at least two name servers per zone and RFC 2182 §5 explains why: with one, a
single outage makes the whole domain — mail included — disappear, and senders bounce mail as if the
domain did not exist. One NS host: D. None found up to the organisational domain: E.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.ns.base import NO_NS, NXDOMAIN, RFC1034_NS, RFC2182, ns_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.ns import NS, NsHost, NsObservation

TITLE = Text("Number of name servers", "ネームサーバーの数")

ENOUGH = Text(
    "The zone {zone} has {count} name servers: {hosts}.",
    "ゾーン {zone} には {count} 台のネームサーバーがあります: {hosts}。",
)
SINGLE = Text(
    "The zone {zone} has a single name server ({host}): when it is down, the whole domain disappears and "
    "mail to it bounces.",
    "ゾーン {zone} のネームサーバーは 1 台（{host}）だけです。停止するとドメイン全体が見えなくなり、宛てた"
    "メールは返送されます。",
)
FIX_SECOND = Text(
    "Add a second name server on a different network (a secondary DNS service, or your own server "
    "elsewhere) serving a copy of the zone, and list it in the NS set here and at the registrar. If "
    "its name is inside the zone, also publish its address and register it as glue.",
    "別のネットワークにある 2 台目のネームサーバー（セカンダリ DNS サービスや別拠点の自社サーバー）で"
    "ゾーンの複製を提供し、ここの NS レコードとレジストラの登録に追加してください。ゾーン内の名前を使う場合は、"
    "そのアドレスも公開し、グルーとして登録します。",
)
FIX_PUBLISH = Text(
    "Publish the zone's NS records (at least two servers on different networks).",
    "ゾーンの NS レコードを公開してください（別々のネットワークにある 2 台以上のサーバー）。",
)
EFFECT = Text(
    "The domain stays resolvable when one name server fails.",
    "ネームサーバーが 1 台停止しても、ドメインの名前解決が続きます。",
)


def evaluate(observation: NsObservation) -> Verdict:
    failed = ns_unknown(observation, hosts=False)
    if failed is not None:
        return failed
    evidence = observation.ns_evidence()
    if observation.nxdomain:
        return Verdict(Grade.NA, NXDOMAIN.format(domain=observation.domain), evidence)
    zone = observation.zone or observation.domain
    if observation.status is not Status.PRESENT or not observation.hosts:
        top = observation.lookups[-1].query.name if observation.lookups else zone
        starter = (f"ns1.{top}", f"ns2.{top}")
        fixed = replace(observation, status=Status.PRESENT, zone=top, hosts=tuple(NsHost(n) for n in starter))
        summary = NO_NS.format(domain=observation.domain, top=top)
        fix = Fix(FIX_PUBLISH, fixed.zone_lines(starter))
        return Verdict(Grade.E, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT))
    names = tuple(h.name for h in observation.hosts)
    if len(names) >= 2:
        return Verdict(Grade.A, ENOUGH.format(zone=zone, count=len(names), hosts=", ".join(names)), evidence)
    taken = set(names)
    second = next(n for i in range(2, 10) if (n := f"ns{i}.{zone}") not in taken)
    fixed = replace(observation, hosts=(*observation.hosts, NsHost(second)))
    fix = Fix(FIX_SECOND, fixed.zone_lines((second,)))
    summary = SINGLE.format(zone=zone, host=names[0])
    return Verdict(Grade.D, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT))


CHECK = Check(
    id="dns.ns.count",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(RFC1034_NS, RFC2182),
    observer=NS,
    evaluate=evaluate,
)
