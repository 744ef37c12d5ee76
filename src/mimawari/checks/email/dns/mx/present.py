"""email.mx.present — does the domain say where its mail goes (MX records, or a Null MX)?

Without MX records a sender delivers to the domain's own A/AAAA address (the implicit MX of RFC 5321
§5.1), usually a web server that was never meant to take mail: C. With no MX and no address, mail
simply fails, but senders are not told the domain takes no mail: B. Both are fixed by a Null MX
(RFC 7505) — or, when the domain does receive mail, by an MX naming its mail server. A domain that does
not exist (NXDOMAIN) is not applicable; a failed lookup is unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import RFC5321_MX, RFC7505, UNKNOWN, mx_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.hosts import resolution
from mimawari.observations.mx import MX, MxHost, MxObservation

TITLE = Text("MX records", "MX レコード")

PRESENT = Text(
    "{domain} names {count} mail server(s) in MX records: {hosts}.",
    "{domain} は MX レコードで {count} 台のメールサーバーを指定しています: {hosts}。",
)
NULL_MX = Text(
    "{domain} publishes a Null MX (RFC 7505): it declares that it accepts no mail, and senders fail at "
    "once instead of trying.",
    "{domain} は Null MX（RFC 7505）を公開しており、メールを受け付けないことを宣言しています。送信側は"
    "配送を試みずに即座にエラーとします。",
)
NXDOMAIN = Text(
    "{domain} does not exist (NXDOMAIN), so it cannot receive mail.",
    "{domain} は存在しない（NXDOMAIN）ため、メールを受信できません。",
)
IMPLICIT = Text(
    "{domain} has no MX records, so senders deliver to its own address ({addresses}) as an implicit MX "
    "(RFC 5321 §5.1) — usually a web server that was never meant to receive mail.",
    "{domain} には MX レコードがないため、送信側はドメイン自身のアドレス（{addresses}）に配送します"
    "（RFC 5321 5.1 節の暗黙の MX）。通常これはメール受信を想定していない Web サーバーです。",
)
NOWHERE = Text(
    "{domain} has neither MX records nor an address: mail to it fails, but senders are not told that the "
    "domain takes no mail.",
    "{domain} には MX レコードもアドレスもありません。宛てたメールは配送に失敗しますが、メールを受け付けない"
    "ドメインであることは送信側に伝わりません。",
)
FIX_NULL_MX = Text(
    "If {domain} does not receive mail, publish a Null MX (RFC 7505) as its only MX record. If it does, "
    "publish an MX record naming its mail server instead.",
    "{domain} でメールを受信しない場合は、唯一の MX レコードとして Null MX（RFC 7505）を公開してください。"
    "受信する場合は、代わりにメールサーバーを指定する MX レコードを公開してください。",
)
EFFECT_NULL_MX = Text(
    "Senders fail at once with a clear error instead of delivering to a host that is not a mail server, "
    "and receivers can reject mail that uses the domain as its sender address (RFC 7505 §4.2).",
    "送信側はメールサーバーではないホストに配送しようとせず、明確なエラーで即座に失敗します。また受信側は、"
    "このドメインを送信者アドレスに使ったメールを拒否できます（RFC 7505 4.2 節）。",
)


def evaluate(observation: MxObservation) -> Verdict:
    domain = observation.domain
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    evidence = (observation.mx_evidence(), *(lookup.evidence() for lookup in observation.fallback))
    if observation.status is Status.PRESENT:
        if len(observation.hosts) == 1 and observation.has_null_mx:
            return Verdict(Grade.A, NULL_MX.format(domain=domain), evidence)
        hosts = ", ".join(f"{h.preference} {h.exchange}" for h in observation.hosts)
        summary = PRESENT.format(domain=domain, count=len(observation.hosts), hosts=hosts or "-")
        return Verdict(Grade.A, summary, evidence)
    if observation.nxdomain:
        return Verdict(Grade.NA, NXDOMAIN.format(domain=domain), evidence)
    fallback = resolution(observation.fallback)
    if fallback in (Status.TIMEOUT, Status.ERROR):
        lookup = next(lookup for lookup in observation.fallback if not lookup.status.answered)
        summary = UNKNOWN.format(name=f"{lookup.name} {lookup.rdtype}", outcome=lookup.outcome)
        return Verdict(Grade.UNKNOWN, summary, evidence)
    if fallback is Status.PRESENT:
        addresses = ", ".join(a.address for lookup in observation.fallback for a in lookup.addresses)
        grade, summary = Grade.C, IMPLICIT.format(domain=domain, addresses=addresses)
    else:
        grade, summary = Grade.B, NOWHERE.format(domain=domain)
    null = MxHost(0, ".")
    fixed = replace(
        observation, status=Status.PRESENT, outcome="records", records=("0 .",), hosts=(null,), fallback=()
    )
    fix = Fix(FIX_NULL_MX.format(domain=domain), null.zone_line(domain))
    after = AfterFix(evaluate(fixed).grade, EFFECT_NULL_MX)
    severity = Severity.MEDIUM if grade is Grade.C else Severity.LOW
    return Verdict(grade, summary, evidence, fix, after, severity)


CHECK = Check(
    id="email.mx.present",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC5321_MX, RFC7505),
    observer=MX,
    evaluate=evaluate,
)
