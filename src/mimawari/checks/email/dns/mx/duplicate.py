"""email.mx.duplicate — do MX records repeat a host, or a server under another name?

The same exchange listed twice (with different preferences) adds nothing; a backup MX whose every
address already belongs to a better-preference MX host is the same server under another name, so the
redundancy the owner believes in does not exist. Neither stops mail, so B, with the de-duplicated MX
set as the fix. Comparing addresses needs every host resolved: a failed lookup makes it unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    RFC5321_MX,
    host_evidence,
    hosts_unknown,
    mx_unknown,
    not_applicable,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mx import MX, MxHost, MxObservation

TITLE = Text("Duplicate MX hosts", "重複した MX ホスト")

CLEAN = Text(
    "Each MX record names a different server.",
    "各 MX レコードが異なるサーバーを指定しています。",
)
DUPLICATES = Text(
    "Some MX records add no server: {duplicates}. The redundancy they suggest does not exist.",
    "サーバーを追加していない MX レコードがあります: {duplicates}。見かけ上の冗長性は実在しません。",
)
SAME_NAME = Text("{name} is listed {count} times", "{name} が {count} 回指定されています")
SAME_SERVER = Text(
    "{name} has the same address(es) as {other} ({addresses})",
    "{name} は {other} と同じアドレスです（{addresses}）",
)
FIX = Text(
    "Publish each mail server once. If you want a backup MX, give it its own server at a different "
    "address, ideally on a different network. The MX set without the duplicates:",
    "各メールサーバーは 1 回だけ指定してください。バックアップ MX が必要な場合は、別のアドレス（できれば別の"
    "ネットワーク）にある独立したサーバーを指定します。重複を除いた MX レコード:",
)
EFFECT = Text(
    "The MX set shows the servers that really exist, so missing redundancy is visible.",
    "MX レコードが実在するサーバーだけを示し、冗長性の不足が見えるようになります。",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    hosts = observation.mail_hosts
    if not hosts:
        return not_applicable(observation)
    undecided = hosts_unknown(observation, hosts, every_address=True)
    if undecided is not None:
        return undecided
    evidence = (observation.mx_evidence(), *host_evidence(hosts))
    reasons: list[Text] = []
    kept: list[MxHost] = []
    for host in observation.hosts:
        if host not in hosts:
            kept.append(host)
            continue
        count = sum(1 for h in hosts if h.exchange == host.exchange)
        if any(k.exchange == host.exchange for k in kept):
            continue  # reported once, at its first (best) preference
        if count > 1:
            reasons.append(SAME_NAME.format(name=host.exchange, count=count))
        addresses = {a.address for a in host.addresses}
        twin = next(
            (k for k in kept if k in hosts and addresses and addresses <= {a.address for a in k.addresses}),
            None,
        )
        if twin is not None:
            listed = ", ".join(sorted(addresses))
            reasons.append(SAME_SERVER.format(name=host.exchange, other=twin.exchange, addresses=listed))
            continue
        kept.append(host)
    if not reasons:
        return Verdict(Grade.A, CLEAN, evidence)
    summary = Text(
        DUPLICATES.en.format(duplicates="; ".join(r.en for r in reasons)),
        DUPLICATES.ja.format(duplicates="、".join(r.ja for r in reasons)),
    )
    fixed = replace(observation, hosts=tuple(kept))
    fix = Fix(FIX, observation.mx_zone_lines(kept))
    return Verdict(Grade.B, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT), Severity.LOW)


CHECK = Check(
    id="email.mx.duplicate",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC5321_MX,),
    observer=MX,
    evaluate=evaluate,
)
