"""dns.caa.present — does a CAA record restrict which CAs may issue certificates for the domain?

Without a relevant CAA RRset (RFC 8659 §3: the closest one climbing from the domain), any public CA may
issue a certificate for it, so one weak CA validation is enough for an attacker's certificate: C. A CAA
RRset with no ``issue`` property restricts nothing for ordinary names either (§4.2, §4.3): C. The fix
names one CA (the owner replaces it with the ones they use) and an ``iodef`` contact.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.caa.base import RFC8659, caa_unknown, starter_iodef, starter_issue
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Status, Text, Verdict
from mimawari.observations.caa import CAA, CaaObservation

TITLE = Text("CAA records", "CAA レコード")

RESTRICTED = Text(
    "CAA records at {location} restrict certificate issuance to: {issuers}.",
    "{location} の CAA レコードにより、証明書を発行できる認証局が次に限定されています: {issuers}。",
)
ANY_CA = Text(
    "No CAA records apply to {domain}: any certificate authority may issue certificates for it.",
    "{domain} に適用される CAA レコードがないため、どの認証局でも証明書を発行できます。",
)
NO_ISSUE = Text(
    "The CAA records at {location} have no issue property, so any certificate authority may still issue "
    "ordinary certificates for {domain}.",
    "{location} の CAA レコードに issue プロパティがないため、{domain} の通常の証明書はどの認証局でも"
    "発行できます。",
)
NO_CA = "no CA (issuance forbidden)"
FIX_PUBLISH = Text(
    "Publish CAA records naming the certificate authorities you use (replace letsencrypt.org if you use "
    "another CA; one issue record per CA) and an address for reports of refused requests:",
    "利用している認証局を指定する CAA レコード（他の認証局を使う場合は letsencrypt.org を置き換え、"
    "認証局ごとに issue レコードを 1 件）と、拒否された発行要求の報告先を公開してください:",
)
FIX_ISSUE = Text(
    "Add an issue record naming the certificate authority you use (replace letsencrypt.org if needed):",
    "利用している認証局を指定する issue レコードを追加してください（必要に応じて letsencrypt.org を置き換え"
    "ます）:",
)
EFFECT = Text(
    "Only the named certificate authorities may issue certificates for the domain; others must refuse.",
    "指定した認証局だけがこのドメインの証明書を発行でき、他の認証局は発行を拒否しなければなりません。",
)


def evaluate(observation: CaaObservation) -> Verdict:
    failed = caa_unknown(observation)
    if failed is not None:
        return failed
    evidence = observation.evidence()
    domain, org = observation.domain, observation.org_domain
    if observation.status is not Status.PRESENT or observation.location is None:
        (issue_text, issue), (iodef_text, iodef) = starter_issue(org), starter_iodef(org, org)
        fixed = replace(observation, status=Status.PRESENT, location=org, properties=(issue, iodef))
        fix = Fix(FIX_PUBLISH, f"{issue_text}\n{iodef_text}")
        return Verdict(
            Grade.C, ANY_CA.format(domain=domain), evidence, fix, AfterFix(evaluate(fixed).grade, EFFECT)
        )
    issuing = observation.tags("issue")
    if not issuing:
        line, issue = starter_issue(observation.location)
        fixed = replace(observation, properties=(*observation.properties, issue))
        summary = NO_ISSUE.format(location=observation.location, domain=domain)
        after = AfterFix(evaluate(fixed).grade, EFFECT)
        return Verdict(Grade.C, summary, evidence, Fix(FIX_ISSUE, line), after)
    issuers = ", ".join(dict.fromkeys(p.issuer or NO_CA for p in issuing))
    return Verdict(Grade.A, RESTRICTED.format(location=observation.location, issuers=issuers), evidence)


CHECK = Check(
    id="dns.caa.present",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC8659,),
    observer=CAA,
    evaluate=evaluate,
)
