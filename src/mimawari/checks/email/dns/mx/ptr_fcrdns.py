"""email.ptr.fcrdns — does the reverse DNS of every MX address lead back to it (forward-confirmed)?

Forward-confirmed reverse DNS: some PTR name of the address has an A (or, for IPv6, AAAA) record with
that same address. Receivers check exactly this (the "iprev" method of RFC 8601 §3) and treat a failure
much like a missing PTR. Addresses without any PTR are graded by email.ptr.present and left out here.
A PTR or forward lookup that failed, with nothing confirmed, makes the verdict unknown.
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

TITLE = Text("Forward-confirmed reverse DNS of MX addresses", "MX アドレスの正引き・逆引きの一致（FCrDNS）")

NO_PTR = Text(
    "No MX address has a PTR record to confirm (see the PTR check).",
    "確認できる PTR レコードを持つ MX アドレスがありません（PTR のチェックを参照）。",
)
CLEAN = Text(
    "The reverse DNS of every MX address leads back to it: {names}.",
    "すべての MX アドレスの逆引き名が元のアドレスに正引きできます: {names}。",
)
UNCONFIRMED = Text(
    "The PTR names of {count} MX address(es) do not resolve back to them: {pairs}. Receivers treat this "
    "like missing reverse DNS.",
    "{count} 件の MX アドレスで、PTR 名が元のアドレスに正引きできません: {pairs}。受信側はこれを逆引き"
    "なしと同様に扱います。",
)
FIX = Text(
    "Ask the provider of each address to point its PTR record at the MX host name, which resolves to it:",
    "各アドレスの提供者に依頼し、PTR レコードを（そのアドレスに正引きできる）MX ホスト名に向けてください:",
)
EFFECT = Text(
    "Receivers' reverse-DNS (iprev) checks of the MX addresses pass.",
    "受信側による MX アドレスの逆引き検証（iprev）に合格します。",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = reverse_unknown(observation, forward=True)
    if failed is not None:
        return failed
    if not observation.reverse:
        return no_public_addresses(observation)
    named = [r for r in observation.reverse if r.status is Status.PRESENT]
    evidence = tuple(e for r in named for e in r.evidence())
    if not named:
        return Verdict(Grade.NA, NO_PTR, tuple(e for r in observation.reverse for e in r.evidence()))
    unconfirmed = [r for r in named if r.confirmation is Status.ABSENT]
    if not unconfirmed:
        names = ", ".join(f"{r.address} ↔ {' / '.join(r.confirmed_names)}" for r in named)
        return Verdict(Grade.A, CLEAN.format(names=names), evidence)
    snippet, fixed = ptr_to_mx_host(observation, unconfirmed)
    pairs = ", ".join(f"{r.address} → {' / '.join(r.names)}" for r in unconfirmed)
    summary = UNCONFIRMED.format(count=len(unconfirmed), pairs=pairs)
    return Verdict(Grade.C, summary, evidence, Fix(FIX, snippet), AfterFix(evaluate(fixed).grade, EFFECT))


CHECK = Check(
    id="email.ptr.fcrdns",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8601_IPREV, RFC1912_PTR),
    observer=MX,
    evaluate=evaluate,
)
