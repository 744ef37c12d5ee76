"""email.dkim.revoked — revoked keys (an empty ``p=``).

An empty ``p=`` revokes a key (RFC 6376 §3.6.1): the right way to retire a selector, since signatures made
with the old key then fail instead of verifying forever. So a revoked key next to live ones is fine (A,
reported for the record). When every key found is revoked, mail signed with them fails DKIM and no live
key was found: C, with the advice to name the selector in use or publish a new key. No revoked key: N/A.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import RFC6376, example_key, nothing_to_judge, record_evidence
from mimawari.lookup import DnsAnswer, Query
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.dkim import DKIM, DkimObservation, SelectorLookup

TITLE = Text("Revoked DKIM keys", "失効した DKIM 鍵")

NONE_REVOKED = Text("No revoked DKIM key was found.", "失効した DKIM 鍵は見つかりませんでした。")
RETIRED = Text(
    "Revoked key(s) at {revoked} (p= empty): the correct way to retire a selector. Live keys remain at "
    "{live}.",
    "{revoked} の鍵は失効しています（p= が空）。セレクターを廃止する正しい方法です。有効な鍵は {live} に"
    "あります。",
)
ONLY_REVOKED = Text(
    "Every DKIM key found is revoked ({revoked}): mail signed with them fails DKIM, and no live key was "
    "found. If you sign with another selector, scan again naming it; otherwise publish a new key.",
    "見つかった DKIM 鍵はすべて失効しています（{revoked}）。これらで署名されたメールは DKIM 検証に失敗し、"
    "有効な鍵は見つかりませんでした。別のセレクターで署名している場合はそれを指定して再スキャンし、"
    "そうでなければ新しい鍵を公開してください。",
)
FIX = Text(
    "Publish a new 2048-bit key under a new selector and sign with it (or scan again with "
    "--dkim-selector naming the selector you sign with).",
    "新しいセレクターで 2048 ビットの新しい鍵を公開し、その鍵で署名してください（または、署名に使っている"
    "セレクターを --dkim-selector で指定して再スキャンしてください）。",
)
EFFECT = Text("Receivers can verify your signatures again.", "受信側で再び署名を検証できるようになります。")
PLACEHOLDER = "<base64 public key of the signing key>"


def evaluate(observation: DkimObservation) -> Verdict:
    nothing = nothing_to_judge(observation)
    if nothing is not None:
        return nothing
    revoked = [(lookup, key) for lookup, key in observation.keys if key.revoked]
    if not revoked:
        return Verdict(Grade.NA, NONE_REVOKED)
    evidence = tuple(e for lookup, key in revoked for e in record_evidence(lookup, key))
    names = ", ".join(dict.fromkeys(lookup.selector for lookup, _ in revoked))
    live = [lookup.selector for lookup, key in observation.keys if not key.revoked]
    if live:
        return Verdict(Grade.A, RETIRED.format(revoked=names, live=", ".join(dict.fromkeys(live))), evidence)
    selector = f"{revoked[0][0].selector}-new"
    owner = f"{selector}._domainkey.{observation.domain}"
    snippet = f'{owner}. IN TXT "v=DKIM1; k=rsa; p={PLACEHOLDER}"'
    added = SelectorLookup(
        selector, "common", DnsAnswer(Query.of(owner, "TXT"), Status.PRESENT), (example_key(),)
    )
    after = evaluate(replace(observation, selectors=(*observation.selectors, added)))
    return Verdict(
        Grade.C,
        ONLY_REVOKED.format(revoked=names),
        evidence,
        Fix(FIX, snippet),
        AfterFix(after.grade, EFFECT),
        Severity.MEDIUM,
    )


CHECK = Check(
    id="email.dkim.revoked",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC6376,),
    observer=DKIM,
    evaluate=evaluate,
)
