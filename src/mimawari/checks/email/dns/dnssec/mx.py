"""dns.dnssec.mx — are the zones of the domain's MX hosts DNSSEC-signed and valid?

Senders look up the MX hosts' addresses: in a bogus zone validating senders cannot resolve the host and
defer the mail (E); in an insecure zone the address can be forged and DANE cannot be used for the host
(C, RFC 7672 §2.2.2). All secure: A. No MX hosts (none, or a Null MX): not applicable.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import (
    DS_TEMPLATE,
    RFC_4035,
    RFC_7672,
    chain_evidence,
    not_determined,
)
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.dnssec import DNSSEC, DnssecObservation
from mimawari.parse.dnssec import Security

TITLE = Text("DNSSEC for the MX hosts", "MX ホストの DNSSEC")

NO_HOSTS = Text(
    "{domain} names no MX host, so there is no MX host zone to check.",
    "{domain} には MX ホストがないため、確認する MX ホストのゾーンはありません。",
)
ALL_SECURE = Text(
    "The zones of all {count} MX host(s) validate as DNSSEC-secure: senders can trust the hosts' addresses "
    "and use DANE.",
    "{count} 件の MX ホストすべてのゾーンが DNSSEC で安全と検証できます。送信側はホストのアドレスを信頼でき、"
    "DANE を使えます。",
)
BOGUS = Text(
    "DNSSEC validation fails for MX host(s) {hosts}: validating senders cannot look them up and defer the "
    "mail.",
    "MX ホスト {hosts} の DNSSEC 検証に失敗します。検証を行う送信側はホストを名前解決できず、"
    "メールの配送が保留されます。",
)
INSECURE = Text(
    "The MX host(s) {hosts} are in unsigned zones ({zones}): their addresses can be forged, and senders "
    "cannot use DANE to authenticate them.",
    "MX ホスト {hosts} は署名されていないゾーン（{zones}）にあります。アドレスが偽装される可能性があり、"
    "送信側は DANE でホストを認証できません。",
)
FIX_SIGN = Text(
    "Sign the MX hosts' zones and publish their DS records at the registrar. If a mail provider runs the "
    "hosts, ask it for DNSSEC-signed MX hosts.",
    "MX ホストのゾーンに署名し、DS レコードをレジストラに登録してください。メール事業者のホストであれば、"
    "DNSSEC 署名された MX ホストを提供するよう依頼してください。",
)
FIX_BOGUS = Text(
    "Repair the signing of the MX hosts' zones (see dns.dnssec.status for what fails), or remove their DS "
    "records until it works.",
    "MX ホストのゾーンの署名を修復するか（失敗内容は dns.dnssec.status を参照）、直るまで DS レコードを"
    "削除してください。",
)
EFFECT = Text(
    "Senders can trust the MX hosts' addresses and use DANE for them.",
    "送信側は MX ホストのアドレスを信頼でき、DANE を使えるようになります。",
)


def evaluate(observation: DnssecObservation) -> Verdict:
    domain = observation.domain_validation
    if domain.security is Security.UNKNOWN and not domain.status.answered:
        return Verdict(Grade.UNKNOWN, not_determined(domain), chain_evidence(domain))
    if not observation.mx_validations:
        absent = Evidence(f"{observation.domain} MX", ", ".join(domain.records) or domain.status.value)
        return Verdict(Grade.NA, NO_HOSTS.format(domain=observation.domain), (absent,))
    evidence = tuple(
        Evidence(f"MX host {v.name}", f"{v.security.value} (zone {v.zone or '?'}){_why(v.problem)}")
        for v in observation.mx_validations
    )
    by = {s: [v for v in observation.mx_validations if v.security is s] for s in Security}
    if by[Security.BOGUS]:
        hosts = ", ".join(v.name for v in by[Security.BOGUS])
        return Verdict(
            Grade.E,
            BOGUS.format(hosts=hosts),
            evidence,
            Fix(FIX_BOGUS),
            AfterFix(_fixed_grade(observation), EFFECT),
            Severity.CRITICAL,
        )
    undetermined = by[Security.UNKNOWN] + by[Security.INDETERMINATE]
    if undetermined:
        first = undetermined[0]
        return Verdict(Grade.UNKNOWN, not_determined(first), evidence + chain_evidence(first))
    if by[Security.INSECURE]:
        hosts = ", ".join(v.name for v in by[Security.INSECURE])
        zones = sorted({v.zone for v in by[Security.INSECURE] if v.zone})
        summary = INSECURE.format(hosts=hosts, zones=", ".join(zones))
        fix = Fix(FIX_SIGN, "\n".join(DS_TEMPLATE.format(zone=z) for z in zones) or None)
        return Verdict(
            Grade.C, summary, evidence, fix, AfterFix(_fixed_grade(observation), EFFECT), Severity.MEDIUM
        )
    return Verdict(Grade.A, ALL_SECURE.format(count=len(observation.mx_validations)), evidence)


def _why(problem: str) -> str:
    return f": {problem}" if problem else ""


def _fixed_grade(observation: DnssecObservation) -> Grade:
    fixed = tuple(
        replace(v, security=Security.SECURE, problem="") if v.security is not Security.UNKNOWN else v
        for v in observation.mx_validations
    )
    return evaluate(replace(observation, mx_validations=fixed)).grade


CHECK = Check(
    id="dns.dnssec.mx",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC_4035, RFC_7672),
    observer=DNSSEC,
    evaluate=evaluate,
)
