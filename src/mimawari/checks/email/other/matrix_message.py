"""The matrix tests that read the sample message: what receivers conclude from mail the domain sent.

Each returns None when no sample was given, and the caller (``judge``) then falls back on what DNS alone
shows or on "needs a sample message". A result that depends on the sending IP says so when the IP is not
known (``--sending-ip``), rather than guessing.
"""

from __future__ import annotations

from mimawari.checks.email.other.matrix import MIN_DKIM_BITS, Result, State
from mimawari.model import Evidence, Fix, Status, Text
from mimawari.observations.message import MessageObservation
from mimawari.observations.message_auth import AuthResult
from mimawari.observations.spf_eval import SpfResult

NEEDS_IP = Text(
    "The sending IP is not known: give it with --sending-ip, or use a message as received (with the "
    "receiving server's Received field).",
    "送信 IP が分かりません。--sending-ip で指定するか、受信側の Received フィールドを含む受信したままの"
    "メッセージを使ってください。",
)
SIGN = Text(
    "Sign every message with DKIM using a key published under the From domain (d= the From domain or its "
    "organisational domain); with an email service, enable its custom-domain DKIM.",
    "From ドメイン（またはその組織ドメイン）の d= で公開した鍵を使い、すべてのメッセージに DKIM 署名してください。"
    "メール配信サービスでは独自ドメインの DKIM を有効にしてください。",
)
AUTHORISE = Text(
    "Authorise the sending server in the envelope sender's SPF record (an ip4:/ip6: or include: for the "
    "service).",
    "エンベロープ送信者の SPF レコードで送信サーバーを許可してください（ip4:/ip6: またはサービスの include:）。",
)
ALIGN = Text(
    "Make SPF or DKIM pass for the From domain: sign with d= the From domain, or use a bounce address "
    "(Return-Path) in the From domain that the sending service's SPF authorises.",
    "From ドメインで SPF または DKIM が pass するようにしてください: d= を From ドメインにして署名するか、"
    "送信サービスの SPF で許可された From ドメインのバウンスアドレス（Return-Path）を使います。",
)
PTR = Text(
    "Ask whoever runs the sending IP (your ISP or email service) for a PTR record whose name resolves back "
    "to the IP.",
    "送信 IP の管理者（ISP またはメール配信サービス）に、その名前が同じ IP に正引きできる PTR レコードを"
    "設定してもらってください。",
)
TLS = Text(
    "Enable TLS on the sending server (Postfix: smtp_tls_security_level = may).",
    "送信サーバーで TLS を有効にしてください（Postfix: smtp_tls_security_level = may）。",
)
FORMAT = Text(
    "Fix the message headers so that the message follows RFC 5322 (one From, Date and Message-ID, every "
    "header line a field).",
    "RFC 5322 に沿うようヘッダーを直してください（From・Date・Message-ID は各 1 つ、各ヘッダー行はフィールド）。",
)
ONE_CLICK = Text(
    "Add both fields, with an https URI that unsubscribes on a POST, and list both in the DKIM signature's "
    "h= tag. Transactional mail (receipts, password resets) is exempt.",
    "POST で登録解除できる https URI を持つ両フィールドを追加し、DKIM 署名の h= タグに両方を含めてください。"
    "取引メール（領収書、パスワード再設定など）は対象外です。",
)
ONE_CLICK_SNIPPET = (
    "List-Unsubscribe: <https://example.com/unsubscribe?id=...>, <mailto:unsubscribe@example.com>\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
)
VISIBLE = Text(
    "Put an unsubscribe link in the body where readers see it (the footer), in both the HTML and text parts.",
    "本文の読者に見える場所（フッター）に登録解除リンクを置いてください（HTML とテキストの両方）。",
)


def _sample(message: MessageObservation) -> bool:
    return message.has_sample


def message_spf(message: MessageObservation) -> Result | None:
    """SPF for the sending IP; None without a sample or without the IP (DNS then tells what it can)."""
    if not _sample(message) or message.spf.evaluation is None:
        return None
    evidence = (*message.sample_evidence(), message.spf.evidence())
    result = message.spf.result
    if result is SpfResult.PASS:
        return Result(
            State.PASS, Text("SPF passes for the sample.", "サンプルで SPF が pass します。"), evidence
        )
    if result is SpfResult.TEMPERROR:
        return Result(State.UNKNOWN, Text("SPF gave temperror.", "SPF が temperror でした。"), evidence)
    shown = result.value if result else "?"
    return Result(
        State.FAIL,
        Text(f"SPF gives {shown} for the sample.", f"サンプルの SPF 結果は {shown} です。"),
        evidence,
        Fix(AUTHORISE),
    )


def message_dkim(message: MessageObservation) -> Result | None:
    if not _sample(message):
        return None
    evidence = (*message.sample_evidence()[:1], *(s.evidence() for s in message.signatures))
    if message.passing_signatures:
        return Result(State.PASS, Text("A DKIM signature verifies.", "DKIM 署名が検証できます。"), evidence)
    if not message.signatures:
        return Result(
            State.FAIL,
            Text("The sample carries no DKIM signature.", "サンプルに DKIM 署名がありません。"),
            evidence,
            Fix(SIGN),
        )
    if all(s.result is AuthResult.TEMPERROR for s in message.signatures):
        return Result(State.UNKNOWN, Text("The key lookups failed.", "鍵の照会に失敗しました。"), evidence)
    return Result(
        State.FAIL,
        Text("No DKIM signature of the sample verifies.", "サンプルの DKIM 署名はどれも検証できません。"),
        evidence,
        Fix(SIGN),
    )


def message_key_bits(message: MessageObservation) -> Result | None:
    keys = [s for s in message.signatures if s.key.bits] if _sample(message) else []
    if not keys:
        return None
    evidence = tuple(s.evidence() for s in keys)
    weak = [s for s in keys if (s.key.key_type or "rsa") == "rsa" and (s.key.bits or 0) < MIN_DKIM_BITS]
    if weak:
        names = ", ".join(f"s={s.signature.selector} ({s.key.bits} bits)" for s in weak)
        return Result(
            State.FAIL,
            Text(
                f"The sample is signed with keys under 1024 bits: {names}.",
                f"1024 ビット未満の鍵で署名: {names}。",
            ),
            evidence,
        )
    return Result(
        State.PASS,
        Text("The signing keys are 1024 bits or more.", "署名鍵は 1024 ビット以上です。"),
        evidence,
    )


def message_alignment(message: MessageObservation) -> Result:
    if not _sample(message):
        return Result(
            State.NEEDS_MESSAGE,
            Text("Alignment is a property of a message.", "アラインメントはメッセージの性質です。"),
        )
    outcome = message.dmarc_outcome
    evidence = (*message.sample_evidence(), *((outcome.evidence(),) if outcome else ()))
    aligned = bool(message.aligned_passing) or message.spf.aligned
    if aligned:
        how = ", ".join(
            [
                *(f"DKIM d={s.signature.domain}" for s in message.aligned_passing),
                *(["SPF"] if message.spf.aligned else []),
            ]
        )
        return Result(
            State.PASS,
            Text(f"The From domain is aligned ({how}).", f"From ドメインがアラインしています（{how}）。"),
            evidence,
        )
    result = outcome.result if outcome else AuthResult.NONE
    if result is AuthResult.TEMPERROR:
        return Result(State.UNKNOWN, Text("A lookup failed.", "照会に失敗しました。"), evidence)
    if result is AuthResult.NEUTRAL or (message.spf.evaluation is None and not message.signatures):
        return Result(State.NEEDS_MESSAGE, NEEDS_IP, evidence)
    return Result(
        State.FAIL,
        Text(
            f"Neither SPF nor DKIM passes for the From domain {message.from_domain or '(none)'}.",
            f"From ドメイン {message.from_domain or '（なし）'} で SPF も DKIM も pass しません。",
        ),
        evidence,
        Fix(ALIGN),
    )


def message_reverse_dns(message: MessageObservation) -> Result:
    if not _sample(message):
        return Result(
            State.NEEDS_MESSAGE,
            Text("The sending IP is known only from a message.", "送信 IP はメッセージからのみ分かります。"),
        )
    reverse = message.reverse
    if reverse is None:
        return Result(State.NEEDS_MESSAGE, NEEDS_IP, message.sample_evidence())
    evidence = (*message.sample_evidence()[1:2], *reverse.evidence())
    confirmation = reverse.confirmation
    if confirmation is Status.PRESENT:
        names = ", ".join(reverse.confirmed_names)
        return Result(
            State.PASS,
            Text(
                f"{reverse.address} has forward-confirmed reverse DNS ({names}).",
                f"{reverse.address} の逆引きは正引きで確認できます（{names}）。",
            ),
            evidence,
        )
    if confirmation is Status.ABSENT:
        why = "no PTR record" if not reverse.names else "no PTR name resolves back to it"
        return Result(
            State.FAIL,
            Text(
                f"{reverse.address}: {why}.",
                f"{reverse.address}: {'PTR レコードがありません' if not reverse.names else '正引きで戻る PTR 名がありません'}。",
            ),
            evidence,
            Fix(PTR),
        )
    return Result(
        State.UNKNOWN, Text("The reverse DNS lookup failed.", "逆引きの照会に失敗しました。"), evidence
    )


def message_tls(message: MessageObservation) -> Result:
    if not _sample(message):
        return Result(
            State.NEEDS_MESSAGE,
            Text("TLS use shows in a received message.", "TLS の使用は受信したメッセージで分かります。"),
        )
    hop = message.last_hop
    if hop is None:
        return Result(
            State.NEEDS_MESSAGE,
            Text(
                "The sample has no Received field from a receiving server; use a message as received.",
                "サンプルに受信サーバーの Received フィールドがありません。受信したままのメッセージを使ってください。",
            ),
            message.sample_evidence()[:1],
        )
    evidence = (Evidence(f"Received #{hop.index + 1}", hop.text),)
    if hop.tls:
        return Result(
            State.PASS,
            Text(
                f"The last hop used TLS ({hop.tls_detail}).", f"最後の中継は TLS を使用（{hop.tls_detail}）。"
            ),
            evidence,
        )
    if hop.protocol_known:
        return Result(
            State.FAIL,
            Text(
                f"The last hop was sent without TLS (with {hop.protocol}).",
                f"最後の中継は TLS なしで送信されました（with {hop.protocol}）。",
            ),
            evidence,
            Fix(TLS),
        )
    return Result(
        State.UNKNOWN,
        Text(
            "The Received field does not say whether TLS was used.",
            "Received フィールドから TLS の使用は分かりません。",
        ),
        evidence,
    )


def message_format(message: MessageObservation) -> Result:
    if not _sample(message) or message.message is None:
        return Result(
            State.NEEDS_MESSAGE, Text("Format is a property of a message.", "形式はメッセージの性質です。")
        )
    problems = message.message.problems
    serious = [p for p in problems if p.serious]
    evidence = (*message.sample_evidence()[:1], *(Evidence("RFC 5322", p.text) for p in problems[:5]))
    if serious:
        return Result(
            State.FAIL,
            Text(
                f"{len(serious)} format problems receivers reject or misread: {serious[0].text}.",
                f"受信側が拒否または誤読する形式の問題 {len(serious)} 件: {serious[0].text}。",
            ),
            evidence,
            Fix(FORMAT),
        )
    if problems:
        return Result(
            State.PASS,
            Text(
                f"The sample follows RFC 5322 in what receivers check; minor: {problems[0].text}.",
                f"受信側が確認する点では RFC 5322 に沿っています。軽微な点: {problems[0].text}。",
            ),
            evidence,
        )
    return Result(
        State.PASS, Text("The sample follows RFC 5322.", "サンプルは RFC 5322 に沿っています。"), evidence
    )


def message_one_click(message: MessageObservation) -> Result:
    if not _sample(message) or message.message is None:
        return Result(
            State.NEEDS_MESSAGE,
            Text("Unsubscribe fields are in a message.", "登録解除フィールドはメッセージにあります。"),
        )
    fields = message.message.unsubscribe
    evidence = (
        Evidence("List-Unsubscribe", fields.value if fields.value is not None else "absent"),
        Evidence("List-Unsubscribe-Post", fields.post if fields.post is not None else "absent"),
    )
    missing = []
    if not fields.present:
        missing.append("no List-Unsubscribe field")
    elif not fields.https:
        missing.append("no https URI in List-Unsubscribe")
    if not fields.post_valid:
        missing.append("no List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    if not missing and not message.unsubscribe_signed:
        missing.append("the fields are not covered by a passing DKIM signature (RFC 8058 §4)")
    if missing:
        shown = "; ".join(missing)
        return Result(
            State.FAIL,
            Text(
                f"One-click unsubscribe is not offered: {shown}.",
                f"ワンクリック登録解除に対応していません: {shown}。",
            ),
            evidence,
            Fix(ONE_CLICK, ONE_CLICK_SNIPPET),
        )
    return Result(
        State.PASS,
        Text(
            "One-click unsubscribe (RFC 8058) is offered and signed.",
            "ワンクリック登録解除（RFC 8058）があり署名されています。",
        ),
        evidence,
    )


def message_visible_unsubscribe(message: MessageObservation) -> Result:
    if not _sample(message) or message.message is None:
        return Result(
            State.NEEDS_MESSAGE, Text("The link is in a message body.", "リンクはメッセージ本文にあります。")
        )
    found = message.message.visible_unsubscribe
    if found:
        return Result(
            State.PASS,
            Text("The body shows an unsubscribe link.", "本文に登録解除リンクがあります。"),
            tuple(Evidence("body", text) for text in found[:3]),
        )
    return Result(
        State.FAIL,
        Text("No unsubscribe link was found in the body.", "本文に登録解除リンクが見つかりません。"),
        (Evidence("body", "no unsubscribe link or wording"),),
        Fix(VISIBLE),
    )
