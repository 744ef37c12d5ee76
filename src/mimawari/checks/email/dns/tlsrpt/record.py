"""email.tlsrpt.record — do senders report TLS failures to the domain (RFC 8460 §3).

Exactly one valid ``v=TLSRPTv1`` record with ``mailto:`` or ``https:`` destinations: A. Missing: C, or
D when MTA-STS or DANE is deployed, because then a broken certificate or policy makes senders hold mail
and nobody is told. More than one record, or an invalid one, and senders send nothing (§3): D. A domain
that receives no mail: N/A. A failed lookup is unknown, never missing.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.tlsrpt import TLSRPT, TlsRptObservation
from mimawari.parse.tlsrpt import parse_tlsrpt, rua_problem

TITLE = Text("TLS-RPT record", "TLS-RPT レコード")

UNKNOWN = Text(
    "Whether TLS reporting is set up could not be determined: the lookup of {name} ended in {outcome}. "
    "Scan again.",
    "TLS レポートの設定有無を判定できませんでした（{name} の問い合わせ結果: {outcome}）。"
    "再度スキャンしてください。",
)
NO_MAIL = Text(
    "{domain} receives no mail, so TLS reporting does not apply.",
    "{domain} はメールを受信しないため、TLS レポートは対象外です。",
)
VALID = Text(
    "Senders report TLS connection failures to {rua}.",
    "送信側は TLS 接続の失敗を {rua} に報告します。",
)
ABSENT = Text(
    "No TLS-RPT record at _smtp._tls.{domain}: when senders fail to set up TLS with your mail servers, "
    "you are not told.",
    "_smtp._tls.{domain} に TLS-RPT レコードがありません。送信側がメールサーバーとの TLS 確立に失敗しても、"
    "通知されません。",
)
ABSENT_PROTECTED = Text(
    "No TLS-RPT record at _smtp._tls.{domain}, although {what} is deployed: if a certificate or the "
    "policy breaks, senders hold or refuse your mail and nobody tells you.",
    "{what} を導入しているのに _smtp._tls.{domain} に TLS-RPT レコードがありません。証明書やポリシーに"
    "問題が起きると送信側はメールを保留・拒否しますが、その通知が届きません。",
)
NOT_CHECKED = Text(
    " (Whether MTA-STS or DANE is deployed could not be fully checked: {failed}.)",
    "（MTA-STS / DANE の導入有無を一部確認できませんでした: {failed}）",
)
MULTIPLE = Text(
    "{count} TLS-RPT records at _smtp._tls.{domain}: senders use none of them (RFC 8460 §3).",
    "_smtp._tls.{domain} に TLS-RPT レコードが {count} 件あります。送信側はどれも使いません（RFC 8460 3 節）。",
)
INVALID = Text(
    "The TLS-RPT record at _smtp._tls.{domain} is invalid ({problems}); senders send no reports.",
    "_smtp._tls.{domain} の TLS-RPT レコードが不正（{problems}）で、レポートは送られません。",
)
FIX_PUBLISH = Text(
    "Publish a TLS-RPT record naming a mailbox (or HTTPS endpoint) that collects the daily reports.",
    "日次レポートを受け取るメールボックス（または HTTPS エンドポイント）を指定した TLS-RPT レコードを"
    "公開してください。",
)
FIX_ONE = Text(
    "Keep exactly one valid TLS-RPT record at _smtp._tls.{domain}.",
    "_smtp._tls.{domain} には正しい TLS-RPT レコードを 1 件だけ置いてください。",
)
EFFECT = Text(
    "Senders send daily reports of TLS successes and failures, so a broken certificate or policy is "
    "seen before mail is lost.",
    "送信側から TLS の成功・失敗の日次レポートが届き、証明書やポリシーの不具合にメールが失われる前に"
    "気付けます。",
)


def evaluate(observation: TlsRptObservation) -> Verdict:
    domain = observation.domain
    lookup = observation.lookup
    found = tuple(Evidence(str(a.query), a.describe()) for a in (lookup, *observation.cross_check))
    if not observation.status.answered:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=lookup.query.name, outcome=lookup.outcome), found)
    record = observation.record
    if record is not None and record.valid:
        return Verdict(Grade.A, VALID.format(rua=", ".join(record.rua)), found)
    default_rua = f"mailto:tlsrpt@{domain}"
    if len(observation.records) > 1:
        keep = next(
            (r for r in observation.records if parse_tlsrpt(r).valid), f"v=TLSRPTv1; rua={default_rua}"
        )
        summary = MULTIPLE.format(count=len(observation.records), domain=domain)
        return _verdict(
            observation,
            Grade.D,
            summary,
            found,
            Fix(FIX_ONE.format(domain=domain), _line(domain, keep)),
            keep,
        )
    if record is not None:
        rua = [uri for uri in record.rua if rua_problem(uri) is None] or [default_rua]
        fixed = f"v=TLSRPTv1; rua={','.join(rua)}"
        summary = INVALID.format(domain=domain, problems="; ".join(record.problems))
        return _verdict(
            observation,
            Grade.D,
            summary,
            found,
            Fix(FIX_ONE.format(domain=domain), _line(domain, fixed)),
            fixed,
        )
    deployed = [
        name for name, on in (("MTA-STS", observation.mta_sts), ("DANE", bool(observation.dane_hosts))) if on
    ]
    fixed = f"v=TLSRPTv1; rua={default_rua}"
    fix = Fix(FIX_PUBLISH, _line(domain, fixed))
    if deployed:
        summary = ABSENT_PROTECTED.format(domain=domain, what=" / ".join(deployed))
        return _verdict(observation, Grade.D, summary, found, fix, fixed, Severity.MEDIUM)
    receives = observation.receives_mail
    if receives is None:
        mx = next(a for a in observation.cross_check if a.query.rdtype == "MX")
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=f"{mx.query.name} MX", outcome=mx.outcome), found)
    if not receives:
        return Verdict(Grade.NA, NO_MAIL.format(domain=domain), found)
    summary = ABSENT.format(domain=domain)
    failed = observation.cross_check_failures
    if failed:
        note = NOT_CHECKED.format(failed=", ".join(f"{a.query} {a.outcome}" for a in failed))
        summary = Text(summary.en + note.en, summary.ja + note.ja)
    return _verdict(observation, Grade.C, summary, found, fix, fixed, Severity.LOW)


def _line(domain: str, record: str) -> str:
    return f'_smtp._tls.{domain}. IN TXT "{record}"'


def _verdict(
    observation: TlsRptObservation,
    grade: Grade,
    summary: Text,
    found: tuple[Evidence, ...],
    fix: Fix,
    fixed_record: str,
    severity: Severity | None = None,
) -> Verdict:
    after = evaluate(replace(observation, records=(fixed_record,), record=parse_tlsrpt(fixed_record)))
    return Verdict(grade, summary, found, fix, AfterFix(after.grade, EFFECT), severity)


CHECK = Check(
    id="email.tlsrpt.record",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        Reference("RFC 8460 §3", "https://www.rfc-editor.org/rfc/rfc8460#section-3"),
        Reference("RFC 8461 §6 (MTA-STS)", "https://www.rfc-editor.org/rfc/rfc8461#section-6"),
    ),
    observer=TLSRPT,
    evaluate=evaluate,
)
