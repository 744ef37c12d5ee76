"""email.other.message_unsubscribe — can a recipient unsubscribe in one click, and see how?

Gmail and Yahoo require of bulk (marketing, subscribed) mail a one-click unsubscribe (RFC 8058) and a
clearly visible unsubscribe link in the body. RFC 8058 one-click needs three things: an ``https`` URI
in ``List-Unsubscribe`` (§3.1), ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (§3.1), and a
valid DKIM signature covering both fields (§4), so nobody can plant an unsubscribe URL in a forwarded
copy.

Grades: all three and a visible link A; one-click but no visible link in the text or HTML body B;
List-Unsubscribe without a working one-click (no Post field, no https URI, or not covered by a valid
signature) C; no List-Unsubscribe at all D. Transactional mail (receipts, password resets) is exempt:
the summary says so, and the severity is medium.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import GMAIL, RFC2369, RFC8058, YAHOO, without_sample
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation

TITLE = Text("One-click unsubscribe in the sample message", "サンプルメッセージのワンクリック配信停止")
GOOD = Text(
    "The message offers one-click unsubscribe (RFC 8058, signed by DKIM) and a visible unsubscribe link.",
    "メッセージはワンクリック配信停止（RFC 8058、DKIM 署名済み）と、目に見える配信停止リンクを備えています。",
)
NOT_VISIBLE = Text(
    "The message offers one-click unsubscribe, but its body shows no unsubscribe link or word; Gmail and "
    "Yahoo also require a clearly visible way to unsubscribe.",
    "ワンクリック配信停止はありますが、本文に配信停止のリンクや文言がありません。Gmail と Yahoo は本文中に"
    "わかりやすい配信停止の方法も求めています。",
)
NOT_ONE_CLICK = Text(
    "The message has List-Unsubscribe, but no working one-click unsubscribe: {missing}. Bulk senders "
    "need RFC 8058 one-click (transactional mail is exempt).",
    "List-Unsubscribe はありますが、ワンクリック配信停止が機能しません: {missing}。一括送信者には RFC 8058 の"
    "ワンクリック配信停止が必要です（トランザクションメールは対象外）。",
)
MISSING = Text(
    "The message has no List-Unsubscribe field. Gmail and Yahoo require one-click unsubscribe of bulk "
    "senders (transactional mail is exempt).",
    "メッセージに List-Unsubscribe フィールドがありません。Gmail と Yahoo は一括送信者にワンクリック配信停止を"
    "求めています（トランザクションメールは対象外）。",
)
FIX = Text(
    "Add both fields to every marketing message, with an HTTPS endpoint that unsubscribes on a POST "
    "without further steps, sign both with DKIM, and show an unsubscribe link in the body:",
    "すべてのマーケティングメッセージに両方のフィールドを追加し（HTTPS のエンドポイントは POST を受けたら追加"
    "操作なしで配信停止する）、両方を DKIM 署名に含め、本文にも配信停止リンクを表示してください:",
)
SNIPPET = """List-Unsubscribe: <https://{domain}/unsubscribe?u=<token>>, <mailto:unsubscribe@{domain}?subject=<token>>
List-Unsubscribe-Post: List-Unsubscribe=One-Click

# sign both (OpenDKIM, /etc/opendkim.conf):
SignHeaders     From,To,Subject,Date,Message-ID,List-Unsubscribe,List-Unsubscribe-Post
OversignHeaders From,To,Subject,Date,List-Unsubscribe,List-Unsubscribe-Post

<!-- in the HTML body -->
<a href="https://{domain}/unsubscribe?u=<token>">Unsubscribe / 配信停止</a>"""
NO_HTTPS = Text("no https URI in List-Unsubscribe", "List-Unsubscribe に https の URI がない")
NO_POST = Text(
    "no List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click がない",
)
NOT_SIGNED = Text(
    "no valid DKIM signature covers both fields (RFC 8058 §4)",
    "両フィールドを含む有効な DKIM 署名がない（RFC 8058 §4）",
)
VISIBLE_FIX = Text(
    "Show an unsubscribe link in the body (text and HTML), near the footer:",
    "本文（テキストと HTML）のフッター付近に配信停止リンクを表示してください:",
)
VISIBLE_SNIPPET = '<a href="{url}">Unsubscribe / 配信停止</a>'
EFFECT = Text(
    "Recipients unsubscribe with the mailbox's own button instead of marking the mail as spam; the "
    "message meets Gmail's and Yahoo's bulk-sender requirement.",
    "受信者は迷惑メール報告ではなくメールサービスの配信停止ボタンを使うようになり、Gmail と Yahoo の一括送信者"
    "要件を満たします。",
)


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    assert observation.message is not None
    message = observation.message
    unsubscribe = message.unsubscribe
    evidence = [
        Evidence("List-Unsubscribe", unsubscribe.value if unsubscribe.value is not None else "absent"),
        Evidence("List-Unsubscribe-Post", unsubscribe.post if unsubscribe.post is not None else "absent"),
        Evidence("signed by a valid DKIM signature", "yes" if observation.unsubscribe_signed else "no"),
        Evidence("visible in the body", "; ".join(message.visible_unsubscribe) or "no link or word found"),
        *(Evidence("List-Unsubscribe problem", p) for p in unsubscribe.problems),
    ]
    domain = observation.from_domain or observation.domain
    fix = Fix(FIX, SNIPPET.format(domain=domain))
    after = AfterFix(Grade.A, EFFECT)
    if not unsubscribe.present:
        return Verdict(Grade.D, MISSING, tuple(evidence), fix, after)
    missing = [
        text
        for text, lacking in (
            (NO_HTTPS, not unsubscribe.https),
            (NO_POST, not unsubscribe.post_valid),
            (NOT_SIGNED, not observation.unsubscribe_signed),
        )
        if lacking
    ]
    if missing:
        text = Text(
            NOT_ONE_CLICK.en.format(missing="; ".join(m.en for m in missing)),
            NOT_ONE_CLICK.ja.format(missing="、".join(m.ja for m in missing)),
        )
        return Verdict(Grade.C, text, tuple(evidence), fix, after)
    if not message.visible_unsubscribe:
        url = unsubscribe.https[0]
        visible = Fix(VISIBLE_FIX, VISIBLE_SNIPPET.format(url=url))
        return Verdict(Grade.B, NOT_VISIBLE, tuple(evidence), visible, after, Severity.LOW)
    return Verdict(Grade.A, GOOD, tuple(evidence))


CHECK = Check(
    id="email.other.message_unsubscribe",
    category=Category.EMAIL_OTHER,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8058, RFC2369, GMAIL, YAHOO),
    observer=MESSAGE,
    evaluate=evaluate,
)
