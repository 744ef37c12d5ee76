"""email.mta_sts.record — is MTA-STS announced: exactly one valid ``_mta-sts`` TXT record (RFC 8461 §3.1).

No record on a domain that receives mail grades C: without MTA-STS a network attacker can strip
STARTTLS or present any certificate, and senders deliver in clear. The fix is the whole set-up (record,
policy file, where to host it) in testing mode. More than one record, or an invalid one, makes senders
ignore MTA-STS altogether (§3.1): D. A domain with a Null MX or no MX receives no mail: N/A.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mta_sts.fixes import (
    REFERENCES,
    STARTER_ID,
    evidence,
    mx_evidence,
    starter_snippet,
    zone_line,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.mta_sts import MTA_STS, MtaStsObservation
from mimawari.parse.mta_sts import parse_sts_record

TITLE = Text("MTA-STS record", "MTA-STS レコード")

UNKNOWN = Text(
    "Whether MTA-STS is published could not be determined: the lookup of {name} ended in {outcome}. "
    "Scan again.",
    "MTA-STS の公開有無を判定できませんでした（{name} の問い合わせ結果: {outcome}）。再度スキャンしてください。",
)
NO_MAIL = Text(
    "{domain} receives no mail (no MX, or a Null MX), so MTA-STS does not apply.",
    "{domain} はメールを受信しない（MX がない、または Null MX）ため、MTA-STS は対象外です。",
)
ABSENT = Text(
    "No MTA-STS record at _mta-sts.{domain}: senders deliver to {domain} over TLS only when nobody "
    "interferes, and a network attacker can downgrade the connection to clear text.",
    "_mta-sts.{domain} に MTA-STS レコードがありません。送信側は妨害がない場合にしか TLS で配送せず、"
    "ネットワーク上の攻撃者が平文通信へ格下げできます。",
)
MULTIPLE = Text(
    "{count} MTA-STS records at _mta-sts.{domain}: senders ignore them all (RFC 8461 §3.1), so MTA-STS "
    "is off.",
    "_mta-sts.{domain} に MTA-STS レコードが {count} 件あります。送信側はすべて無視するため"
    "（RFC 8461 3.1 節）、MTA-STS は無効です。",
)
INVALID = Text(
    "The MTA-STS record at _mta-sts.{domain} is invalid ({problems}); senders ignore it.",
    "_mta-sts.{domain} の MTA-STS レコードが不正（{problems}）で、送信側に無視されます。",
)
VALID = Text(
    "MTA-STS is announced at _mta-sts.{domain} (policy id {id}).",
    "_mta-sts.{domain} で MTA-STS が公開されています（ポリシー ID {id}）。",
)

FIX_PUBLISH = Text(
    "Publish the TXT record, and serve the policy file over HTTPS at mta-sts.{domain} with a certificate "
    "valid for that name. Start in testing mode with TLS-RPT reports, then switch to enforce.",
    "TXT レコードを公開し、mta-sts.{domain} で、その名前に有効な証明書を使って HTTPS でポリシーファイルを"
    "配信してください。まず testing モードで TLS-RPT レポートを確認し、その後 enforce に切り替えます。",
)
FIX_ONE = Text(
    "Keep exactly one MTA-STS record at _mta-sts.{domain} and delete the others.",
    "_mta-sts.{domain} の MTA-STS レコードを 1 件だけ残し、他は削除してください。",
)
FIX_SYNTAX = Text(
    "Replace the record with a valid one: v=STSv1 first, then an id of 1 to 32 letters and digits.",
    "正しいレコードに置き換えてください。先頭に v=STSv1、続いて英数字 1〜32 文字の id を指定します。",
)
EFFECT = Text(
    "Senders that support MTA-STS fetch your policy and, once it is in enforce mode, deliver only over "
    "TLS with a valid certificate.",
    "MTA-STS 対応の送信側がポリシーを取得し、enforce モードでは有効な証明書による TLS でのみ配送します。",
)


def evaluate(observation: MtaStsObservation) -> Verdict:
    domain = observation.domain
    found = evidence(observation)
    if not observation.status.answered:
        lookup = observation.txt_lookup
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(name=lookup.query.name, outcome=lookup.outcome), found)
    if observation.status is Status.ABSENT:
        found += mx_evidence(observation)
        receives = observation.receives_mail
        if receives is None:
            assert observation.mx_lookup is not None
            lookup = observation.mx_lookup
            summary = UNKNOWN.format(name=f"{lookup.query.name} MX", outcome=lookup.outcome)
            return Verdict(Grade.UNKNOWN, summary, found)
        if not receives:
            return Verdict(Grade.NA, NO_MAIL.format(domain=domain), found)
        fixed = f"v=STSv1; id={STARTER_ID}"
        fix = Fix(FIX_PUBLISH.format(domain=domain), starter_snippet(observation))
        return _verdict(observation, Grade.C, ABSENT.format(domain=domain), found, fix, fixed)
    if len(observation.records) > 1:
        keep = next((r for r in observation.records if parse_sts_record(r).valid), observation.records[0])
        summary = MULTIPLE.format(count=len(observation.records), domain=domain)
        fix = Fix(FIX_ONE.format(domain=domain), zone_line(f"_mta-sts.{domain}", keep))
        return _verdict(observation, Grade.D, summary, found, fix, keep)
    record = observation.record or parse_sts_record(observation.records[0])
    if not record.valid:
        policy_id = record.id if record.id and record.id.isalnum() and len(record.id) <= 32 else STARTER_ID
        fixed = f"v=STSv1; id={policy_id}"
        summary = INVALID.format(domain=domain, problems="; ".join(record.problems))
        fix = Fix(FIX_SYNTAX, zone_line(f"_mta-sts.{domain}", fixed))
        return _verdict(observation, Grade.D, summary, found, fix, fixed)
    return Verdict(Grade.A, VALID.format(domain=domain, id=record.id), found)


def _verdict(
    observation: MtaStsObservation,
    grade: Grade,
    summary: Text,
    found: tuple[Evidence, ...],
    fix: Fix,
    fixed_record: str,
) -> Verdict:
    fixed = replace(
        observation, status=Status.PRESENT, records=(fixed_record,), record=parse_sts_record(fixed_record)
    )
    after = AfterFix(evaluate(fixed).grade, EFFECT)
    severity = Severity.MEDIUM if grade is Grade.C else None
    return Verdict(grade, summary, found, fix, after, severity)


CHECK = Check(
    id="email.mta_sts.record",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=REFERENCES[:1],
    observer=MTA_STS,
    evaluate=evaluate,
)
