"""email.mta.tls_reports — what senders' SMTP TLS reports (RFC 8460) say about TLS with the MX hosts.

The scan sees the MX hosts from one place at one moment; TLS reports are what every reporting sender saw
over days, under the policy it applied (MTA-STS, DANE, or none). The check grades the share of failed
sessions in the window: none A, under 0.1 % B, under 1 % C, under 5 % D, more E (``SHARE_BANDS``). A
few failures are normal background (a sender with an outdated CA store, a middlebox); a share in whole
percent means some senders cannot deliver over TLS at all — with MTA-STS ``enforce`` or DANE they defer
the mail, otherwise they send it without a validated (or any) TLS connection.

The fix follows the result type with the most failed sessions (RFC 8460 §4.3): certificate problems →
the MX certificate; ``starttls-not-supported`` → STARTTLS on the MX; ``sts-*`` → the MTA-STS policy host;
``tlsa-invalid``, ``dnssec-invalid``, ``dane-required`` → the TLSA records; anything else → the report
details. N/A when the scan was given no report data, or the reports count no sessions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from mimawari.check import Check
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Fix,
    Grade,
    Reference,
    Severity,
    Text,
    TlsReportSummary,
    Verdict,
)
from mimawari.observations.tls_reports import TLS_REPORTS, TlsReportsObservation

RFC8460 = Reference("RFC 8460 (SMTP TLS Reporting)", "https://www.rfc-editor.org/rfc/rfc8460")

SHARE_BANDS: tuple[tuple[float, Grade], ...] = ((0.001, Grade.B), (0.01, Grade.C), (0.05, Grade.D))
"""Upper bounds (exclusive) of the failed-session share for each grade; no failure at all is A, a
share of 5 % or more is E."""
TOP_RESULT_TYPES = 5
TOP_MX_HOSTS = 5
MAX_REPORTERS = 10
"""How many result types, MX hosts and reporters the evidence names; the rest are counted."""
UNNAMED_MX = "(MX host not named in the reports)"
"""``receiving-mx-hostname`` is optional (RFC 8460 §4.4), so failures may come without it."""

TITLE = Text("TLS failures reported by senders (TLS-RPT)", "送信側から報告された TLS の失敗（TLS-RPT）")

NO_DATA = Text(
    "No SMTP TLS reports received, so what senders see cannot be graded. Publish a TLS-RPT record "
    "(_smtp._tls TXT) and ingest the reports with mimawari dmarc ingest.",
    "SMTP TLS レポートを受け取っていないため、送信側から見た状況は評価できません。TLS-RPT レコード"
    "（_smtp._tls の TXT）を公開し、mimawari dmarc ingest でレポートを取り込んでください。",
)
NO_SESSIONS = Text(
    "No SMTP TLS reports received with any session counted ({reports} reports in the last {days} days). "
    "Publish a TLS-RPT record (_smtp._tls TXT) and ingest the reports with mimawari dmarc ingest.",
    "セッション数を含む SMTP TLS レポートを受け取っていません（過去 {days} 日間のレポート {reports} 件）。"
    "TLS-RPT レコード（_smtp._tls の TXT）を公開し、mimawari dmarc ingest でレポートを取り込んでください。",
)
ALL_SUCCEEDED = Text(
    "All {sessions} SMTP TLS sessions that senders reported in the last {days} days succeeded.",
    "過去 {days} 日間に送信側が報告した SMTP TLS セッション {sessions} 件はすべて成功しています。",
)
FAILED = Text(
    "{failed} of {sessions} SMTP TLS sessions that senders reported in the last {days} days failed "
    "({share}), most often {result_type}: {cause}. Depending on their policy, those senders deferred the "
    "mail (MTA-STS enforce, DANE) or sent it without a validated TLS connection.",
    "過去 {days} 日間に送信側が報告した SMTP TLS セッション {sessions} 件のうち {failed} 件が失敗しています"
    "（{share}）。最も多い結果は {result_type} で、{cause_ja}。ポリシーに応じて、送信側はメールの配送を"
    "保留した（MTA-STS の enforce、DANE）か、検証済みの TLS 接続なしで送信しています。",
)
NO_RESULT_TYPE = Text(
    "the reports name no result type",
    "レポートには結果の種類が記載されていません",
)


class Remedy(Enum):
    """What to fix, by the kind of failure."""

    CERTIFICATE = "certificate"
    STARTTLS = "starttls"
    STS_POLICY = "sts-policy"
    TLSA = "tlsa"
    OTHER = "other"


@dataclass(frozen=True)
class ResultType:
    """One RFC 8460 §4.3 result type: what it means, and what fixes it."""

    remedy: Remedy
    cause: Text


RESULT_TYPES: Mapping[str, ResultType] = {
    "certificate-expired": ResultType(
        Remedy.CERTIFICATE,
        Text("the MX certificate had expired", "MX の証明書の有効期限が切れていました"),
    ),
    "certificate-host-mismatch": ResultType(
        Remedy.CERTIFICATE,
        Text("the MX certificate does not name the MX host", "MX の証明書に MX ホスト名が含まれていません"),
    ),
    "certificate-not-trusted": ResultType(
        Remedy.CERTIFICATE,
        Text(
            "the MX certificate chain is not trusted (self-signed, a private CA, or a missing intermediate)",
            "MX の証明書チェーンが信頼されていません（自己署名、私設 CA、または中間証明書の欠落）",
        ),
    ),
    "validation-failure": ResultType(
        Remedy.CERTIFICATE,
        Text("the MX certificate could not be validated", "MX の証明書を検証できませんでした"),
    ),
    "starttls-not-supported": ResultType(
        Remedy.STARTTLS,
        Text("the MX host did not offer STARTTLS", "MX ホストが STARTTLS を提供していませんでした"),
    ),
    "sts-policy-fetch-error": ResultType(
        Remedy.STS_POLICY,
        Text("the MTA-STS policy could not be fetched", "MTA-STS ポリシーを取得できませんでした"),
    ),
    "sts-policy-invalid": ResultType(
        Remedy.STS_POLICY,
        Text("the MTA-STS policy is not valid", "MTA-STS ポリシーが正しくありません"),
    ),
    "sts-webpki-invalid": ResultType(
        Remedy.STS_POLICY,
        Text(
            "the certificate of the MTA-STS policy host is not valid",
            "MTA-STS ポリシーのホストの証明書が有効ではありません",
        ),
    ),
    "tlsa-invalid": ResultType(
        Remedy.TLSA,
        Text(
            "no TLSA record matches what the MX presents",
            "MX が提示する証明書に一致する TLSA レコードがありません",
        ),
    ),
    "dnssec-invalid": ResultType(
        Remedy.TLSA,
        Text(
            "the DNSSEC signatures of the TLSA records could not be validated",
            "TLSA レコードの DNSSEC 署名を検証できませんでした",
        ),
    ),
    "dane-required": ResultType(
        Remedy.TLSA,
        Text(
            "the sender requires DANE but found no DNSSEC-validated TLSA records",
            "送信側は DANE を必須としていますが、DNSSEC で検証された TLSA レコードが見つかりませんでした",
        ),
    ),
}
OTHER = ResultType(
    Remedy.OTHER,
    Text("see the failure details in the reports", "詳細はレポートの失敗情報を参照してください"),
)

FIXES: Mapping[Remedy, tuple[Text, str]] = {
    Remedy.CERTIFICATE: (
        Text(
            "Give every MX host a certificate from a public CA that names the host, is in date and is "
            "served with its intermediates; renew it automatically. Check what {host} presents, then set "
            "it (Postfix shown):",
            "すべての MX ホストに、公的な CA が発行し、ホスト名を含み、有効期間内の証明書を中間証明書とともに"
            "設定し、自動更新してください。{host} が提示する証明書を確認してから設定します（Postfix の例）:",
        ),
        """# what the MX presents: the dates, the names and "Verify return code"
openssl s_client -starttls smtp -connect {host}:25 -servername {host} -showcerts </dev/null

# /etc/postfix/main.cf
smtpd_tls_cert_file = /etc/letsencrypt/live/{host}/fullchain.pem
smtpd_tls_key_file = /etc/letsencrypt/live/{host}/privkey.pem
# then: postfix reload""",
    ),
    Remedy.STARTTLS: (
        Text(
            "Offer STARTTLS on every MX host, with a certificate for its name. If the server already offers "
            "it, look for a firewall that inspects SMTP and strips STARTTLS from the EHLO reply (Cisco "
            "ESMTP inspection) and turn that off. Postfix shown:",
            "すべての MX ホストで、ホスト名の証明書を使って STARTTLS を提供してください。サーバーが既に提供して"
            "いる場合は、SMTP を検査して EHLO の応答から STARTTLS を削除するファイアウォール（Cisco の ESMTP "
            "インスペクション）がないか確認し、無効にしてください。Postfix の例:",
        ),
        """# /etc/postfix/main.cf
smtpd_tls_security_level = may
smtpd_tls_cert_file = /etc/letsencrypt/live/{host}/fullchain.pem
smtpd_tls_key_file = /etc/letsencrypt/live/{host}/privkey.pem
# then: postfix reload, and check that EHLO lists STARTTLS from outside:
openssl s_client -starttls smtp -connect {host}:25 -servername {host} </dev/null""",
    ),
    Remedy.STS_POLICY: (
        Text(
            "Make the MTA-STS policy host answer https://mta-sts.{domain}/.well-known/mta-sts.txt with "
            "HTTP 200, Content-Type text/plain, no redirect and a valid policy listing every MX host, over "
            "a certificate from a public CA for mta-sts.{domain} (RFC 8461 §3.3). Check it, and publish:",
            "MTA-STS ポリシーのホストが https://mta-sts.{domain}/.well-known/mta-sts.txt に対し、"
            "mta-sts.{domain} の公的な CA の証明書で、リダイレクトなしに HTTP 200、Content-Type text/plain、"
            "すべての MX ホストを列挙した正しいポリシーを返すようにしてください（RFC 8461 §3.3）。確認のうえ、"
            "次の内容を公開します:",
        ),
        """# must succeed with HTTP 200 and Content-Type: text/plain (curl checks the certificate)
curl -sS -D - https://mta-sts.{domain}/.well-known/mta-sts.txt

# the policy file; keep "testing" until the reports show no failures, then "enforce"
version: STSv1
mode: testing
{mx_lines}
max_age: 604800

# after any change to the policy, give the _mta-sts record a new id (RFC 8461 §3.1)
_mta-sts.{domain}. IN TXT "v=STSv1; id=<new id: up to 32 letters and digits, e.g. 202601011200>\"""",
    ),
    Remedy.TLSA: (
        Text(
            "Publish TLSA records at _25._tcp of every MX host that match the key the host presents, in a "
            "DNSSEC-signed zone, and publish the next key's record before changing keys (RFC 7671 §8). The "
            "DANE-EE record (3 1 1) of the key {host} presents now:",
            "すべての MX ホストの _25._tcp に、ホストが提示する鍵に一致する TLSA レコードを DNSSEC 署名された"
            "ゾーンで公開し、鍵を変更する前に次の鍵のレコードを公開してください（RFC 7671 §8）。{host} が現在"
            "提示している鍵の DANE-EE レコード（3 1 1）:",
        ),
        """# the SHA-256 of the public key {host} presents now
openssl s_client -starttls smtp -connect {host}:25 -servername {host} </dev/null 2>/dev/null \\
  | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r
# publish (in the DNSSEC-signed zone):
_25._tcp.{host}. IN TLSA 3 1 1 <that digest>
# and check that it validates:
delv _25._tcp.{host} TLSA""",
    ),
    Remedy.OTHER: (
        Text(
            "Read the failure details of the reports (result type, receiving MX and IP, additional "
            "information) and fix what they name on {host}:",
            "レポートの失敗の詳細（結果の種類、受信 MX と IP、追加情報）を確認し、{host} で指摘された点を"
            "修正してください:",
        ),
        """# the failure details of one report (RFC 8460 §4.4 JSON, usually gzipped)
gzip -dc <report>.json.gz | jq '.policies[] | ."failure-details"[]?'""",
    ),
}
EFFECT = Text(
    "Senders establish validated TLS with every MX host; their reports show no failed sessions, and no "
    "mail waits or travels unprotected.",
    "送信側がすべての MX ホストと検証済みの TLS 接続を確立でき、レポートに失敗したセッションがなくなり、"
    "配送の保留や保護されない送信がなくなります。",
)


def share_grade(failed: int, sessions: int) -> Grade:
    """The grade of ``failed`` sessions out of ``sessions`` (> 0)."""
    if failed == 0:
        return Grade.A
    share = failed / sessions
    return next((grade for bound, grade in SHARE_BANDS if share < bound), Grade.E)


def percent(failed: int, sessions: int) -> str:
    """The failed share to three significant digits, cut (never rounded) so that a share under a band's
    bound is never shown at the bound: 99 of 100,000 is ``0.099 %``, not ``0.1 %``."""
    if failed == 0:
        return "0 %"
    value = 100 * failed / sessions
    decimals = max(0, 2 - math.floor(math.log10(value)))
    scale = 10**decimals
    cut = math.floor(value * scale + 1e-9) / scale
    return f"{cut:.{decimals}f}".rstrip("0").rstrip(".") + " %"


def counted(pairs: tuple[tuple[str, int], ...], limit: int, unnamed: str = "") -> str:
    """``certificate-expired 120, starttls-not-supported 3`` and how many more were left out."""
    shown = ", ".join(f"{name or unnamed} {count:,}" for name, count in pairs[:limit])
    rest = len(pairs) - limit
    return f"{shown}, and {rest} more" if rest > 0 else shown


def evidence_of(summary: TlsReportSummary, domain: str) -> tuple[Evidence, ...]:
    source = f"TLS reports for {domain}, last {summary.days} days"
    sessions = summary.sessions
    found = [
        Evidence(source, f"{summary.reports:,} reports from {len(summary.reporters)} reporters"),
        Evidence(
            "sessions",
            f"{sessions:,} in total: {summary.successful_sessions:,} successful, "
            f"{summary.failed_sessions:,} failed ({percent(summary.failed_sessions, sessions)})",
        ),
    ]
    if summary.failures:
        found.append(Evidence("failed sessions by result type", counted(summary.failures, TOP_RESULT_TYPES)))
    if summary.mx_hosts:
        by_mx = counted(summary.mx_hosts, TOP_MX_HOSTS, UNNAMED_MX)
        found.append(Evidence("failed sessions by receiving MX host", by_mx))
    if summary.policy_types:
        found.append(Evidence("policies applied by the senders", ", ".join(summary.policy_types)))
    if summary.reporters:
        named = ", ".join(summary.reporters[:MAX_REPORTERS])
        rest = len(summary.reporters) - MAX_REPORTERS
        found.append(Evidence("reporters", f"{named}, and {rest} more" if rest > 0 else named))
    return tuple(found)


def dominant(summary: TlsReportSummary) -> tuple[str, int] | None:
    """The result type with the most failed sessions (the first of equals, as the summary orders them)."""
    return max(summary.failures, key=lambda pair: pair[1], default=None)


def fix_for(remedy: Remedy, summary: TlsReportSummary, domain: str) -> Fix:
    hosts = [name for name, _count in summary.mx_hosts if name]
    host = hosts[0] if hosts else "<MX host>"
    action, snippet = FIXES[remedy]
    mx_lines = "\n".join(f"mx: {name}" for name in hosts) or "mx: <every MX host>"
    values = {"host": host, "domain": domain, "mx_lines": mx_lines}
    return Fix(action.format(**values), snippet.format(**values))


def evaluate(observation: TlsReportsObservation) -> Verdict:
    summary = observation.summary
    if summary is None:
        return Verdict(Grade.NA, NO_DATA)
    evidence = evidence_of(summary, observation.domain)
    if summary.sessions <= 0:
        return Verdict(Grade.NA, NO_SESSIONS.format(reports=summary.reports, days=summary.days), evidence)
    grade = share_grade(summary.failed_sessions, summary.sessions)
    if grade is Grade.A:
        text = ALL_SUCCEEDED.format(sessions=f"{summary.sessions:,}", days=summary.days)
        return Verdict(grade, text, evidence)
    top = dominant(summary)
    result_type, kind = (top[0], RESULT_TYPES.get(top[0], OTHER)) if top else ("-", OTHER)
    cause = kind.cause if top else NO_RESULT_TYPE
    text = FAILED.format(
        failed=f"{summary.failed_sessions:,}",
        sessions=f"{summary.sessions:,}",
        days=summary.days,
        share=percent(summary.failed_sessions, summary.sessions),
        result_type=result_type,
        cause=cause.en,
        cause_ja=cause.ja,
    )
    fix = fix_for(kind.remedy, summary, observation.domain)
    return Verdict(grade, text, evidence, fix, AfterFix(Grade.A, EFFECT))


CHECK = Check(
    id="email.mta.tls_reports",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8460,),
    observer=TLS_REPORTS,
    evaluate=evaluate,
)
