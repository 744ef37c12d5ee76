"""email.bimi.certificate — is there a mark certificate (VMC or CMC) at ``a=``, and is it in date.

Gmail and Apple Mail show BIMI logos only with a Verified Mark Certificate or a Common Mark Certificate;
without ``a=`` the logo shows only at some mailboxes: C. A certificate that cannot be fetched, read, or
is outside its validity dates: D. One without the BIMI extended key usage or the embedded logo, or not
issued for the domain: C. The chain of trust to a Mark Verifying Authority is not checked here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from mimawari.check import Check
from mimawari.checks.email.dns.bimi.evidence import REFERENCES, fetch_evidence, zone_line
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.bimi import BIMI, BimiObservation
from mimawari.observations.mta_sts import Retrieval
from mimawari.parse.bimi import MarkCertificate
from mimawari.parse.names import organizational_domain

TITLE = Text("BIMI mark certificate (VMC/CMC)", "BIMI マーク証明書（VMC / CMC）")

NOT_APPLICABLE = Text("No BIMI record asks for a logo.", "ロゴを求める BIMI レコードがありません。")
NONE = Text(
    "The BIMI record names no mark certificate (a=): Gmail and Apple Mail show the logo only with a "
    "VMC or CMC.",
    "BIMI レコードにマーク証明書（a=）の指定がありません。Gmail と Apple Mail は VMC か CMC がある場合にのみ"
    "ロゴを表示します。",
)
UNKNOWN = Text(
    "The mark certificate could not be checked ({problem}). Scan again.",
    "マーク証明書を確認できませんでした（{problem}）。再度スキャンしてください。",
)
FAILED = Text(
    "Receivers cannot use the mark certificate at {url}: {problem}.",
    "受信側は {url} のマーク証明書を使えません（{problem}）。",
)
OUT_OF_DATE = Text(
    "The {kind} at {url} is valid from {not_before} to {not_after}: not valid now.",
    "{url} の {kind} の有効期間は {not_before} から {not_after} までで、現在は無効です。",
)
INCOMPLETE = Text(
    "The {kind} at {url} is not a usable BIMI certificate: {problems}.",
    "{url} の {kind} は BIMI 用の証明書として使えません: {problems}。",
)
GOOD = Text(
    "A {kind} is published at {url}, valid until {not_after}, issued by {issuer} (chain of trust not "
    "verified).",
    "{url} に {kind} が公開されています（{not_after} まで有効、発行者 {issuer}。信頼チェーンは未検証）。",
)
FIX_OBTAIN = Text(
    "Obtain a VMC (for a registered trademark) or a CMC from a Mark Verifying Authority, publish its PEM "
    "chain over HTTPS and name it in a=.",
    "マーク検証機関から VMC（登録商標向け）または CMC を取得し、PEM 形式のチェーンを HTTPS で公開して a= に"
    "指定してください。",
)
FIX_SERVE = Text(
    "Serve the PEM certificate chain at {url} over HTTPS with a valid certificate, without redirect.",
    "{url} で PEM 形式の証明書チェーンを、有効な証明書の HTTPS で、リダイレクトせずに配信してください。",
)
FIX_RENEW = Text(
    "Renew the mark certificate and publish the new PEM chain at {url}.",
    "マーク証明書を更新し、新しい PEM チェーンを {url} に公開してください。",
)
EFFECT = Text(
    "Mailboxes that require a mark certificate (Gmail, Apple Mail) can show the logo.",
    "マーク証明書を必須とするメールボックス（Gmail、Apple Mail）でもロゴを表示できるようになります。",
)


def evaluate(observation: BimiObservation) -> Verdict:
    record = observation.record
    if not observation.usable or record is None:
        return Verdict(Grade.NA, NOT_APPLICABLE)
    fetched = observation.certificate_fetch
    url = record.authority_url
    if fetched is None or not url:
        location = observation.location or f"default._bimi.{observation.domain}"
        host = urlsplit(record.logo_url).hostname or observation.domain
        fixed = f"v=BIMI1; l={record.logo_url}; a=https://{host}/bimi/vmc.pem"
        return Verdict(
            Grade.C, NONE, (), Fix(FIX_OBTAIN, zone_line(location, fixed)), AfterFix(Grade.A, EFFECT)
        )
    found = fetch_evidence(fetched)
    if fetched.retrieval is Retrieval.UNKNOWN:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=fetched.problem), found)
    certificate = observation.certificate
    fix_serve = Fix(FIX_SERVE.format(url=url))
    if fetched.retrieval is not Retrieval.RETRIEVED or certificate is None or not certificate.parsed:
        problem = fetched.problem or "; ".join(certificate.problems if certificate else ()) or "empty"
        return Verdict(
            Grade.D, FAILED.format(url=url, problem=problem), found, fix_serve, AfterFix(Grade.A, EFFECT)
        )
    found += _describe(certificate)
    facts = {
        "kind": certificate.kind,
        "url": url,
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
    }
    moment = datetime.fromtimestamp(observation.observed_at, UTC)
    if (
        not datetime.fromisoformat(certificate.not_before)
        <= moment
        <= datetime.fromisoformat(certificate.not_after)
    ):
        in_date = replace(certificate, not_before=moment.isoformat(), not_after="9999-12-31T00:00:00+00:00")
        renewed = replace(observation, certificate=in_date)
        after = AfterFix(evaluate(renewed).grade, EFFECT)
        return Verdict(Grade.D, OUT_OF_DATE.format(**facts), found, Fix(FIX_RENEW.format(url=url)), after)
    problems = list(certificate.problems)
    owners = {observation.domain, organizational_domain(observation.domain)}
    if certificate.names and not owners & set(certificate.names):
        problems.append(f"it is issued for {', '.join(certificate.names)}, not {observation.domain}")
    if problems:
        summary = INCOMPLETE.format(kind=certificate.kind, url=url, problems="; ".join(problems))
        return Verdict(Grade.C, summary, found, Fix(FIX_OBTAIN), AfterFix(Grade.A, EFFECT))
    return Verdict(Grade.A, GOOD.format(**facts, issuer=certificate.issuer), found)


def _describe(certificate: MarkCertificate) -> tuple[Evidence, ...]:
    return (
        Evidence("certificate subject", certificate.subject),
        Evidence("certificate issuer", certificate.issuer),
        Evidence("certificate validity", f"{certificate.not_before} – {certificate.not_after}"),
        Evidence("certificate names", ", ".join(certificate.names) or "(none)"),
        Evidence("mark type", certificate.mark_type or "(not stated)"),
    )


CHECK = Check(
    id="email.bimi.certificate",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=REFERENCES,
    observer=BIMI,
    evaluate=evaluate,
)
