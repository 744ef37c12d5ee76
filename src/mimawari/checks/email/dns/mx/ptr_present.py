"""email.ptr.present — does every public MX address have reverse DNS (a PTR record)?

MX hosts usually send mail too, and receivers commonly refuse or score down mail from an address without
reverse DNS (RFC 1912 §2.1: every reachable host should have a PTR). None of the addresses: D; some: C.
PTR records live in the reverse zone of whoever holds the address block — usually the hosting or
network provider — so the fix is the record to ask them for, pointing at the MX host name (which
resolves back to the address, so it is forward-confirmed at once).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    RFC1912_PTR,
    RFC8601_IPREV,
    no_public_addresses,
    ptr_to_mx_host,
    reverse_unknown,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mx import MX, MxObservation

TITLE = Text("Reverse DNS (PTR) of MX addresses", "MX アドレスの逆引き（PTR）")

CLEAN = Text(
    "Every public MX address has a PTR record: {names}.",
    "すべての公開 MX アドレスに PTR レコードがあります: {names}。",
)
MISSING = Text(
    "{count} of {total} MX address(es) have no PTR record: {addresses}. Many receivers refuse or distrust "
    "mail from an address without reverse DNS.",
    "{total} 件中 {count} 件の MX アドレスに PTR レコードがありません: {addresses}。逆引きのないアドレス"
    "からのメールは、多くの受信側で拒否されるか信用されません。",
)
FIX = Text(
    "Ask the provider of each address (the holder of its reverse zone) to publish a PTR record naming the "
    "MX host:",
    "各アドレスの提供者（逆引きゾーンの管理者）に依頼し、MX ホスト名を指す PTR レコードを公開してください:",
)
EFFECT = Text(
    "Every MX address has reverse DNS that leads back to it, as receivers expect of a mail server.",
    "すべての MX アドレスに、元のアドレスへ戻る逆引きが設定され、受信側がメールサーバーに期待する状態に"
    "なります。",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = reverse_unknown(observation, forward=False)
    if failed is not None:
        return failed
    if not observation.reverse:
        return no_public_addresses(observation)
    evidence = tuple(e for r in observation.reverse for e in r.evidence())
    missing = [r for r in observation.reverse if r.status is Status.ABSENT]
    if not missing:
        names = ", ".join(f"{r.address} → {' / '.join(r.names)}" for r in observation.reverse)
        return Verdict(Grade.A, CLEAN.format(names=names), evidence)
    snippet, fixed = ptr_to_mx_host(observation, missing)
    total = len(observation.reverse)
    grade = Grade.D if len(missing) == total else Grade.C
    summary = MISSING.format(count=len(missing), total=total, addresses=", ".join(r.address for r in missing))
    return Verdict(grade, summary, evidence, Fix(FIX, snippet), AfterFix(evaluate(fixed).grade, EFFECT))


CHECK = Check(
    id="email.ptr.present",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC1912_PTR, RFC8601_IPREV),
    observer=MX,
    evaluate=evaluate,
)
