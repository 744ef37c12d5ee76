"""email.mx.ip_literal — does an MX record name an IP address instead of a host name?

The MX exchange is a domain name (RFC 1035 §3.3.9); ``10 192.0.2.25.`` is looked up as the name
``192.0.2.25.``, which does not exist, so senders that follow RFC 5321 §5.1 cannot deliver to it. Every
MX host an IP literal: E (no mail arrives); some: D. The fix gives the address a host name.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    RFC5321_MX,
    address_line,
    mx_unknown,
    not_applicable,
    resolved_host,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mx import MX, MxObservation

TITLE = Text("MX target is an IP address", "MX の宛先が IP アドレス")

CLEAN = Text("Every MX record names a host name.", "すべての MX レコードがホスト名を指定しています。")
LITERAL = Text(
    "{count} of {total} MX record(s) name an IP address instead of a host name: {literals}. Senders look "
    "it up as a name that does not exist and cannot deliver to it.",
    "{total} 件中 {count} 件の MX レコードがホスト名ではなく IP アドレスを指定しています: {literals}。"
    "送信側は存在しない名前として問い合わせるため、そこへは配送できません。",
)
FIX = Text(
    "Give each address a host name with an address record, and point the MX record at that name.",
    "各アドレスにホスト名とアドレスレコードを付け、MX レコードの宛先をそのホスト名に変更してください。",
)
EFFECT = Text(
    "Senders can find the mail server by its name and deliver to it.",
    "送信側がホスト名でメールサーバーを見つけ、配送できるようになります。",
)
RFC1035_MX = Reference("RFC 1035 §3.3.9", "https://www.rfc-editor.org/rfc/rfc1035#section-3.3.9")


def evaluate(observation: MxObservation) -> Verdict:
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    hosts = tuple(h for h in observation.hosts if not h.is_null)
    if not hosts:
        return not_applicable(observation)
    evidence = (observation.mx_evidence(),)
    literals = [h for h in hosts if h.ip_literal is not None]
    if not literals:
        return Verdict(Grade.A, CLEAN, evidence)
    taken = {h.exchange for h in hosts}
    names = iter(
        n
        for i in range(1, len(hosts) + len(literals) + 2)
        if (n := f"mail{i}.{observation.domain}") not in taken
    )
    renamed = {h.exchange: next(names) for h in literals}
    fixed_hosts = tuple(
        resolved_host(h, renamed[h.exchange], (h.ip_literal,)) if h.ip_literal is not None else h
        for h in observation.hosts
    )
    snippet = "\n".join(
        line
        for h in literals
        if h.ip_literal is not None
        for line in (
            address_line(renamed[h.exchange], h.ip_literal),
            h.zone_line(observation.domain, renamed[h.exchange]),
        )
    )
    after = AfterFix(evaluate(replace(observation, hosts=fixed_hosts)).grade, EFFECT)
    grade = Grade.E if len(literals) == len(hosts) else Grade.D
    summary = LITERAL.format(
        count=len(literals), total=len(hosts), literals=", ".join(h.exchange for h in literals)
    )
    severity = Severity.HIGH if grade is Grade.E else Severity.MEDIUM
    return Verdict(grade, summary, evidence, Fix(FIX, snippet), after, severity)


CHECK = Check(
    id="email.mx.ip_literal",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC1035_MX, RFC5321_MX),
    observer=MX,
    evaluate=evaluate,
)
