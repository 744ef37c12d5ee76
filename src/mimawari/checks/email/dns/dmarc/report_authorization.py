"""email.dmarc.report_authorization — do external report addresses accept reports (RFC 7489 §7.1)?

A receiver sends reports to an address outside the policy's organisational domain only when
``<policy domain>._report._dmarc.<address host>`` publishes a ``v=DMARC1`` record; otherwise it drops
them. When every usable ``rua`` address is unauthorised the owner gets no aggregate reports at all: C.
An unauthorised address next to a working one, or an unauthorised ``ruf``, grades B. A lookup that
timed out or failed leaves that address unknown; with no definite problem the grade is unknown.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dmarc.common import record_evidence, single_record
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
from mimawari.observations.dmarc import DMARC, DmarcObservation, ReportDestination
from mimawari.parse.dmarc import DmarcRecord

TITLE = Text("DMARC external report authorisation", "DMARC 外部レポート送付先の承認")
NO_ADDRESS = Text(
    "Not applicable: the DMARC record names no mailto: report address (see email.dmarc.reporting).",
    "対象外です。DMARC レコードに mailto: のレポート送付先がありません（email.dmarc.reporting を参照）。",
)
OWN = Text(
    "Every report address is in {org} or has agreed to receive its reports: {hosts}.",
    "すべてのレポート送付先が {org} 内にあるか、レポートの受け取りを承認しています: {hosts}。",
)
UNKNOWN = Text(
    "Not determined: the authorisation lookup for {hosts} ended in a timeout or error. This does not mean "
    "reports are refused; scan again.",
    "判定できませんでした。{hosts} の承認レコードの問い合わせがタイムアウトまたはエラーになりました。"
    "レポートが拒否されているという意味ではありません。再度スキャンしてください。",
)
UNAUTHORISED = Text(
    "{addresses} {verb} outside {org} and {host_verb} not published the authorisation record, so receivers "
    "send no reports there{all}.",
    "{addresses} は {org} の外部にあり、承認レコードが公開されていないため、受信側はそこへレポートを送りません{all}。",
)
ALL = Text(": you receive no aggregate reports at all", "。集計レポートはまったく届きません")
FIX = Text(
    "Ask the operator of {hosts} (your report service) to publish the record below, or use an address in "
    "your own domain instead.",
    "{hosts} の運用者（レポートサービス）に次のレコードの公開を依頼するか、自社ドメインの送付先に変更してください。",
)
EFFECT = Text(
    "Receivers deliver reports to every address you listed.",
    "指定したすべての送付先にレポートが届くようになります。",
)


def evaluate(observation: DmarcObservation) -> Verdict:
    record = single_record(observation)
    if not isinstance(record, DmarcRecord):
        return record
    destinations = observation.reports
    if not destinations:
        return Verdict(Grade.NA, NO_ADDRESS, (record_evidence(observation),))
    evidence = (record_evidence(observation), *map(_evidence, destinations))
    refused = [d for d in destinations if d.status is Status.ABSENT]
    failed = [d for d in destinations if d.status in (Status.TIMEOUT, Status.ERROR)]
    org = observation.org_domain
    if not refused and failed:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(hosts=_hosts(failed)), evidence)
    if not refused:
        return Verdict(Grade.A, OWN.format(org=org, hosts=_hosts(destinations)), evidence)
    rua = [d for d in destinations if d.tag == "rua"]
    none_left = bool(rua) and all(d.status is Status.ABSENT for d in rua)
    grade = Grade.C if none_left else Grade.B
    values = {
        "addresses": ", ".join(d.uri for d in refused),
        "verb": "are" if len(refused) > 1 else "is",
        "host_verb": "have" if len(refused) > 1 else "has",
        "org": org,
    }
    summary = Text(
        UNAUTHORISED.en.format(**values, all=ALL.en if none_left else ""),
        UNAUTHORISED.ja.format(**values, all=ALL.ja if none_left else ""),
    )
    snippet = "\n".join(dict.fromkeys(f'{d.query}. IN TXT "v=DMARC1"' for d in refused))
    fixed = replace(
        observation,
        reports=tuple(
            replace(d, status=Status.PRESENT) if d.status is Status.ABSENT else d for d in destinations
        ),
    )
    return Verdict(
        grade,
        summary,
        evidence,
        Fix(FIX.format(hosts=_hosts(refused)), snippet),
        AfterFix(evaluate(fixed).grade, EFFECT),
        Severity.MEDIUM if grade is Grade.C else Severity.LOW,
    )


def _hosts(destinations: list[ReportDestination] | tuple[ReportDestination, ...]) -> str:
    return ", ".join(dict.fromkeys(d.host for d in destinations))


def _evidence(destination: ReportDestination) -> Evidence:
    if destination.answer is None:
        return Evidence(f"{destination.tag} {destination.uri}", "same organisational domain: no check needed")
    return Evidence(f"{destination.query} TXT", destination.answer.describe())


CHECK = Check(
    id="email.dmarc.report_authorization",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(
        Reference("RFC 7489 §7.1", "https://www.rfc-editor.org/rfc/rfc7489#section-7.1"),
        Reference("RFC 9990 (aggregate reporting)", "https://www.rfc-editor.org/rfc/rfc9990"),
    ),
    observer=DMARC,
    evaluate=evaluate,
)
