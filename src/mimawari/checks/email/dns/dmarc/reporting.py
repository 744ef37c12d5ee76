"""email.dmarc.reporting — are aggregate reports requested (``rua``), and are ``rua``/``ruf`` well-formed?

Without a usable ``rua`` (a valid ``mailto:`` URI: every receiver that sends reports supports it, other
schemes may be ignored, RFC 9989 §4.7) no receiver sends aggregate reports and the owner flies blind:
nobody sees spoofing or broken legitimate senders, and the policy can never safely be raised: C.
Invalid URIs (receivers skip them) and the obsolete ``!size`` suffix (RFC 9989 §4.8: reporters ignore
it) grade B. The fix repairs what it can (adds a missing ``mailto:``, drops the size) and otherwise
points ``rua`` at a mailbox in the organisational domain.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import RFC9989_TAGS, record_evidence, single_record, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dmarc import DMARC, DmarcObservation
from mimawari.parse.dmarc import DmarcRecord, ReportUri, parse_report_uri

TITLE = Text("DMARC reporting addresses (rua, ruf)", "DMARC レポート送付先（rua・ruf）")
GOOD = Text(
    "Aggregate reports are requested at {rua}.",
    "集計レポートの送付先として {rua} が指定されています。",
)
NO_RUA = Text(
    "The DMARC record at {location} requests no aggregate reports (no usable rua=mailto: address): you cannot "
    "see who sends mail as your domain, spoofers included, nor safely raise the policy.",
    "{location} の DMARC レコードは集計レポートを要求していません（有効な rua=mailto: がありません）。"
    "なりすましを含め誰がドメインを名乗って送信しているかを把握できず、ポリシーを安全に引き上げることもできません。",
)
FLAWED = Text(
    "Some report addresses in the DMARC record at {location} are unusable or outdated: {problems}.",
    "{location} の DMARC レコードのレポート送付先の一部が無効、または古い形式です: {problems}。",
)
SIZE = Text("{uri}: the !size suffix is obsolete", "{uri}: !size 指定は廃止された形式です")
FIX_RUA = Text(
    "Publish the record with a rua address whose mailbox (or DMARC report service) you read.",
    "実際に確認するメールボックス（または DMARC レポートサービス）を rua に指定したレコードを公開してください。",
)
FIX_URIS = Text(
    "Publish the record with the report addresses corrected.",
    "レポート送付先を修正したレコードを公開してください。",
)
EFFECT = Text(
    "Receivers send daily aggregate reports: you see every source of mail using your domain.",
    "受信側から毎日集計レポートが届き、ドメインを使うすべての送信元を把握できます。",
)


def evaluate(observation: DmarcObservation) -> Verdict:
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    location = observation.location or ""
    rua, ruf = record.report_uris("rua"), record.report_uris("ruf")
    evidence: tuple[Evidence, ...] = (record_evidence(observation),)
    usable = [uri.text for uri in rua if uri.valid and uri.scheme == "mailto"]
    problems = [
        *(Text(uri.problem, uri.problem) for uri in (*rua, *ruf) if not uri.valid),
        *(SIZE.format(uri=uri.text) for uri in (*rua, *ruf) if uri.valid and uri.size),
    ]
    evidence += tuple(Evidence("report address problem", p.en) for p in problems)
    if usable and not problems:
        return Verdict(Grade.A, GOOD.format(rua=", ".join(usable)), evidence)
    new_rua = _repaired(rua)
    if not any(uri.startswith("mailto:") for uri in new_rua):
        new_rua.append(f"mailto:dmarc-reports@{observation.org_domain}")
    fixed = record.rebuilt(rua=",".join(new_rua), ruf=",".join(_repaired(ruf)) or None)
    after = evaluate(observation.with_record(fixed, location))
    if not usable:
        summary, grade, action = NO_RUA.format(location=location), Grade.C, FIX_RUA
    else:
        listed = Text("; ".join(p.en for p in problems), "、".join(p.ja for p in problems))
        summary = Text(
            FLAWED.en.format(location=location, problems=listed.en),
            FLAWED.ja.format(location=location, problems=listed.ja),
        )
        grade, action = Grade.B, FIX_URIS
    return Verdict(
        grade,
        summary,
        evidence,
        Fix(action, zone_line(location, fixed)),
        AfterFix(after.grade, EFFECT),
        Severity.MEDIUM if grade is Grade.C else Severity.LOW,
    )


def _repaired(uris: tuple[ReportUri, ...]) -> list[str]:
    """The URIs receivers can use: valid ones without the obsolete size, bare addresses given mailto:."""
    repaired = []
    for uri in uris:
        candidate = uri if uri.valid else parse_report_uri(f"mailto:{uri.without_size}")
        if candidate.valid and candidate.without_size not in repaired:
            repaired.append(candidate.without_size)
    return repaired


CHECK = Check(
    id="email.dmarc.reporting",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        RFC9989_TAGS,
        Reference("RFC 9989 §4.6, §4.8", "https://www.rfc-editor.org/rfc/rfc9989#section-4.6"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
