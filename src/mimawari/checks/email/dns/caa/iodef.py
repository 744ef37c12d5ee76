"""dns.caa.iodef — do the CAA records name where CAs may report refused certificate requests?

The ``iodef`` property (RFC 8659 §4.4) gives CAs a mailto: or http(s): URL to report requests that the
CAA records made them refuse — an early sign of someone trying to get a certificate for the domain.
Missing: B; present but not a usable URL: C. No CAA records at all is graded by dns.caa.present.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.caa.base import ABSENT, RFC8659_IODEF, caa_unknown, starter_iodef
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.caa import CAA, CaaObservation

TITLE = Text("CAA incident reporting (iodef)", "CAA の違反報告先（iodef）")

PRESENT = Text(
    "The CAA records at {location} name a report address: {urls}.",
    "{location} の CAA レコードに報告先が指定されています: {urls}。",
)
MISSING = Text(
    "The CAA records at {location} name no report address (iodef): you will not hear of certificate "
    "requests that CAs refused.",
    "{location} の CAA レコードに報告先（iodef）がないため、認証局が拒否した証明書の発行要求を知ることが"
    "できません。",
)
INVALID = Text(
    "The iodef property at {location} is not a mailto:, http: or https: URL ({values}), so CAs cannot use it.",
    "{location} の iodef プロパティが mailto:、http:、https: の URL ではないため（{values}）、認証局は利用"
    "できません。",
)
FIX = Text(
    "Add an iodef record with an address that is read (replace it if security@ is not):",
    "確認されている報告先を指定した iodef レコードを追加してください（security@ を読んでいない場合は置き換え"
    "てください）:",
)
EFFECT = Text(
    "CAs can tell you when someone asks for a certificate the CAA records forbid.",
    "CAA レコードで禁止された証明書の発行要求があった場合に、認証局から報告を受けられます。",
)


def evaluate(observation: CaaObservation) -> Verdict:
    failed = caa_unknown(observation)
    if failed is not None:
        return failed
    evidence = observation.evidence()
    location = observation.location
    if observation.status is not Status.PRESENT or location is None:
        return Verdict(Grade.NA, ABSENT.format(domain=observation.domain), evidence)
    iodefs = observation.tags("iodef")
    usable = [p for p in iodefs if not p.problems]
    if usable:
        return Verdict(
            Grade.A, PRESENT.format(location=location, urls=", ".join(p.value for p in usable)), evidence
        )
    line, iodef = starter_iodef(location, observation.org_domain)
    kept = tuple(p for p in observation.properties if p.tag != "iodef")
    fixed = replace(observation, properties=(*kept, iodef))
    if iodefs:
        grade, summary = Grade.C, INVALID.format(location=location, values=", ".join(p.value for p in iodefs))
    else:
        grade, summary = Grade.B, MISSING.format(location=location)
    return Verdict(grade, summary, evidence, Fix(FIX, line), AfterFix(evaluate(fixed).grade, EFFECT))


CHECK = Check(
    id="dns.caa.iodef",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC8659_IODEF,),
    observer=CAA,
    evaluate=evaluate,
)
