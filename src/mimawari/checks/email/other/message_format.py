"""email.other.message_format — is the sample a well-formed RFC 5322 message?

Gmail requires messages formatted per RFC 5322 and rejects or junks those that are not (several From
fields, no Date, broken header lines); Yahoo and Microsoft do the same. The problems come from the
parser (``parse.message``): *serious* ones — not exactly one From with one address, not exactly one
parseable Date, a header line without a colon, 8-bit header bytes that are not UTF-8, a bare CR — get E;
the rest — no or a malformed Message-ID, a repeated singular field, lines over 998 characters, LF among
CRLF line endings — get C. None: A.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.other.message_base import GMAIL, RFC5322, without_sample
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.message import MESSAGE, MessageObservation

TITLE = Text("Format of the sample message (RFC 5322)", "サンプルメッセージの形式（RFC 5322）")
GOOD = Text(
    "The message is well formed: one From with one address, one Date, a Message-ID, no malformed lines.",
    "メッセージは正しい形式です: From は 1 つで差出人は 1 人、Date は 1 つ、Message-ID があり、不正な行はありません。",
)
SERIOUS = Text(
    "The message breaks RFC 5322 in ways receivers reject or junk: {problem} ({count} problems in all).",
    "メッセージは受信側が拒否や迷惑メール扱いをする形で RFC 5322 に違反しています: {problem}（問題は全 {count} 件）。",
)
MINOR = Text(
    "The message has RFC 5322 problems: {problem} ({count} in all).",
    "メッセージに RFC 5322 上の問題があります: {problem}（全 {count} 件）。",
)
FIX = Text(
    "Fix the software that composes the message (the template, the mailing library or the MTA's header "
    "rewriting) so that every message has exactly these fields, each once, with CRLF line endings and "
    "lines under 998 characters (long HTML wrapped, or sent quoted-printable or base64):",
    "メッセージを作成するソフトウェア（テンプレート、メール送信ライブラリ、MTA のヘッダー書き換え）を修正し、"
    "すべてのメッセージが次のフィールドをそれぞれ 1 つずつ持ち、改行は CRLF、各行は 998 文字未満（長い HTML は"
    "折り返すか quoted-printable / base64 で送る）になるようにしてください:",
)
SNIPPET = """From: Example Shop <news@{domain}>
To: <recipient>
Subject: <subject>
Date: Tue, 31 Mar 2026 09:00:00 +0900
Message-ID: <unique-id@{domain}>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable"""
EFFECT = Text(
    "Receivers parse the message as intended; it is not rejected or junked for its format.",
    "受信側がメッセージを意図どおりに解釈でき、形式を理由に拒否や迷惑メール扱いをされなくなります。",
)


def evaluate(observation: MessageObservation) -> Verdict:
    if (verdict := without_sample(observation)) is not None:
        return verdict
    assert observation.message is not None
    message = observation.message
    problems = message.problems
    evidence = tuple(
        Evidence("RFC 5322" + (" (serious)" if p.serious else ""), p.text) for p in problems
    ) + tuple(Evidence("note", note) for note in message.notes)
    if not problems:
        return Verdict(Grade.A, GOOD, evidence)
    serious = [p for p in problems if p.serious]
    first = (serious or list(problems))[0].text
    fix = Fix(FIX, SNIPPET.format(domain=observation.from_domain or observation.domain))
    after = AfterFix(Grade.A, EFFECT)
    if serious:
        return Verdict(Grade.E, SERIOUS.format(problem=first, count=len(problems)), evidence, fix, after)
    return Verdict(
        Grade.C, MINOR.format(problem=first, count=len(problems)), evidence, fix, after, Severity.LOW
    )


CHECK = Check(
    id="email.other.message_format",
    category=Category.EMAIL_OTHER,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC5322, GMAIL),
    observer=MESSAGE,
    evaluate=evaluate,
)
