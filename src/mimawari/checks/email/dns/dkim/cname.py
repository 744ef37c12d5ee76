"""email.dkim.cname — selectors delegated by CNAME, and where their keys really live.

Providers (Microsoft 365, SendGrid, Amazon SES, …) have customers CNAME a selector to a name in the
provider's DNS, so the provider can rotate the key. That is fine (A), and the evidence shows the chain,
because the key's owner is then the provider. A CNAME whose target has no key record (the provider's
signing was turned off, the account closed, or Microsoft 365 DKIM never enabled) grades C: mail signed
with that selector fails. No CNAME'd selector: N/A.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import RFC6376, nothing_to_judge
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation, SelectorLookup, provider_of

TITLE = Text("DKIM selectors delegated by CNAME", "CNAME で委任された DKIM セレクター")

NO_CNAME = Text(
    "No DKIM selector found is a CNAME: the keys are published in the domain's own zone.",
    "CNAME の DKIM セレクターはありません。鍵はドメイン自身のゾーンで公開されています。",
)
DELEGATED = Text(
    "Selector(s) delegated by CNAME: {delegated}. The keys live in the provider's DNS, and the provider "
    "rotates them.",
    "CNAME で委任されたセレクターがあります: {delegated}。鍵はプロバイダーの DNS にあり、鍵の更新は"
    "プロバイダーが行います。",
)
DANGLING = Text(
    "Selector(s) CNAME'd to a name without a DKIM key: {dangling}. Mail signed with them fails DKIM; the "
    "provider's signing may be off or the account closed.",
    "DKIM 鍵のない名前を CNAME で参照しているセレクターがあります: {dangling}。これらで署名されたメールは "
    "DKIM 検証に失敗します。プロバイダー側で署名が無効になっているか、契約が終了している可能性があります。",
)
FIX = Text(
    "Turn DKIM signing on again at the provider so that it publishes the key, or, if you no longer send "
    "through it, delete these CNAME records.",
    "プロバイダー側で DKIM 署名を再度有効にして鍵を公開させるか、そのサービスから送信していない場合は"
    "これらの CNAME レコードを削除してください。",
)
EFFECT = Text(
    "No selector points to a missing key.",
    "存在しない鍵を参照するセレクターがなくなります。",
)


def _where(lookup: SelectorLookup) -> str:
    target = lookup.delegated_to or ""
    provider = provider_of(target)
    return f"{lookup.selector} → {target}" + (f" ({provider.name})" if provider else "")


def _chain(lookup: SelectorLookup) -> Evidence:
    return Evidence(f"{lookup.name} CNAME", " → ".join((lookup.name, *lookup.answer.cname_chain)))


def evaluate(observation: DkimObservation) -> Verdict:
    dangling = observation.dangling
    if not dangling:
        nothing = nothing_to_judge(observation)
        if nothing is not None:
            return nothing
    delegated = [lookup for lookup in observation.found if lookup.delegated_to]
    evidence = tuple(map(_chain, (*dangling, *delegated)))
    if dangling:
        summary = DANGLING.format(dangling=", ".join(map(_where, dangling)))
        snippet = "\n".join(
            f"; delete if unused: {lookup.name}. IN CNAME {lookup.answer.cname_chain[0]}."
            for lookup in dangling
        )
        remaining = tuple(lookup for lookup in observation.selectors if lookup not in dangling)
        after = evaluate(replace(observation, selectors=remaining))
        return Verdict(
            Grade.C, summary, evidence, Fix(FIX, snippet), AfterFix(after.grade, EFFECT), Severity.MEDIUM
        )
    if not delegated:
        return Verdict(Grade.NA, NO_CNAME)
    return Verdict(Grade.A, DELEGATED.format(delegated=", ".join(map(_where, delegated))), evidence)


CHECK = Check(
    id="email.dkim.cname",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        Reference("RFC 6376 §3.6.2.2", "https://www.rfc-editor.org/rfc/rfc6376#section-3.6.2.2"),
        RFC6376,
    ),
    observer=DKIM,
    evaluate=evaluate,
)
