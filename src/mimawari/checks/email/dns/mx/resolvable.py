"""email.mx.resolvable — does every MX host have an address (A or AAAA)?

An MX host with neither an A nor an AAAA record (NXDOMAIN or NODATA for both) cannot receive mail
(RFC 5321 §5.1). All of them: no mail arrives, E. Some: senders waste time on them and mail is delayed
when the dead one has the best preference, C. A host whose lookups timed out or failed without an
address is not unresolvable but unknown, and so is the verdict.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    PLACEHOLDER_V4,
    RFC5321_MX,
    host_evidence,
    hosts_unknown,
    mx_unknown,
    not_applicable,
    resolved_host,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mx import MX, MxObservation

TITLE = Text("MX hosts resolve", "MX ホストの名前解決")

CLEAN = Text(
    "Every MX host has an address: {hosts}.",
    "すべての MX ホストにアドレスがあります: {hosts}。",
)
DEAD = Text(
    "{count} of {total} MX host(s) have no address (no A and no AAAA record): {dead}. Mail cannot be "
    "delivered to them.",
    "{total} 台中 {count} 台の MX ホストにアドレス（A・AAAA レコード）がありません: {dead}。これらのホストには"
    "メールを配送できません。",
)
FIX_REMOVE = Text(
    "Delete the MX records of the hosts without an address, keeping only these:",
    "アドレスのないホストの MX レコードを削除し、次のレコードだけを残してください:",
)
FIX_ADDRESS = Text(
    "Publish the address of the mail server for the MX host name (replace the placeholder with the "
    "server's public IPv4 address; add an AAAA record if it has IPv6).",
    "MX ホスト名にメールサーバーのアドレスを公開してください（プレースホルダーをサーバーの公開 IPv4 "
    "アドレスに置き換え、IPv6 がある場合は AAAA レコードも追加します）。",
)
EFFECT = Text(
    "Every MX host can be reached, so senders deliver without detours or failures.",
    "すべての MX ホストに到達でき、送信側は遠回りや失敗なしに配送できます。",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    hosts = observation.mail_hosts
    if not hosts:
        return not_applicable(observation)
    undecided = hosts_unknown(observation, hosts)
    if undecided is not None:
        return undecided
    evidence = (observation.mx_evidence(), *host_evidence(hosts))
    dead = [h for h in hosts if h.resolution is Status.ABSENT]
    if not dead:
        return Verdict(Grade.A, CLEAN.format(hosts=", ".join(h.exchange for h in hosts)), evidence)
    alive = tuple(h for h in observation.hosts if h not in dead)
    if any(not h.is_null and h.ip_literal is None for h in alive):
        fixed = replace(observation, hosts=alive)
        fix = Fix(FIX_REMOVE, observation.mx_zone_lines(alive))
    else:
        fixed = replace(
            observation,
            hosts=tuple(resolved_host(h, h.exchange) if h in dead else h for h in observation.hosts),
        )
        fix = Fix(FIX_ADDRESS, "\n".join(f"{h.exchange}. IN A {PLACEHOLDER_V4}" for h in dead))
    grade = Grade.E if len(dead) == len(hosts) else Grade.C
    summary = DEAD.format(count=len(dead), total=len(hosts), dead=", ".join(h.exchange for h in dead))
    severity = Severity.HIGH if grade is Grade.E else Severity.MEDIUM
    return Verdict(grade, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT), severity)


CHECK = Check(
    id="email.mx.resolvable",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC5321_MX,),
    observer=MX,
    evaluate=evaluate,
)
