"""email.mx.null — is a Null MX (RFC 7505) published correctly?

``0 .`` as the only MX record is a valid declaration that the domain accepts no mail: A. RFC 7505 §3
says a domain that publishes a Null MX MUST NOT publish any other MX record; mixed with real MX
records, senders may bounce mail that should be delivered, or ignore the declaration: D. A root exchange
with a preference other than 0 is not a Null MX as defined: C. No Null MX at all: not applicable.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.mx.base import RFC7505, mx_unknown
from mimawari.model import AfterFix, Category, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.mx import MX, MxHost, MxObservation

TITLE = Text("Null MX", "Null MX")

NONE = Text("{domain} publishes no Null MX.", "{domain} は Null MX を公開していません。")
VALID = Text(
    "{domain} publishes a valid Null MX (0 .) as its only MX record: it declares that it accepts no mail.",
    "{domain} は唯一の MX レコードとして正しい Null MX（0 .）を公開しており、メールを受け付けないことを"
    "宣言しています。",
)
MIXED = Text(
    "{domain} publishes a Null MX together with {count} other MX record(s). RFC 7505 §3 forbids this: "
    "some senders treat the domain as accepting no mail and bounce messages, others ignore the Null MX.",
    "{domain} は Null MX と他の MX レコード {count} 件を同時に公開しています。これは RFC 7505 3 節で"
    "禁止されており、送信側によってはメールを受け付けないドメインとして扱って返送し、別の送信側は Null MX を"
    "無視します。",
)
PREFERENCE = Text(
    "{domain} publishes a root MX with preference {preference}; a Null MX must have preference 0 "
    "(RFC 7505 §3), so senders may not recognise it.",
    "{domain} はプリファレンス {preference} のルート MX を公開しています。Null MX のプリファレンスは 0 で"
    "なければならず（RFC 7505 3 節）、送信側が Null MX と認識しない可能性があります。",
)
FIX_MIXED = Text(
    "{domain} receives mail, so delete the Null MX and publish only the MX records of its mail servers.",
    "{domain} はメールを受信しているため、Null MX を削除し、メールサーバーの MX レコードだけを公開して"
    "ください。",
)
FIX_PREFERENCE = Text(
    "Publish the Null MX with preference 0, as the only MX record.",
    "唯一の MX レコードとして、プリファレンス 0 の Null MX を公開してください。",
)
EFFECT_MIXED = Text(
    "Senders deliver to the mail servers without conflicting signals.",
    "送信側は矛盾のない設定に従い、メールサーバーに配送します。",
)
EFFECT_NULL = Text(
    "Senders recognise the Null MX and fail at once instead of trying to deliver.",
    "送信側が Null MX を認識し、配送を試みずに即座にエラーとします。",
)


def evaluate(observation: MxObservation) -> Verdict:
    domain = observation.domain
    failed = mx_unknown(observation)
    if failed is not None:
        return failed
    evidence = (observation.mx_evidence(),)
    if not observation.has_null_mx:
        return Verdict(Grade.NA, NONE.format(domain=domain), evidence)
    others = tuple(h for h in observation.hosts if not h.is_null)
    if others:
        records = tuple(f"{h.preference} {h.exchange}." for h in others)
        fixed = replace(observation, hosts=others, records=records)
        fix = Fix(FIX_MIXED.format(domain=domain), observation.mx_zone_lines(others))
        after = AfterFix(evaluate(fixed).grade, EFFECT_MIXED)
        return Verdict(Grade.D, MIXED.format(domain=domain, count=len(others)), evidence, fix, after)
    null = observation.hosts[0]
    if len(observation.hosts) > 1 or null.preference != 0:
        good = MxHost(0, ".")
        fixed = replace(observation, hosts=(good,), records=("0 .",))
        fix = Fix(FIX_PREFERENCE, good.zone_line(domain))
        after = AfterFix(evaluate(fixed).grade, EFFECT_NULL)
        preferences = ", ".join(str(h.preference) for h in observation.hosts)
        summary = PREFERENCE.format(domain=domain, preference=preferences)
        return Verdict(Grade.C, summary, evidence, fix, after, Severity.LOW)
    return Verdict(Grade.A, VALID.format(domain=domain), evidence)


CHECK = Check(
    id="email.mx.null",
    category=Category.EMAIL_DNS,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(RFC7505,),
    observer=MX,
    evaluate=evaluate,
)
