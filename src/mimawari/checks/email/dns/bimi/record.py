"""email.bimi.record — is the BIMI assertion record well formed (draft-brand-indicators §4).

BIMI is optional, so no record (or a declination record, ``l=`` and ``a=`` empty) is N/A, not a
failure. One valid ``v=BIMI1`` record with an https ``l=`` (and ``a=`` when given): A. More than one
record, or an invalid one, means receivers show no logo: D, with the record to publish instead.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.bimi.evidence import REFERENCES, record_evidence, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.bimi import BIMI, BimiObservation
from mimawari.parse.bimi import BimiRecord, https_url_problem, parse_bimi

TITLE = Text("BIMI record", "BIMI レコード")

UNKNOWN = Text(
    "Whether a BIMI record is published could not be determined: the lookup of {name} ended in "
    "{outcome}. Scan again.",
    "BIMI レコードの公開有無を判定できませんでした（{name} の問い合わせ結果: {outcome}）。"
    "再度スキャンしてください。",
)
ABSENT = Text(
    "No BIMI record at {names}. BIMI is optional: it lets supporting mailboxes show your logo next to "
    "mail that passes DMARC.",
    "{names} に BIMI レコードはありません。BIMI は任意の仕組みで、DMARC に合格したメールの横に対応メール"
    "ボックスがロゴを表示できるようにします。",
)
DECLINED = Text(
    "The BIMI record at {location} declines BIMI (empty l= and a=): no logo is shown, on purpose.",
    "{location} の BIMI レコードは BIMI の利用を辞退しています（l= と a= が空）。ロゴは意図的に表示されません。",
)
VALID = Text(
    "BIMI record at {location}: logo {logo}.",
    "{location} に BIMI レコードがあります（ロゴ: {logo}）。",
)
MULTIPLE = Text(
    "{count} BIMI records at {location}: receivers use none of them, so no logo is shown.",
    "{location} に BIMI レコードが {count} 件あり、受信側はどれも使わないためロゴは表示されません。",
)
INVALID = Text(
    "The BIMI record at {location} is invalid ({problems}); receivers show no logo.",
    "{location} の BIMI レコードが不正（{problems}）で、ロゴは表示されません。",
)
FIX_ONE = Text(
    "Keep exactly one valid BIMI record at {location}.",
    "{location} には正しい BIMI レコードを 1 件だけ置いてください。",
)
FIX_SYNTAX = Text(
    "Publish a record that starts with v=BIMI1 and names the SVG logo with an https:// URL in l=.",
    "v=BIMI1 で始まり、l= に SVG ロゴの https:// URL を指定したレコードを公開してください。",
)
EFFECT = Text(
    "Receivers read the record and can show the logo once DMARC and the logo pass.",
    "受信側がレコードを読み取り、DMARC とロゴの条件を満たせばロゴを表示できます。",
)


def evaluate(observation: BimiObservation) -> Verdict:
    found = record_evidence(observation)
    if not observation.status.answered:
        failed = observation.lookups[-1]
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=failed.query.name, outcome=failed.outcome), found)
    location = observation.location
    if observation.status is Status.ABSENT or location is None:
        names = " / ".join(answer.query.name for answer in observation.lookups)
        return Verdict(Grade.NA, ABSENT.format(names=names), found)
    if len(observation.records) > 1:
        keep = next((r for r in observation.records if parse_bimi(r).valid), None) or _rebuilt(
            parse_bimi(observation.records[0]), observation.domain
        )
        summary = MULTIPLE.format(count=len(observation.records), location=location)
        return _verdict(
            observation,
            summary,
            found,
            Fix(FIX_ONE.format(location=location), zone_line(location, keep)),
            keep,
        )
    record = observation.record or parse_bimi(observation.records[0])
    if not record.valid:
        fixed = _rebuilt(record, observation.domain)
        summary = INVALID.format(location=location, problems="; ".join(record.problems))
        return _verdict(observation, summary, found, Fix(FIX_SYNTAX, zone_line(location, fixed)), fixed)
    if record.declined:
        return Verdict(Grade.NA, DECLINED.format(location=location), found)
    return Verdict(
        Grade.A, VALID.format(location=location, logo=record.logo_url or "(from the certificate)"), found
    )


def _rebuilt(record: BimiRecord, domain: str) -> str:
    """``v=BIMI1`` with the record's usable URLs, or a placeholder logo URL on the domain's web site."""
    logo = record.logo_url if record.logo_url and not https_url_problem(record.logo_url, "l") else ""
    logo = logo if logo.lower().endswith(".svg") else f"https://{domain}/bimi/logo.svg"
    authority = (
        record.authority_url
        if record.authority_url and not https_url_problem(record.authority_url, "a")
        else ""
    )
    return f"v=BIMI1; l={logo}" + (f"; a={authority}" if authority else "")


def _verdict(
    observation: BimiObservation, summary: Text, found: tuple[Evidence, ...], fix: Fix, fixed_record: str
) -> Verdict:
    after = evaluate(replace(observation, records=(fixed_record,), record=parse_bimi(fixed_record)))
    return Verdict(Grade.D, summary, found, fix, AfterFix(after.grade, EFFECT))


CHECK = Check(
    id="email.bimi.record",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=REFERENCES,
    observer=BIMI,
    evaluate=evaluate,
)
