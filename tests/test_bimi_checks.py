"""The email.bimi.* checks on recorded observations, and BIMI end to end through the lab."""

from __future__ import annotations

import json

import pytest

from mimawari.checks import ALL_CHECKS
from mimawari.lab.world import Lab
from mimawari.lookup import HttpRequest, HttpResponse
from mimawari.model import Finding, Grade, Severity, Status
from mimawari.scan import scan_domains
from tests.helpers import finding, recorded
from tests.test_bimi_parse import TINY_PS, mark_certificate

Answers = dict[str, str | list[str]]
LOGO = "https://brand.example.test/logo.svg"
VMC = "https://brand.example.test/vmc.pem"
ADDRESS = "198.51.100.7"
RECORD = f"v=BIMI1; l={LOGO}; a={VMC}"
CHECKS = ("record", "dmarc", "logo", "certificate")


def answers(
    bimi: str | list[str] = RECORD, dmarc: str | list[str] = "v=DMARC1; p=reject", **more: str | list[str]
) -> Answers:
    base: Answers = {
        "default._bimi.example.test TXT": [bimi] if isinstance(bimi, str) and bimi.startswith("v=") else bimi,
        "_dmarc.example.test TXT": [dmarc] if isinstance(dmarc, str) and dmarc.startswith("v=") else dmarc,
        "brand.example.test A": [ADDRESS],
        "brand.example.test AAAA": "NODATA",
    }
    base.update(more)
    return base


def logo(body: str = TINY_PS, content_type: str = "image/svg+xml", http_status: int = 200) -> HttpResponse:
    return HttpResponse(HttpRequest(LOGO, ADDRESS), Status.PRESENT, http_status, content_type, body)


def vmc(body: str | None = None, **options: object) -> HttpResponse:
    pem = body if body is not None else mark_certificate(**options)  # type: ignore[arg-type]
    return HttpResponse(
        HttpRequest(VMC, ADDRESS), Status.PRESENT, 200, "application/pem-certificate-chain", pem
    )


def check(name: str, given: Answers, *http: HttpResponse, target: str = "example.test") -> Finding:
    return finding(recorded(target, given).patched(*http), f"email.bimi.{name}")


def grades(given: Answers, *http: HttpResponse) -> tuple[Grade, ...]:
    return tuple(check(name, given, *http).grade for name in CHECKS)


def test_everything_right() -> None:
    assert grades(answers(), logo(), vmc()) == (Grade.A,) * 4
    result = check("certificate", answers(), logo(), vmc())
    assert "A VMC is published" in result.summary.en and "chain of trust not verified" in result.summary.en


def test_no_bimi_is_informational() -> None:
    given = answers(bimi="NXDOMAIN")
    assert grades(given) == (Grade.NA,) * 4
    result = check("record", given)
    assert (result.severity, result.fix) == (Severity.INFO, None)
    assert "BIMI is optional" in result.summary.en


def test_subdomain_falls_back_to_the_organisational_record() -> None:
    given: Answers = {"default._bimi.mail.example.test TXT": "NXDOMAIN", **answers()}
    result = check("record", given, target="mail.example.test")
    assert result.grade is Grade.A and "default._bimi.example.test" in result.summary.en


def test_declination_record_is_not_applicable() -> None:
    assert grades(answers(bimi="v=BIMI1; l=; a=;")) == (Grade.NA,) * 4


@pytest.mark.parametrize("outcome", ["timeout", "SERVFAIL"])
def test_failed_bimi_lookup_is_unknown(outcome: str) -> None:
    assert check("record", answers(bimi=outcome)).grade is Grade.UNKNOWN


def test_invalid_and_multiple_records() -> None:
    bad = check("record", answers(bimi="v=BIMI1; l=http://brand.example.test/logo.svg"))
    assert bad.grade is Grade.D and "https://" in bad.summary.en
    assert bad.fix is not None
    assert (
        bad.fix.snippet
        == 'default._bimi.example.test. IN TXT "v=BIMI1; l=https://example.test/bimi/logo.svg"'
    )
    assert bad.after_fix is not None and bad.after_fix.grade is Grade.A
    two = check("record", answers(bimi=[RECORD, "v=BIMI1; l=https://x.example.test/l.svg"]))
    assert two.grade is Grade.D and "2 BIMI records" in two.summary.en


@pytest.mark.parametrize(
    ("dmarc", "how", "fixed"),
    [
        (
            "v=DMARC1; p=none; rua=mailto:d@example.test",
            "p=none",
            "v=DMARC1; p=quarantine; rua=mailto:d@example.test",
        ),
        ("v=DMARC1; p=quarantine; pct=50", "pct=50", "v=DMARC1; p=quarantine"),
        ("v=DMARC1; p=reject; t=y", "testing mode", "v=DMARC1; p=reject"),
        ("NXDOMAIN", "missing", "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.test"),
    ],
)
def test_bimi_without_enforcing_dmarc_grades_d(dmarc: str, how: str, fixed: str) -> None:
    result = check("dmarc", answers(dmarc=dmarc), logo(), vmc())
    assert result.grade is Grade.D and how in result.summary.en
    assert result.fix is not None and result.fix.snippet == f'_dmarc.example.test. IN TXT "{fixed}"'
    assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_enforcing_dmarc_and_unknown_dmarc() -> None:
    assert check("dmarc", answers(dmarc="v=DMARC1; p=quarantine; pct=100"), logo(), vmc()).grade is Grade.A
    assert check("dmarc", answers(dmarc="timeout"), logo(), vmc()).grade is Grade.UNKNOWN


@pytest.mark.parametrize(
    ("response", "grade", "detail"),
    [
        (logo(content_type="text/plain"), Grade.D, "served as text/plain, not image/svg+xml"),
        (logo(http_status=404), Grade.D, "HTTP 404"),
        (
            HttpResponse(
                HttpRequest(LOGO, ADDRESS),
                Status.ERROR,
                detail="certificate verify failed: self-signed certificate",
            ),
            Grade.D,
            "self-signed",
        ),
        (logo(body="<html/>"), Grade.D, "not an SVG image"),
        (logo(body=TINY_PS.replace("tiny-ps", "tiny")), Grade.C, "not SVG Tiny PS"),
        (
            HttpResponse(HttpRequest(LOGO, ADDRESS), Status.TIMEOUT, detail="no answer within 5 s"),
            Grade.UNKNOWN,
            "Scan again",
        ),
    ],
)
def test_logo_problems(response: HttpResponse, grade: Grade, detail: str) -> None:
    result = check("logo", answers(), response, vmc())
    assert result.grade is grade and detail in result.summary.en, result.summary.en
    if grade in (Grade.C, Grade.D):
        assert result.after_fix is not None and result.after_fix.grade is Grade.A


def test_logo_host_lookup_failure_is_unknown() -> None:
    assert check("logo", answers(**{"brand.example.test A": "timeout"})).grade is Grade.UNKNOWN


def test_no_mark_certificate_grades_c() -> None:
    result = check("certificate", answers(bimi=f"v=BIMI1; l={LOGO}"), logo())
    assert result.grade is Grade.C and "VMC or CMC" in result.summary.en
    assert result.fix is not None
    assert result.fix.snippet == (
        f'default._bimi.example.test. IN TXT "v=BIMI1; l={LOGO}; a=https://brand.example.test/bimi/vmc.pem"'
    )


@pytest.mark.parametrize(
    ("response", "grade", "detail"),
    [
        (vmc(days=(-400, -10)), Grade.D, "not valid now"),
        (vmc(days=(10, 400)), Grade.D, "not valid now"),
        (vmc(bimi=False), Grade.C, "extended key usage"),
        (vmc(names=("other.test",)), Grade.C, "issued for other.test, not example.test"),
        (vmc(body="not a certificate"), Grade.D, "no PEM certificate could be read"),
        (
            HttpResponse(HttpRequest(VMC, ADDRESS), Status.PRESENT, 404, "text/html", "gone"),
            Grade.D,
            "HTTP 404",
        ),
        (
            HttpResponse(HttpRequest(VMC, ADDRESS), Status.TIMEOUT, detail="no answer"),
            Grade.UNKNOWN,
            "Scan again",
        ),
    ],
)
def test_certificate_problems(response: HttpResponse, grade: Grade, detail: str) -> None:
    result = check("certificate", answers(), logo(), response)
    assert result.grade is grade and detail in result.summary.en, result.summary.en


def test_cmc_is_named() -> None:
    result = check("certificate", answers(), logo(), vmc(mark_type="Prior Use Mark"))
    assert result.grade is Grade.A and "A CMC is published" in result.summary.en


LAB_YAML = """
zones:
  brand.test:
    records:
      _dmarc: {TXT: "v=DMARC1; p=reject"}
      default._bimi: {TXT: "v=BIMI1; l=https://img.brand.test/logo.svg; a=https://img.brand.test/vmc.pem"}
      img: {A: 203.0.113.80}
  weak.test:
    records:
      _dmarc: {TXT: "v=DMARC1; p=none; rua=mailto:d@weak.test"}
      default._bimi: {TXT: "v=BIMI1; l=https://img.weak.test/logo.svg"}
      img: {A: 203.0.113.81}
  plain.test:
    records:
      "@": {MX: 10 mx.plain.test.}
https:
  sites:
    img.brand.test:
      paths:
        /logo.svg: {content_type: image/svg+xml, body: "LOGO"}
        /vmc.pem: {content_type: application/pem-certificate-chain, body: "PEM"}
    img.weak.test:
      cert: wrong-name
      paths:
        /logo.svg: {content_type: image/svg+xml, body: "LOGO"}
"""


async def test_bimi_end_to_end() -> None:
    pem = mark_certificate(names=("brand.test",))
    text = LAB_YAML.replace('"LOGO"', json.dumps(TINY_PS)).replace('"PEM"', json.dumps(pem))
    checks = {f"email.bimi.{name}": ALL_CHECKS[f"email.bimi.{name}"] for name in CHECKS}
    async with Lab.from_yaml(text) as lab:
        reports = await scan_domains(["brand.test", "weak.test", "plain.test"], lab.network(), checks)
    assert {r.domain: tuple(f.grade for f in r.findings) for r in reports} == {
        "brand.test": (Grade.A, Grade.A, Grade.A, Grade.A),
        "weak.test": (Grade.A, Grade.D, Grade.D, Grade.C),
        "plain.test": (Grade.NA,) * 4,
    }
    weak_logo = reports[1].findings[2]
    assert "Hostname mismatch" in weak_logo.summary.en
