"""dns.dnssec.algorithms — does the domain's zone sign with algorithms and DS digests still fit for use?

RFC 8624 §3.1: RSAMD5, DSA, DSA-NSEC3-SHA1 and ECC-GOST MUST NOT be used to sign — validators treat such
zones as unsigned (D); RSASHA1 and RSASHA1-NSEC3-SHA1 are NOT RECOMMENDED, and some validators (e.g.
distributions whose crypto policy bans SHA-1) already treat them as insecure (C). §3.3: a DS with a SHA-1
digest MUST NOT be created (C). ECDSAP256SHA256 (13) with a SHA-256 DS is the recommended choice.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.dnssec.common import RFC_8624, chain_evidence, ds_lines, not_determined
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.dnssec import DNSSEC, DnssecObservation
from mimawari.parse.dnssec import (
    DEPRECATED_ALGORITHMS,
    DEPRECATED_DIGESTS,
    MUST_NOT_ALGORITHMS,
    Security,
    algorithm_name,
    digest_name,
)

TITLE = Text("DNSSEC algorithms", "DNSSEC のアルゴリズム")

CURRENT = Text(
    "The zone {zone} signs with {algorithms} and its DS uses {digests}: algorithms fit for use (RFC 8624).",
    "ゾーン {zone} の署名アルゴリズムは {algorithms}、DS のダイジェストは {digests} で、"
    "いずれも推奨されるものです（RFC 8624）。",
)
UNSIGNED = Text(
    "The zone {zone} is not signed, so it uses no DNSSEC algorithm.",
    "ゾーン {zone} は署名されていないため、DNSSEC のアルゴリズムは使われていません。",
)
DEPRECATED = Text(
    "The zone {zone} uses deprecated DNSSEC algorithms: {found}. {consequence}",
    "ゾーン {zone} は非推奨の DNSSEC アルゴリズムを使っています: {found}。{consequence_ja}",
)
MUST_NOT = Text(
    "Validators do not accept these signatures, so the zone counts as unsigned.",
    "検証リゾルバーはこの署名を受け付けないため、ゾーンは署名なしとして扱われます。",
)
NOT_RECOMMENDED = Text(
    "Some validators already treat SHA-1 based DNSSEC as insecure, and support is being withdrawn.",
    "SHA-1 を使う DNSSEC をすでに安全でないとして扱う検証リゾルバーがあり、サポートは廃止されつつあります。",
)
FIX_ROLL = Text(
    "Roll the zone's keys to ECDSAP256SHA256 (13) with your DNS host (an algorithm roll: new keys first, "
    "then the new DS at the registrar, then retire the old keys). On BIND 9.16+ the default policy does it:",
    "DNS ホスティング事業者でゾーンの鍵を ECDSAP256SHA256（13）に切り替えてください（新しい鍵の導入、"
    "レジストラでの DS 更新、古い鍵の廃止の順）。BIND 9.16 以降では default ポリシーで実施できます:",
)
FIX_DIGEST = Text(
    "Replace the SHA-1 DS records at your registrar with SHA-256 ones for the same keys:",
    "レジストラで SHA-1 の DS レコードを、同じ鍵の SHA-256 の DS レコードに置き換えてください:",
)
EFFECT = Text(
    "The zone uses only algorithms every validator accepts, for years to come.",
    "すべての検証リゾルバーが今後も受け付けるアルゴリズムだけを使うようになります。",
)
ROLL_SNIPPET = 'zone "{zone}" {{ type primary; file "{zone}.zone"; dnssec-policy default; }};'


def evaluate(observation: DnssecObservation) -> Verdict:
    validation = observation.domain_validation
    evidence = chain_evidence(validation)
    link = validation.links[-1] if validation.links else None  # the deepest zone reached
    if validation.security in (Security.UNKNOWN, Security.INDETERMINATE):
        return Verdict(Grade.UNKNOWN, not_determined(validation), evidence)
    if link is None or not (link.algorithms or link.digest_types):
        return Verdict(Grade.NA, UNSIGNED.format(zone=validation.zone or observation.domain), evidence)
    bad_algorithms = [a for a in link.algorithms if a in DEPRECATED_ALGORITHMS]
    bad_digests = [d for d in link.digest_types if d in DEPRECATED_DIGESTS]
    if not bad_algorithms and not bad_digests:
        summary = CURRENT.format(
            zone=link.zone,
            algorithms=", ".join(map(algorithm_name, link.algorithms)) or "-",
            digests=", ".join(map(digest_name, link.digest_types)) or "-",
        )
        return Verdict(Grade.A, summary, evidence)
    found = [f"DNSKEY {algorithm_name(a)}" for a in bad_algorithms] + [
        f"DS digest {digest_name(d)}" for d in bad_digests
    ]
    evidence += (Evidence(f"{link.zone} deprecated", ", ".join(found)),)
    must_not = any(a in MUST_NOT_ALGORITHMS for a in bad_algorithms)
    consequence = MUST_NOT if must_not else NOT_RECOMMENDED
    summary = DEPRECATED.format(
        zone=link.zone, found=", ".join(found), consequence=consequence.en, consequence_ja=consequence.ja
    )
    if bad_algorithms:
        fix = Fix(FIX_ROLL, ROLL_SNIPPET.format(zone=link.zone))
    else:
        fix = Fix(FIX_DIGEST, ds_lines(link.zone, link.expected_ds))
    grade = Grade.D if must_not else Grade.C
    # After the fix the zone's algorithms and digests are the recommended ones: evaluate that.
    after = evaluate(_fixed(observation, link.zone))
    return Verdict(grade, summary, evidence, fix, AfterFix(after.grade, EFFECT), Severity.MEDIUM)


def _fixed(observation: DnssecObservation, zone: str) -> DnssecObservation:
    validation = observation.domain_validation
    links = tuple(
        replace(lk, algorithms=(13,), digest_types=(2,)) if lk.zone == zone else lk for lk in validation.links
    )
    return replace(observation, domain_validation=replace(validation, links=links))


CHECK = Check(
    id="dns.dnssec.algorithms",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC_8624,),
    observer=DNSSEC,
    evaluate=evaluate,
)
