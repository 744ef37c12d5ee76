"""email.bimi.logo — is the ``l=`` logo reachable over HTTPS and an SVG Tiny PS image.

Receivers fetch the logo like senders fetch an MTA-STS policy: HTTPS with a valid certificate, no
redirect, served as ``image/svg+xml``. A logo they cannot fetch, or that is not SVG at all: D. An SVG
that is not SVG Tiny PS (``baseProfile="tiny-ps"``, ``version="1.2"``, a ``<title>``, no scripts,
external references, animation or event handlers, under 32 KB): C, listing what to change.
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.dns.bimi.evidence import REFERENCES, fetch_evidence
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Severity, Text, Verdict
from mimawari.observations.bimi import BIMI, BimiObservation
from mimawari.observations.mta_sts import Retrieval
from mimawari.parse.bimi import SvgLogo

TITLE = Text("BIMI logo", "BIMI ロゴ")

NOT_APPLICABLE = Text(
    "No BIMI record names a logo to fetch.",
    "取得すべきロゴを指定した BIMI レコードがありません。",
)
UNKNOWN = Text(
    "Whether the BIMI logo can be fetched could not be determined ({problem}). Scan again.",
    "BIMI ロゴを取得できるか判定できませんでした（{problem}）。再度スキャンしてください。",
)
FAILED = Text(
    "Receivers cannot fetch the BIMI logo from {url}: {problem}.",
    "受信側は {url} から BIMI ロゴを取得できません（{problem}）。",
)
NOT_SVG = Text(
    "The BIMI logo at {url} is not an SVG image ({problems}).",
    "{url} の BIMI ロゴは SVG 画像ではありません（{problems}）。",
)
NOT_TINY_PS = Text(
    "The BIMI logo at {url} is SVG but not SVG Tiny PS, so receivers may refuse it: {problems}.",
    "{url} の BIMI ロゴは SVG ですが SVG Tiny PS ではないため、受信側に拒否される可能性があります: {problems}。",
)
GOOD = Text(
    "The BIMI logo at {url} is an SVG Tiny PS image ({size} bytes, title {title!r}).",
    "{url} の BIMI ロゴは SVG Tiny PS 画像です（{size} バイト、タイトル {title!r}）。",
)
FIX_SERVE = Text(
    "Serve the logo at {url} over HTTPS with a valid certificate, directly (no redirect), with "
    "Content-Type: image/svg+xml.",
    "{url} でロゴを、有効な証明書の HTTPS で、リダイレクトせず、Content-Type: image/svg+xml で配信してください。",
)
FIX_TINY_PS = Text(
    "Export the logo as SVG Tiny PS: set version and baseProfile as below, add a <title> with the brand "
    "name, remove scripts, external references and animation.",
    "ロゴを SVG Tiny PS で書き出してください。version と baseProfile を下記のとおりにし、ブランド名の <title> を"
    "追加し、スクリプト・外部参照・アニメーションを削除します。",
)
TINY_PS_ROOT = (
    '<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 512 512">'
    "<title>{brand}</title>…</svg>"
)
EFFECT = Text(
    "Receivers can fetch and display the logo.",
    "受信側がロゴを取得して表示できるようになります。",
)


def evaluate(observation: BimiObservation) -> Verdict:
    fetched, record = observation.logo_fetch, observation.record
    if not observation.usable or fetched is None or record is None:
        return Verdict(Grade.NA, NOT_APPLICABLE)
    found = fetch_evidence(fetched)
    url = record.logo_url
    if fetched.retrieval is Retrieval.UNKNOWN:
        return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=fetched.problem), found)
    logo = observation.logo
    compliant = SvgLogo(logo.size if logo else 0, True, "tiny-ps", "1.2", observation.domain)
    fix_serve = Fix(FIX_SERVE.format(url=url), "Content-Type: image/svg+xml")
    if fetched.retrieval is not Retrieval.RETRIEVED:
        served = replace(fetched, retrieval=Retrieval.RETRIEVED, problem="")
        after = _after(replace(observation, logo_fetch=served, logo=logo or compliant))
        return Verdict(Grade.D, FAILED.format(url=url, problem=fetched.problem), found, fix_serve, after)
    brand = observation.domain.split(".")[0].capitalize()
    fix_svg = Fix(FIX_TINY_PS, TINY_PS_ROOT.format(brand=brand))
    if logo is None or not logo.svg:
        problems = "; ".join(logo.problems) if logo is not None else "empty"
        return Verdict(
            Grade.D,
            NOT_SVG.format(url=url, problems=problems),
            found,
            fix_svg,
            _after(replace(observation, logo=compliant)),
        )
    found += (
        Evidence("logo", f"{logo.size} bytes, baseProfile={logo.base_profile!r}, version={logo.version!r}"),
    )
    if logo.problems:
        summary = NOT_TINY_PS.format(url=url, problems="; ".join(logo.problems))
        return Verdict(
            Grade.C, summary, found, fix_svg, _after(replace(observation, logo=replace(logo, problems=())))
        )
    return Verdict(Grade.A, GOOD.format(url=url, size=logo.size, title=logo.title), found)


def _after(fixed: BimiObservation) -> AfterFix:
    return AfterFix(evaluate(fixed).grade, EFFECT)


CHECK = Check(
    id="email.bimi.logo",
    category=Category.EMAIL_DNS,
    severity=Severity.LOW,
    title=TITLE,
    references=REFERENCES,
    observer=BIMI,
    evaluate=evaluate,
)
