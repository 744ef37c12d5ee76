"""dns.caa.syntax — are the CAA records well formed and understood by every CA?

RFC 8659 §4.1: an unknown property tag with the Issuer Critical flag (128) forbids issuance by every CA
that does not know it — in practice, all of them: D. Malformed records (reserved flag bits, an
``issue``/``issuewild`` value outside the §4.2 grammar, an ``iodef`` that is not a mailto:/http(s): URL)
leave their meaning to each CA's parser: C. Unknown non-critical tags are ignored by CAs and usually
typos (``isue``): B. The fix is the repaired RRset.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.caa.base import ABSENT, RFC8659, caa_unknown, starter_issue
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.caa import CAA, CaaObservation
from mimawari.parse.caa import CRITICAL, CaaProperty, caa_line, caa_rdata, parse_caa

TITLE = Text("CAA record syntax", "CAA レコードの構文")

VALID = Text(
    "The {count} CAA record(s) at {location} are well formed.",
    "{location} の CAA レコード {count} 件は正しい形式です。",
)
CRITICAL_UNKNOWN = Text(
    "The CAA records at {location} contain an unknown property marked critical ({tags}): no certificate "
    "authority may issue certificates for the domain (RFC 8659 §4.1).",
    "{location} の CAA レコードに、クリティカル指定された未知のプロパティ（{tags}）があります。どの認証局も"
    "このドメインの証明書を発行できません（RFC 8659 4.1 節）。",
)
MALFORMED = Text(
    "{count} CAA record(s) at {location} are malformed; how a certificate authority reads them is uncertain.",
    "{location} の CAA レコード {count} 件の形式が不正で、認証局がどう解釈するかは不確実です。",
)
IGNORED = Text(
    "The CAA records at {location} contain unknown properties ({tags}) that every certificate authority "
    "ignores; they are probably typos.",
    "{location} の CAA レコードに、すべての認証局が無視する未知のプロパティ（{tags}）があります。"
    "入力ミスの可能性があります。",
)
FIX = Text(
    "Replace the CAA records at {location} with these (check that they name the CAs you use):",
    "{location} の CAA レコードを次のものに置き換えてください（利用している認証局が指定されているか確認して"
    "ください）:",
)
EFFECT = Text(
    "Every certificate authority reads the CAA records the same way, as intended.",
    "すべての認証局が CAA レコードを意図どおりに同じく解釈します。",
)


def evaluate(observation: CaaObservation) -> Verdict:
    failed = caa_unknown(observation)
    if failed is not None:
        return failed
    evidence = observation.evidence()
    location = observation.location
    if observation.status is not Status.PRESENT or location is None:
        return Verdict(Grade.NA, ABSENT.format(domain=observation.domain), evidence)
    properties = observation.properties
    critical = [p for p in properties if p.critical and not p.known and not p.problems]
    malformed = [p for p in properties if p.problems]
    ignored = [p for p in properties if not p.critical and not p.known and not p.problems]
    if not (critical or malformed or ignored):
        return Verdict(Grade.A, VALID.format(count=len(properties), location=location), evidence)
    evidence += tuple(
        Evidence(f"{location} CAA {p.record}", problem) for p in malformed for problem in p.problems
    )
    if critical:
        grade, severity = Grade.D, Severity.HIGH
        summary = CRITICAL_UNKNOWN.format(location=location, tags=", ".join(p.tag for p in critical))
    elif malformed:
        grade, severity = Grade.C, Severity.MEDIUM
        summary = MALFORMED.format(count=len(malformed), location=location)
    else:
        grade, severity = Grade.B, Severity.LOW
        summary = IGNORED.format(location=location, tags=", ".join(p.tag for p in ignored))
    repaired = tuple(r for r in map(_repaired, properties) if r is not None)
    if not any(p.tag == "issue" for p in repaired) and any(p.tag == "issue" for p in properties):
        repaired += (starter_issue(location)[1],)  # keep issuance restricted after dropping a bad one
    fixed = replace(observation, properties=repaired)
    snippet = "\n".join(caa_line(location, p.flags, p.tag, p.value) for p in repaired)
    fix = Fix(FIX.format(location=location), snippet)
    return Verdict(grade, summary, evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT), severity)


def _repaired(prop: CaaProperty) -> CaaProperty | None:
    """The record with reserved flag bits cleared, or None when it must go (unknown tag, bad value)."""
    if not prop.known:
        return None
    rebuilt = parse_caa(caa_rdata(prop.flags & CRITICAL, prop.tag, prop.value))
    return None if rebuilt.problems else rebuilt


CHECK = Check(
    id="dns.caa.syntax",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8659,),
    observer=CAA,
    evaluate=evaluate,
)
