"""email.dane.tlsa — do the MX hosts publish DNSSEC-secure TLSA records at ``_25._tcp.<host>``?

With DANE (RFC 7672) a sending MTA that finds secure TLSA records for an MX host must see a matching
certificate over STARTTLS, so neither a downgrade to plaintext nor a forged certificate works. Only TLSA
records whose answer (and the host's address) is DNSSEC-secure count: in an insecure zone senders ignore
them (§2.2). Every MX host covered: A. A bogus TLSA lookup makes DANE senders defer mail (E). Otherwise C.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import RFC_7672, chain_evidence, not_determined
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dane import DANE, DaneObservation, MxTlsa, parse_tlsa, tlsa_name
from mimawari.observations.dnssec import Validation
from mimawari.parse.dnssec import Security

TITLE = Text("DANE TLSA records for the MX hosts", "MX ホストの DANE TLSA レコード")

NO_HOSTS = Text(
    "{domain} names no MX host, so DANE does not apply.",
    "{domain} には MX ホストがないため、DANE は対象外です。",
)
ALL = Text(
    "All {count} MX host(s) publish DNSSEC-secure TLSA records: DANE senders authenticate them.",
    "{count} 件の MX ホストすべてが DNSSEC で保護された TLSA レコードを公開しており、DANE 対応の送信側が"
    "ホストを認証できます。",
)
BOGUS = Text(
    "The TLSA lookup for {hosts} fails DNSSEC validation: DANE senders must defer mail to these hosts.",
    "{hosts} の TLSA の問い合わせが DNSSEC 検証に失敗します。DANE 対応の送信側はこれらのホストへの配送を"
    "保留します。",
)
MISSING = Text(
    "No usable DANE for {hosts}: {reasons}. Without it, an attacker on the path can strip STARTTLS or "
    "present a forged certificate to senders.",
    "{hosts} では DANE が使えません（{reasons_ja}）。経路上の攻撃者が STARTTLS を無効化したり、"
    "偽の証明書を送信側に提示したりできます。",
)
REASONS = {
    "ignored": Text(
        "TLSA records in an unsigned zone, which senders ignore",
        "署名されていないゾーンの TLSA は送信側に無視される",
    ),
    "unsigned": Text("the host's zone is not DNSSEC-signed", "ホストのゾーンが DNSSEC で署名されていない"),
    "absent": Text("no TLSA record", "TLSA レコードがない"),
}
FIX = Text(
    "Make sure each MX host's zone is DNSSEC-signed, then publish a DANE-EE TLSA record for each host: the "
    "SHA-256 digest of the server certificate's public key. Compute it with the openssl command shown, and "
    "publish the next key's record before every key change.",
    "各 MX ホストのゾーンを DNSSEC で署名したうえで、ホストごとに DANE-EE の TLSA レコード（サーバー証明書の"
    "公開鍵の SHA-256 ダイジェスト）を公開してください。値は記載の openssl コマンドで計算できます。鍵を変更する"
    "前には、次の鍵のレコードも公開しておいてください。",
)
FIX_BOGUS = Text(
    "Repair the DNSSEC signing of the TLSA records' zone, or remove its DS until it works.",
    "TLSA レコードのゾーンの DNSSEC 署名を修復するか、直るまで DS を削除してください。",
)
EFFECT = Text(
    "DANE senders require TLS with a certificate matching the TLSA record for every MX host.",
    "DANE 対応の送信側は、すべての MX ホストに対し TLSA と一致する証明書での TLS を必須とします。",
)
SPKI_COMMAND = (
    "; openssl x509 -in cert.pem -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256"
)
EXAMPLE_DIGEST = "0" * 64


def evaluate(observation: DaneObservation) -> Verdict:
    mx = observation.mx
    if mx.security is Security.UNKNOWN and not mx.status.answered:
        return Verdict(Grade.UNKNOWN, not_determined(mx), chain_evidence(mx))
    if not observation.hosts:
        return Verdict(
            Grade.NA,
            NO_HOSTS.format(domain=observation.domain),
            (Evidence(f"{observation.domain} MX", mx.status.value),),
        )
    evidence = tuple(Evidence(str(tlsa_name(h.host)), _state(h)) for h in observation.hosts)
    bogus = [h for h in observation.hosts if Security.BOGUS in (h.tlsa.security, h.address.security)]
    if bogus:
        hosts = ", ".join(h.host for h in bogus)
        return Verdict(
            Grade.E,
            BOGUS.format(hosts=hosts),
            evidence,
            Fix(FIX_BOGUS),
            AfterFix(_fixed_grade(observation), EFFECT),
            Severity.CRITICAL,
        )
    undetermined = [h for h in observation.hosts if not _determined(h)]
    if undetermined:
        host = undetermined[0]
        failed = host.tlsa if not _validation_determined(host.tlsa) else host.address
        return Verdict(Grade.UNKNOWN, not_determined(failed), evidence + chain_evidence(failed))
    lacking = [h for h in observation.hosts if not (h.secure and h.records)]
    if not lacking:
        return Verdict(Grade.A, ALL.format(count=len(observation.hosts)), evidence)
    reasons = list(dict.fromkeys(_reason(h) for h in lacking))
    summary = MISSING.format(
        hosts=", ".join(h.host for h in lacking),
        reasons="; ".join(REASONS[r].en for r in reasons),
        reasons_ja="、".join(REASONS[r].ja for r in reasons),
    )
    snippet = "\n".join(
        [SPKI_COMMAND, *(f"{tlsa_name(h.host)}. IN TLSA 3 1 1 <SHA-256 of the SPKI>" for h in lacking)]
    )
    return Verdict(
        Grade.C,
        summary,
        evidence,
        Fix(FIX, snippet),
        AfterFix(_fixed_grade(observation), EFFECT),
        Severity.MEDIUM,
    )


def _validation_determined(validation: Validation) -> bool:
    return validation.security not in (Security.UNKNOWN, Security.INDETERMINATE)


def _determined(host: MxTlsa) -> bool:
    return _validation_determined(host.tlsa) and _validation_determined(host.address)


def _reason(host: MxTlsa) -> str:
    if host.records:
        return "ignored"
    return "absent" if host.secure else "unsigned"


def _state(host: MxTlsa) -> str:
    records = " | ".join(r.describe() for r in host.records) or host.tlsa.status.value
    return f"{records}; TLSA {host.tlsa.security.value}, address {host.address.security.value}"


def _fixed_grade(observation: DaneObservation) -> Grade:
    """The grade once every MX host's zone is signed and publishes a DANE-EE record."""
    record = parse_tlsa(f"3 1 1 {EXAMPLE_DIGEST}")
    hosts = tuple(
        replace(
            h,
            address=replace(h.address, security=Security.SECURE),
            tlsa=replace(h.tlsa, security=Security.SECURE),
            records=h.records or (record,),
        )
        for h in observation.hosts
    )
    return evaluate(replace(observation, hosts=hosts)).grade


CHECK = Check(
    id="email.dane.tlsa",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        RFC_7672,
        Reference("RFC 7671 (DANE operations)", "https://www.rfc-editor.org/rfc/rfc7671"),
    ),
    observer=DANE,
    evaluate=evaluate,
)
