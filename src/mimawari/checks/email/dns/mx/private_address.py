"""email.mx.private_address — do MX hosts resolve to addresses no sender on the internet can reach?

Private (RFC 1918, RFC 4193), shared (RFC 6598), loopback, link-local, multicast and reserved
addresses are not reachable from the internet; a loopback MX even makes a sender deliver to itself, which
RFC 5321 §5.1 has it treat as an error. Documentation prefixes (RFC 5737, RFC 3849) count as public: the
lab publishes its hosts there. Every address unreachable: no mail arrives, E; some: D (senders try them
first or in turn, delaying or losing mail). Internal names leaking into public DNS is also information
an attacker can use.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    PLACEHOLDER_V4,
    RFC5321_MX,
    address_line,
    host_evidence,
    hosts_unknown,
    mx_unknown,
    not_applicable,
    resolved_host,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mx import MX, MxHost, MxObservation
from mimawari.parse.mx import AddressScope

TITLE = Text("MX hosts at private or reserved addresses", "MX ホストのプライベート・予約済みアドレス")

CLEAN = Text(
    "Every MX address is a public address.",
    "すべての MX アドレスが公開アドレスです。",
)
UNREACHABLE = Text(
    "{count} MX address(es) cannot be reached from the internet: {addresses}.",
    "{count} 件の MX アドレスにインターネットから到達できません: {addresses}。",
)
FIX_KEEP = Text(
    "Publish only public addresses for the MX hosts, and MX records only for hosts that have one: "
    "delete every other address and MX record, so that the MX data is exactly:",
    "MX ホストには公開アドレスだけを公開し、公開アドレスを持つホストの MX レコードだけを残してください。"
    "それ以外のアドレスと MX レコードを削除し、MX 関連のレコードを次のとおりにします:",
)
FIX_PUBLIC = Text(
    "Replace the internal addresses with the public address of the mail server (replace the "
    "placeholder), and delete the internal address records.",
    "内部アドレスをメールサーバーの公開アドレスに置き換え（プレースホルダーを置き換えてください）、"
    "内部アドレスのレコードを削除してください。",
)
EFFECT = Text(
    "Senders on the internet reach the mail servers at every address they are given.",
    "インターネット上の送信側が、指定されたすべてのアドレスでメールサーバーに到達できます。",
)
RFC6890 = Reference("RFC 6890 (special-purpose addresses)", "https://www.rfc-editor.org/rfc/rfc6890")


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
    bad = [(h, a) for h in hosts for a in h.addresses if a.scope is not AddressScope.PUBLIC]
    if not bad:
        return Verdict(Grade.A, CLEAN, evidence)
    addresses = ", ".join(f"{h.exchange} {a.address} ({a.scope.value})" for h, a in bad)
    summary = UNREACHABLE.format(count=len(bad), addresses=addresses)
    mail = set(hosts)
    removed = {h.exchange for h in hosts if not _public_only(h).addresses}
    kept = tuple(_public_only(h) if h in mail else h for h in observation.hosts if h.exchange not in removed)
    if any(h.addresses for h in kept):
        partial = [h for h in kept if h.addresses and h not in mail]
        lines = [observation.mx_zone_lines(kept)] if removed else []
        lines += [address_line(h.exchange, a.address) for h in partial for a in h.addresses]
        fix = Fix(FIX_KEEP, "\n".join(lines))
        fixed = replace(observation, hosts=kept)
        grade, severity = Grade.D, Severity.MEDIUM
    else:
        fix = Fix(FIX_PUBLIC, "\n".join(f"{name}. IN A {PLACEHOLDER_V4}" for name in sorted(removed)))
        fixed = replace(
            observation,
            hosts=tuple(
                resolved_host(h, h.exchange) if h.exchange in removed else h for h in observation.hosts
            ),
        )
        grade, severity = Grade.E, Severity.HIGH
    return Verdict(grade, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT), severity)


def _public_only(host: MxHost) -> MxHost:
    lookups = {
        lookup.rdtype: replace(
            lookup, addresses=tuple(a for a in lookup.addresses if a.scope is AddressScope.PUBLIC)
        )
        for lookup in host.lookups
    }
    return replace(host, ipv4=lookups.get("A"), ipv6=lookups.get("AAAA"))


CHECK = Check(
    id="email.mx.private_address",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC5321_MX, RFC6890),
    observer=MX,
    evaluate=evaluate,
)
