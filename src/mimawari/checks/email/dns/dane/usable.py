"""email.dane.usable — are the MX hosts' secure TLSA records usable for SMTP and well-formed?

RFC 7672 §3.1.3: SMTP clients use only DANE-TA(2) and DANE-EE(3) records; PKIX-TA(0) and PKIX-EE(1) are
unusable, as are records with an unassigned selector or matching type or data of the wrong length
(RFC 6698 §2.1). A host whose secure TLSA RRset holds no usable record gets no DANE authentication (D);
unusable records beside usable ones are clutter (B). Only secure TLSA RRsets are judged: insecure ones
are ignored by senders (see email.dane.tlsa). Whether a record matches the server's certificate is checked
by the MTA-server checks, which connect (``TlsaRecord.matches``).
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import RFC_7672, chain_evidence, not_determined
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.dane import DANE, DaneObservation, TlsaRecord, parse_tlsa, tlsa_name
from mimawari.parse.dnssec import Security

TITLE = Text("DANE TLSA records usable for SMTP", "SMTP で使える DANE TLSA レコード")

NOT_APPLICABLE = Text(
    "No MX host of {domain} has DNSSEC-secure TLSA records, so there is nothing senders would use.",
    "{domain} の MX ホストには DNSSEC で保護された TLSA レコードがないため、送信側が使うものはありません。",
)
USABLE = Text(
    "Every secure TLSA record of the MX hosts is well-formed and usable for SMTP (DANE-TA or DANE-EE).",
    "MX ホストの保護された TLSA レコードはすべて正しい形式で、SMTP で使えます（DANE-TA または DANE-EE）。",
)
NONE_USABLE = Text(
    "The TLSA records of {hosts} hold no record usable for SMTP: senders get no DANE authentication for "
    "these hosts, only unauthenticated TLS.",
    "{hosts} の TLSA には SMTP で使えるレコードがありません。送信側はこれらのホストを DANE で認証できず、"
    "認証なしの TLS になります。",
)
SOME_UNUSABLE = Text(
    "{count} TLSA record(s) are unusable for SMTP or malformed and are ignored by senders; the usable ones "
    "still protect every host.",
    "{count} 件の TLSA レコードが SMTP で使えないか不正な形式で、送信側に無視されます。"
    "使えるレコードにより、すべてのホストは保護されています。",
)
FIX = Text(
    "Replace each unusable record with a DANE record for the same certificate data (PKIX-EE 1 → DANE-EE 3, "
    "PKIX-TA 0 → DANE-TA 2) and fix or remove malformed ones:",
    "使えないレコードを同じ証明書データの DANE レコード（PKIX-EE 1 → DANE-EE 3、PKIX-TA 0 → DANE-TA 2）に"
    "置き換え、不正な形式のレコードは修正または削除してください:",
)
EFFECT = Text(
    "DANE senders authenticate every MX host with its TLSA records.",
    "DANE 対応の送信側が、すべての MX ホストを TLSA レコードで認証できるようになります。",
)
DANE_USAGE = {0: 2, 1: 3}


def evaluate(observation: DaneObservation) -> Verdict:
    mx = observation.mx
    if mx.security is Security.UNKNOWN and not mx.status.answered:
        return Verdict(Grade.UNKNOWN, not_determined(mx), chain_evidence(mx))
    judged = [h for h in observation.hosts if h.tlsa.security is Security.SECURE and h.records]
    if not judged:
        undetermined = [h for h in observation.hosts if h.tlsa.security is Security.UNKNOWN]
        if undetermined:
            tlsa = undetermined[0].tlsa
            return Verdict(Grade.UNKNOWN, not_determined(tlsa), chain_evidence(tlsa))
        return Verdict(Grade.NA, NOT_APPLICABLE.format(domain=observation.domain))
    evidence = tuple(
        Evidence(f"{tlsa_name(h.host)} TLSA", "; ".join(_describe(r) for r in h.records)) for h in judged
    )
    bad = [(h.host, r) for h in judged for r in h.records if not r.usable]
    if not bad:
        return Verdict(Grade.A, USABLE, evidence)
    snippet = "\n".join(f"{tlsa_name(host)}. IN TLSA {_replacement(r)}" for host, r in bad)
    after = AfterFix(_fixed_grade(observation), EFFECT)
    hopeless = [h.host for h in judged if not any(r.usable for r in h.records)]
    if hopeless:
        summary = NONE_USABLE.format(hosts=", ".join(hopeless))
        return Verdict(Grade.D, summary, evidence, Fix(FIX, snippet), after, Severity.MEDIUM)
    summary = SOME_UNUSABLE.format(count=len(bad))
    return Verdict(Grade.B, summary, evidence, Fix(FIX, snippet), after, Severity.LOW)


def _describe(record: TlsaRecord) -> str:
    if record.problems:
        return f"{record.describe()}: " + ", ".join(record.problems)
    if not record.usable:
        return f"{record.describe()}: usage {record.usage} is not usable for SMTP (RFC 7672 §3.1.3)"
    return record.describe()


def _replacement(record: TlsaRecord) -> str:
    """The usable record for the same data, when only the usage is wrong; else a DANE-EE template."""
    if not record.problems and record.usage in DANE_USAGE:
        return f"{DANE_USAGE[record.usage]} {record.selector} {record.matching_type} {record.data}"
    return "3 1 1 <SHA-256 of the server certificate's SPKI>"


def _fixed_grade(observation: DaneObservation) -> Grade:
    def fixed(record: TlsaRecord) -> TlsaRecord:
        if record.usable:
            return record
        text = _replacement(record)
        return parse_tlsa(text if "<" not in text else "3 1 1 " + "0" * 64)

    hosts = tuple(replace(h, records=tuple(map(fixed, h.records))) for h in observation.hosts)
    return evaluate(replace(observation, hosts=hosts)).grade


CHECK = Check(
    id="email.dane.usable",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(
        RFC_7672,
        Reference("RFC 6698 §2.1 (TLSA fields)", "https://www.rfc-editor.org/rfc/rfc6698#section-2.1"),
    ),
    observer=DANE,
    evaluate=evaluate,
)
