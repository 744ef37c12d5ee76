"""email.dkim.selectors — is a DKIM key published where we can find it?

DNS cannot list a domain's selectors (RFC 6376 §3.1: the selector comes from each message's signature),
so a key not found among the guessed ones is *not* evidence that the domain does not sign. Grades:

* A — a key record was found (its quality is graded by the other ``email.dkim.*`` checks);
* C — keys were found, but a selector the user named has none; D — only user-named selectors were
  asked about and none has a key (the user told us mail is signed with them, so those signatures fail);
* unknown — no key found: either a lookup failed (a key may be behind it), or every lookup answered and
  none of the guessed selectors has a key. The latter explains what the MX/SPF providers lead us to
  expect (e.g. Microsoft 365 without ``selector1``/``selector2`` is not signing with its own key) and asks
  for the real selector (``--dkim-selector``) rather than raising a false "no DKIM" alarm. When
  ``_domainkey.<domain>`` is NXDOMAIN (RFC 8020 §2: nothing below it), the summary says so with that
  answer as evidence; the grade stays unknown, since some servers give NXDOMAIN for empty non-terminals.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dkim.keys import (
    RFC6376,
    describe,
    example_key,
    failure_evidence,
    join,
    record_evidence,
)
from mimawari.lookup import DnsAnswer, Query
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
from mimawari.observations.dkim import DKIM, DkimObservation, ProviderHint, SelectorLookup

TITLE = Text("DKIM selector discovery", "DKIM セレクターの探索")

FOUND = Text(
    "DKIM key records found at {count} selector(s): {found}.",
    "{count} 個のセレクターで DKIM 鍵レコードが見つかりました: {found}。",
)
GIVEN_MISSING = Text(
    "The selector(s) you named have no key record: {missing}. Mail signed with them fails DKIM.",
    "指定されたセレクター {missing} に鍵レコードがありません。これらで署名されたメールは DKIM 検証に失敗します。",
)
FAILED = Text(
    "No DKIM key was found, and {count} of the {tried} selector lookups failed ({outcomes}): a key may "
    "exist behind them. This does not mean DKIM is missing; scan again.",
    "DKIM 鍵は見つかりませんでしたが、{tried} 件中 {count} 件のセレクター問い合わせが失敗しました"
    "（{outcomes}）。その先に鍵が存在する可能性があり、DKIM が未設定という意味ではありません。"
    "再度スキャンしてください。",
)
NOT_FOUND = Text(
    "No DKIM key was found among the {tried} selectors tried. This does not prove that {domain} does not "
    "sign its mail: DNS cannot list selectors, and many providers use names no list can guess.",
    "試した {tried} 個のセレクターでは DKIM 鍵が見つかりませんでした。DNS ではセレクターを列挙できず、"
    "推測できない名前を使うプロバイダーも多いため、{domain} がメールに署名していないとは断定できません。",
)
EXPECTED = Text(
    "{provider} ({seen}) signs with {selectors}, and none of them is published: {provider} probably does not "
    "sign mail as {domain} with a key of its own yet.",
    "{provider}（{seen}）は {selectors} で署名しますが、いずれも公開されていません。{provider} はまだ "
    "{domain} 自身の鍵で署名していない可能性が高いです。",
)
NOTHING_BELOW = Text(
    "No DKIM key was found: no names exist under _domainkey.{domain} (NXDOMAIN, RFC 8020), so {domain} "
    "publishes no key under any selector, and the {skipped} built-in selectors were not asked.",
    "DKIM 鍵は見つかりませんでした。_domainkey.{domain} の下には名前が存在しない（NXDOMAIN、RFC 8020）ため、"
    "{domain} はどのセレクターにも鍵を公開しておらず、組み込みの {skipped} 個のセレクターは問い合わせていません。",
)
ASKED_ANYWAY = Text(
    "The {tried} selector(s) you named or your providers use were asked anyway, in case the DNS server "
    "wrongly answers NXDOMAIN for names that have names below them.",
    "DNS サーバーが下位に名前のある名前に誤って NXDOMAIN を返す場合に備え、指定されたセレクターや利用中の"
    "プロバイダーのセレクター（計 {tried} 個）は念のため問い合わせました。",
)
UNGUESSABLE = Text(
    "{provider} ({seen}) signs with per-domain selectors that cannot be guessed.",
    "{provider}（{seen}）はドメインごとに異なる、推測できないセレクターで署名します。",
)

FIX_FIND = Text(
    "Open a message you sent and find its DKIM-Signature header: s= is the selector, d= the signing "
    "domain. Scan again with that selector. If no DKIM-Signature has d={domain}, turn on DKIM signing where "
    "you send mail from and publish the key it gives you.",
    "送信済みメールの DKIM-Signature ヘッダーを確認してください（s= がセレクター、d= が署名ドメイン）。"
    "そのセレクターを指定して再スキャンします。d={domain} の署名がない場合は、送信元のサービスで DKIM 署名を"
    "有効にし、表示される公開鍵を DNS に公開してください。",
)
FIX_PUBLISH = Text(
    "Publish the public key of the signing key at each selector you named (or correct the selector name); "
    "use a 2048-bit RSA key.",
    "指定した各セレクターに、署名鍵に対応する公開鍵を公開してください（またはセレクター名を修正してください）。"
    "RSA 鍵は 2048 ビットを使用してください。",
)
FIX_PROVIDER = {
    "Microsoft 365": Text(
        "In the Microsoft Defender portal (Email & collaboration > Policies & rules > Threat policies > "
        "Email authentication settings > DKIM), select {domain}, publish the two CNAME records it shows, "
        "then enable signing. The targets below show the form: copy the exact ones from the portal.",
        "Microsoft Defender ポータル（メールとコラボレーション > ポリシーとルール > 脅威ポリシー > "
        "メール認証の設定 > DKIM）で {domain} を選び、表示される 2 件の CNAME レコードを公開してから署名を"
        "有効にしてください。下記の参照先は形式の例です。正確な値はポータルからコピーしてください。",
    ),
    "Google Workspace": Text(
        "In the Google Admin console (Apps > Google Workspace > Gmail > Authenticate email), generate a "
        "2048-bit key with the selector prefix google, publish the TXT record it shows, then click Start "
        "authentication.",
        "Google 管理コンソール（アプリ > Google Workspace > Gmail > メールの認証）で、セレクター接頭辞 google の "
        "2048 ビット鍵を生成し、表示される TXT レコードを公開してから「認証を開始」をクリックしてください。",
    ),
}
FIX_OTHER_PROVIDER = Text(
    "Turn on DKIM signing for {domain} in {provider} and publish the DNS records it shows.",
    "{provider} で {domain} の DKIM 署名を有効にし、表示される DNS レコードを公開してください。",
)
EFFECT = Text(
    "Receivers can verify your signatures, and DMARC can pass on DKIM alignment even when mail is forwarded.",
    "受信側で署名を検証でき、転送されたメールでも DKIM のアライメントで DMARC に合格できます。",
)


def evaluate(observation: DkimObservation) -> Verdict:
    found = observation.found
    missing = _given_missing(observation)
    if found:
        listed = ", ".join(f"{lookup.selector} ({', '.join(map(describe, lookup.keys))})" for lookup in found)
        evidence = tuple(e for lookup in found for key in lookup.keys for e in record_evidence(lookup, key))
        summary = FOUND.format(count=len(found), found=listed)
        if not missing:
            return Verdict(Grade.A, summary, evidence + _hint_evidence(observation))
        summary = join(summary, GIVEN_MISSING.format(missing=", ".join(missing)))
        return _publish_given(observation, Grade.C, summary, evidence)
    failed = observation.failed
    if failed:
        outcomes = ", ".join(sorted({lookup.answer.outcome for lookup in failed}))
        summary = FAILED.format(count=len(failed), tried=len(observation.tried), outcomes=outcomes)
        return Verdict(Grade.UNKNOWN, summary, failure_evidence(observation))
    evidence = (
        *_nothing_below_evidence(observation),
        Evidence("selectors tried", ", ".join(observation.tried) or "none"),
        *(Evidence(str(answer.query), answer.describe()) for answer in observation.hint_lookups),
    )
    if missing:
        # Nothing found and nothing failed: every selector the user named answered without a key.
        return _publish_given(
            observation, Grade.D, GIVEN_MISSING.format(missing=", ".join(missing)), evidence
        )
    # Still unknown, never E, even when _domainkey is NXDOMAIN: a server may answer NXDOMAIN wrongly for
    # an empty non-terminal, and mail may be signed with a provider's domain instead of this one.
    summary = _not_found_summary(observation)
    expected = [hint for hint in observation.hints if hint.selectors]
    for hint in observation.hints:
        text = EXPECTED if hint.selectors else UNGUESSABLE
        summary = join(
            summary,
            text.format(
                provider=hint.provider,
                seen=", ".join(hint.seen),
                selectors="/".join(hint.selectors),
                domain=observation.domain,
            ),
        )
    if expected:
        return _enable_at_provider(observation, expected[0], summary, evidence)
    fix = Fix(
        FIX_FIND.format(domain=observation.domain),
        f"mimawari scan {observation.domain} --dkim-selector SELECTOR",
    )
    return Verdict(Grade.UNKNOWN, summary, evidence, fix, severity=Severity.LOW)


def _not_found_summary(observation: DkimObservation) -> Text:
    domain = observation.domain
    if not observation.nothing_below:
        return NOT_FOUND.format(tried=len(observation.tried), domain=domain)
    summary = NOTHING_BELOW.format(domain=domain, skipped=len(observation.skipped))
    if observation.tried:
        summary = join(summary, ASKED_ANYWAY.format(tried=len(observation.tried)))
    return summary


def _nothing_below_evidence(observation: DkimObservation) -> tuple[Evidence, ...]:
    """The NXDOMAIN at ``_domainkey.<domain>`` that let discovery skip the built-in selectors."""
    answer = observation.domainkey
    if answer is None or not observation.nothing_below:
        return ()
    return (
        Evidence(str(answer.query), f"{answer.describe()} (RFC 8020 §2: no names below)"),
        Evidence("selectors not asked", f"{len(observation.skipped)} built-in selectors"),
    )


def _given_missing(observation: DkimObservation) -> tuple[str, ...]:
    """Selectors the user named whose lookup answered without a key (failed lookups prove nothing)."""
    settled = {lookup.selector for lookup in (*observation.found, *observation.failed)}
    return tuple(selector for selector in observation.given if selector not in settled)


def _hint_evidence(observation: DkimObservation) -> tuple[Evidence, ...]:
    return tuple(
        Evidence("provider hint", f"{hint.provider}: {', '.join(hint.seen)}") for hint in observation.hints
    )


def _with_keys_at(observation: DkimObservation, selectors: tuple[str, ...]) -> DkimObservation:
    """The observation once a key is published at ``selectors``: what the after-fix grade is computed on."""
    added = tuple(
        SelectorLookup(
            selector,
            "given" if selector in observation.given else "common",
            DnsAnswer(
                Query.of(f"{selector}._domainkey.{observation.domain}", "TXT"), Status.PRESENT, "NOERROR"
            ),
            (example_key(),),
        )
        for selector in selectors
    )
    kept = tuple(lookup for lookup in observation.selectors if lookup.selector not in selectors)
    not_found = tuple(s for s in observation.not_found if s not in selectors)
    return replace(observation, status=Status.PRESENT, selectors=kept + added, not_found=not_found)


def _publish_given(
    observation: DkimObservation, grade: Grade, summary: Text, evidence: tuple[Evidence, ...]
) -> Verdict:
    missing = _given_missing(observation)
    snippet = "\n".join(
        f'{selector}._domainkey.{observation.domain}. IN TXT "v=DKIM1; k=rsa; p=<base64 public key of the '
        'signing key>"'
        for selector in missing
    )
    after = evaluate(_with_keys_at(observation, missing))
    severity = Severity.MEDIUM if grade is Grade.C else Severity.HIGH
    return Verdict(
        grade, summary, evidence, Fix(FIX_PUBLISH, snippet), AfterFix(after.grade, EFFECT), severity
    )


def _enable_at_provider(
    observation: DkimObservation, hint: ProviderHint, summary: Text, evidence: tuple[Evidence, ...]
) -> Verdict:
    domain = observation.domain
    if hint.provider == "Microsoft 365":
        dashed = domain.replace(".", "-")
        snippet = "\n".join(
            f"{s}._domainkey.{domain}. IN CNAME {s}-{dashed}._domainkey.TENANT.onmicrosoft.com."
            for s in hint.selectors
        )
    elif hint.provider == "Google Workspace":
        snippet = (
            f'google._domainkey.{domain}. IN TXT "v=DKIM1; k=rsa; p=<public key from the Admin console>"'
        )
    else:
        snippet = None
    action = FIX_PROVIDER.get(hint.provider, FIX_OTHER_PROVIDER).format(domain=domain, provider=hint.provider)
    after = evaluate(_with_keys_at(observation, hint.selectors[:1]))
    return Verdict(
        Grade.UNKNOWN, summary, evidence, Fix(action, snippet), AfterFix(after.grade, EFFECT), Severity.MEDIUM
    )


CHECK = Check(
    id="email.dkim.selectors",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        Reference("RFC 6376 §3.1, §3.6.2", "https://www.rfc-editor.org/rfc/rfc6376#section-3.1"),
        RFC6376,
        Reference("RFC 8020 §2", "https://www.rfc-editor.org/rfc/rfc8020#section-2"),
    ),
    observer=DKIM,
    evaluate=evaluate,
)
