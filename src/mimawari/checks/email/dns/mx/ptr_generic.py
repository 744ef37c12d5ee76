"""email.ptr.generic — does the reverse DNS of an MX address look like a generic, pool-style name?

Names such as ``203-0-113-5.dsl.provider.example`` or ``dynamic-pool-17.isp.example`` mark addresses of
home lines and address pools; blocklists and receivers refuse or score down mail from them. A name is
generic when it spells the address (dotted, dashed, reversed or hexadecimal) or carries a pool keyword
(dsl, dynamic, dhcp, pool, ppp, …). An address counts when every one of its PTR names looks generic: C.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import (
    RFC1912_PTR,
    no_public_addresses,
    ptr_to_mx_host,
    reverse_unknown,
)
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Fix,
    Grade,
    Reference,
    Severity,
    Status,
    Text,
    Verdict,
)
from mimawari.observations.mx import MX, MxObservation
from mimawari.parse.mx import generic_ptr

TITLE = Text("Generic reverse DNS names of MX addresses", "MX アドレスの汎用的な逆引き名")

NO_PTR = Text(
    "No MX address has a PTR name to judge (see the PTR check).",
    "判定できる PTR 名を持つ MX アドレスがありません（PTR のチェックを参照）。",
)
CLEAN = Text(
    "The PTR names of the MX addresses look like names of mail servers, not of address pools.",
    "MX アドレスの PTR 名は、アドレスプールではなくメールサーバーの名前になっています。",
)
GENERIC = Text(
    "The PTR names of {count} MX address(es) look generic, like those of home lines or address pools: "
    "{names}. Receivers and blocklists often refuse mail from such addresses.",
    "{count} 件の MX アドレスの PTR 名が、家庭回線やアドレスプールのような汎用的な名前です: {names}。"
    "このようなアドレスからのメールは、受信側やブロックリストで拒否されることがよくあります。",
)
FIX = Text(
    "Ask the provider of each address to set its PTR record to the mail server's own name:",
    "各アドレスの提供者に依頼し、PTR レコードをメールサーバー自身のホスト名にしてください:",
)
EFFECT = Text(
    "The MX addresses are named like dedicated mail servers.",
    "MX アドレスが専用のメールサーバーらしい名前になります。",
)
M3AAWG = Reference(
    "M3AAWG Best Practices for Reverse DNS",
    "https://www.m3aawg.org/sites/default/files/m3aawg-reverse-dns-bp-2020.pdf",
)


def evaluate(observation: MxObservation) -> Verdict:
    failed = reverse_unknown(observation, forward=False)
    if failed is not None:
        return failed
    if not observation.reverse:
        return no_public_addresses(observation)
    named = [r for r in observation.reverse if r.status is Status.PRESENT and r.names]
    if not named:
        return Verdict(Grade.NA, NO_PTR, tuple(e for r in observation.reverse for e in r.evidence()))
    evidence = tuple(Evidence(f"{r.reverse_name} PTR", " | ".join(f"{n}." for n in r.names)) for r in named)
    judged = [(r, [generic_ptr(name, r.address) for name in r.names]) for r in named]
    generic = [(r, reasons) for r, reasons in judged if all(reasons)]
    if not generic:
        return Verdict(Grade.A, CLEAN, evidence)
    evidence += tuple(
        Evidence(f"{name} (PTR of {r.address})", str(reason))
        for r, reasons in generic
        for name, reason in zip(r.names, reasons, strict=True)
    )
    snippet, fixed = ptr_to_mx_host(observation, [r for r, _reasons in generic])
    names = ", ".join(f"{r.address} → {' / '.join(r.names)}" for r, _reasons in generic)
    summary = GENERIC.format(count=len(generic), names=names)
    after = AfterFix(evaluate(fixed).grade, EFFECT)
    return Verdict(Grade.C, summary, evidence, Fix(FIX, snippet), after, Severity.LOW)


CHECK = Check(
    id="email.ptr.generic",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(M3AAWG, RFC1912_PTR),
    observer=MX,
    evaluate=evaluate,
)
