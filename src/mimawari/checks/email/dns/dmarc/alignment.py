"""email.dmarc.alignment — DKIM and SPF identifier alignment modes (``adkim``, ``aspf``).

Relaxed alignment (the default, RFC 9989 §4.4) is the normal recommendation: mail signed or sent with
any name under the organisational domain passes. Strict alignment demands the exact From domain; it
protects no better against outside spoofers (they control no name under the domain either way) and only
risks failing legitimate mail sent with a subdomain. Neither is a weakness, so both grade A and the check
reports which mode applies and what it means. Invalid values count as relaxed (email.dmarc.syntax).
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import RFC9989_TAGS, record_evidence, single_record
from mimawari.model import Category, Evidence, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import DmarcRecord

TITLE = Text("DMARC alignment modes", "DMARC のアライメントモード")
MODE = {
    "r": Text("relaxed", "緩和（relaxed）"),
    "s": Text("strict", "厳格（strict）"),
}
SUMMARY = Text(
    "DKIM alignment is {adkim} and SPF alignment is {aspf}. {meaning}",
    "DKIM アライメントは {adkim}、SPF アライメントは {aspf} です。{meaning}",
)
RELAXED = Text(
    "Mail authenticated with any name under {org} passes, as recommended.",
    "推奨どおり、{org} 配下のどの名前で認証されたメールも合格します。",
)
STRICT = Text(
    "Mail authenticated only with a subdomain (for example a bounce domain like bounce.{org}) fails for the "
    "strict mechanisms; make sure every sender signs or sends with the exact From domain.",
    "サブドメイン（bounce.{org} などのバウンス用ドメイン）だけで認証されたメールは、厳格モードの仕組みでは不合格に"
    "なります。すべての送信元が From と同じドメインで署名・送信していることを確認してください。",
)


def evaluate(observation: DmarcObservation) -> Verdict:
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    adkim, aspf = record.alignment("adkim"), record.alignment("aspf")
    org = observation.org_domain
    meaning = STRICT.format(org=org) if "s" in (adkim, aspf) else RELAXED.format(org=org)
    summary = Text(
        SUMMARY.en.format(adkim=MODE[adkim].en, aspf=MODE[aspf].en, meaning=meaning.en),
        SUMMARY.ja.format(adkim=MODE[adkim].ja, aspf=MODE[aspf].ja, meaning=meaning.ja),
    )
    evidence = (
        record_evidence(observation),
        Evidence("adkim", record.tag("adkim") or "r (default)"),
        Evidence("aspf", record.tag("aspf") or "r (default)"),
    )
    return Verdict(Grade.A, summary, evidence)


CHECK = Check(
    id="email.dmarc.alignment",
    category=Category.EMAIL_DNS,
    severity=Severity.INFO,
    title=TITLE,
    references=(
        RFC9989_TAGS,
        Reference("RFC 9989 §4.4", "https://www.rfc-editor.org/rfc/rfc9989#section-4.4"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
