"""dns.dnssec.status — is the domain's DNS provably authentic (DNSSEC secure), unsigned, or broken?

Three results that other checkers often merge are kept apart (RFC 4035 §4.3): secure (A), insecure — a
provably unsigned delegation, so answers can be forged and DANE is impossible (C) — and bogus — signatures
that fail, a DS that matches no key, a missing proof in a signed zone — which makes every validating
resolver answer SERVFAIL for the domain (E, critical). A failed lookup is unknown, never "unsigned".
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import (
    DS_TEMPLATE,
    RFC_4035,
    chain_evidence,
    ds_lines,
    not_determined,
)
from mimawari.model import AfterFix, Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dnssec import DNSSEC, DnssecObservation
from mimawari.parse.dnssec import Security

TITLE = Text("DNSSEC for the domain", "ドメインの DNSSEC")

SECURE = Text(
    "{domain} is DNSSEC-signed and validates from the trust anchor down to its zone {zone}: resolvers can "
    "prove its answers (MX, SPF, DMARC, …) authentic.",
    "{domain} は DNSSEC で署名され、トラストアンカーからゾーン {zone} まで検証できます。"
    "リゾルバーは MX・SPF・DMARC などの応答が本物であることを証明できます。",
)
INSECURE = Text(
    "{domain} is not DNSSEC-signed ({where}). Its answers — MX hosts, SPF, DMARC — can be forged by cache "
    "poisoning or on the path to a resolver, and DANE cannot protect mail to it.",
    "{domain} は DNSSEC で署名されていません（{where}）。MX・SPF・DMARC などの応答はキャッシュポイズニングや"
    "経路上で偽装される可能性があり、DANE によるメールの保護もできません。",
)
BOGUS = Text(
    "DNSSEC validation of {domain} fails: {problem}. Validating resolvers (Google Public DNS, Cloudflare, "
    "most ISPs) answer SERVFAIL for it, so mail to the domain is delayed and bounced.",
    "{domain} の DNSSEC 検証に失敗します（{problem}）。検証を行うリゾルバー（Google Public DNS、Cloudflare、"
    "多くの ISP）は SERVFAIL を返すため、このドメイン宛てのメールは遅延・不達になります。",
)
FIX_SIGN = Text(
    "Turn on DNSSEC signing for the zone {zone} at your DNS host (algorithm ECDSAP256SHA256, 13), then give "
    "your registrar the DS record the DNS host shows you, in this form.",
    "DNS ホスティング事業者でゾーン {zone} の DNSSEC 署名を有効にし（アルゴリズム ECDSAP256SHA256、13）、"
    "表示された DS レコードを次の形式でレジストラに登録してください。",
)
FIX_DS = Text(
    "Replace the DS records of {zone} at your registrar with these, which match the zone's current key.",
    "レジストラに登録されている {zone} の DS レコードを、現在の鍵に一致する次のレコードに置き換えてください。",
)
FIX_EXPIRED = Text(
    "Re-sign the zone {zone} now (its signatures have expired) and make sure the signer re-signs "
    "automatically. If that cannot happen quickly, remove the DS at the registrar so the domain resolves "
    "again, unsigned.",
    "ゾーン {zone} を今すぐ再署名し（署名の有効期限切れ）、自動で再署名されるよう設定してください。"
    "すぐに対応できない場合は、レジストラで DS を削除すれば、署名なしで名前解決できるようになります。",
)
FIX_RESIGN = Text(
    "Re-sign the zone {zone} with the keys published in its DNSKEY RRset, so every RRset has a valid RRSIG "
    "and every denial a signed NSEC/NSEC3. If that cannot happen quickly, remove the DS at the registrar so "
    "the domain resolves again, unsigned.",
    "DNSKEY に公開している鍵でゾーン {zone} を再署名し、すべての RRset に有効な RRSIG、否定応答に署名付きの "
    "NSEC/NSEC3 が付くようにしてください。すぐに対応できない場合は、レジストラで DS を削除すれば、"
    "署名なしで名前解決できるようになります。",
)
EFFECT = Text(
    "Validating resolvers can prove the domain's answers authentic; DANE becomes possible for its mail.",
    "検証リゾルバーがドメインの応答の真正性を証明でき、メールに DANE を使えるようになります。",
)


def evaluate(observation: DnssecObservation) -> Verdict:
    validation = observation.domain_validation
    evidence = chain_evidence(validation)
    domain, zone = observation.domain, validation.zone or observation.domain
    if validation.security in (Security.UNKNOWN, Security.INDETERMINATE):
        return Verdict(Grade.UNKNOWN, not_determined(validation), evidence)
    if validation.security is Security.SECURE:
        return Verdict(Grade.A, SECURE.format(domain=domain, zone=zone), evidence)
    after = AfterFix(_fixed_grade(observation), EFFECT)
    if validation.security is Security.INSECURE:
        start = next((link for link in validation.links if link.security is Security.INSECURE), None)
        where = f"{start.zone} is delegated without a DS record" if start is not None else "no DS leads to it"
        fix = Fix(FIX_SIGN.format(zone=zone), DS_TEMPLATE.format(zone=zone.rstrip(".")))
        return Verdict(
            Grade.C, INSECURE.format(domain=domain, where=where), evidence, fix, after, Severity.MEDIUM
        )
    link = validation.links[-1] if validation.links else None
    if link is not None and link.expected_ds and not link.matched_keys and link.ds:
        fix = Fix(FIX_DS.format(zone=link.zone), ds_lines(link.zone, link.expected_ds))
    elif "expired" in validation.problem:
        fix = Fix(FIX_EXPIRED.format(zone=zone))
    else:
        fix = Fix(FIX_RESIGN.format(zone=zone))
    summary = BOGUS.format(domain=domain, problem=validation.problem or "the chain of trust is broken")
    return Verdict(Grade.E, summary, evidence, fix, after, Severity.CRITICAL)


def _fixed_grade(observation: DnssecObservation) -> Grade:
    fixed = replace(observation.domain_validation, security=Security.SECURE, problem="")
    return evaluate(replace(observation, domain_validation=fixed)).grade


CHECK = Check(
    id="dns.dnssec.status",
    category=Category.EMAIL_DNS,
    severity=Severity.HIGH,
    title=TITLE,
    references=(
        RFC_4035,
        Reference(
            "RFC 4033 §5 (secure, insecure, bogus)", "https://www.rfc-editor.org/rfc/rfc4033#section-5"
        ),
    ),
    observer=DNSSEC,
    evaluate=evaluate,
)
