"""BIMI parsing: the record, the SVG Tiny PS logo (hostile input included) and the mark certificate."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mimawari.parse.bimi import (
    BIMI_USAGE,
    LOGOTYPE,
    MARK_TYPE,
    analyse_svg,
    is_bimi_record,
    parse_bimi,
    parse_mark_certificate,
)

TINY_PS = (
    '<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 10 10">'
    "<title>Kuroneko</title><defs><linearGradient id='g'/></defs>"
    "<circle cx='5' cy='5' r='4' fill='url(#g)'/></svg>"
)


def test_record() -> None:
    record = parse_bimi("v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem")
    assert record.valid and not record.declined
    assert (record.logo_url, record.authority_url) == (
        "https://example.com/logo.svg",
        "https://example.com/vmc.pem",
    )
    assert parse_bimi("v=BIMI1; l=; a=;").declined
    assert parse_bimi("v=BIMI1; l=https://example.com/logo.svg; a=").valid
    assert is_bimi_record("v=BIMI1;l=") and not is_bimi_record("v=BIMI2; l=")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=BIMI1", "required tag l"),
        ("v=BIMI1; l=http://example.com/logo.svg", "must be an https:// URL"),
        ("v=BIMI1; l=https://example.com/a.svg,https://example.com/b.svg", "exactly one URL"),
        ("v=BIMI1; l=https://example.com/logo.png", "raster image"),
        ("v=BIMI1; l=https://example.com/logo.svg; a=ftp://example.com/vmc.pem", "a='ftp"),
        ("l=https://example.com/logo.svg; v=BIMI1", "must begin with v=BIMI1"),
        ("v=BIMI1; l=https://example.com/logo.svg; l=https://example.com/2.svg", "more than once"),
        ("v=BIMI1; l=https://example.com/logo.svg; nonsense", "not a tag=value pair"),
    ],
)
def test_invalid_records(text: str, problem: str) -> None:
    assert any(problem in p for p in parse_bimi(text).problems), parse_bimi(text).problems


def test_tiny_ps_logo() -> None:
    logo = analyse_svg(TINY_PS)
    assert logo.tiny_ps, logo.problems
    assert (logo.title, logo.base_profile, logo.version) == ("Kuroneko", "tiny-ps", "1.2")


@pytest.mark.parametrize(
    ("body", "svg", "problem"),
    [
        (TINY_PS.replace(' baseProfile="tiny-ps"', ""), True, "baseProfile is 'missing'"),
        (TINY_PS.replace('version="1.2"', 'version="1.1"'), True, 'not "1.2"'),
        (TINY_PS.replace("<title>Kuroneko</title>", ""), True, "<title>"),
        (TINY_PS.replace("</svg>", "<script>alert(1)</script></svg>"), True, "<script> is not allowed"),
        (TINY_PS.replace("<circle", "<circle onclick='x()'"), True, "event handler attribute onclick"),
        (
            TINY_PS.replace(
                "</svg>",
                '<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="https://evil.example/x.svg#a"/></svg>',
            ),
            True,
            "external reference",
        ),
        (TINY_PS.replace("url(#g)", "url(https://evil.example/p)"), True, "url() to outside"),
        (TINY_PS.replace("</svg>", "<image href='logo.png'/></svg>"), True, "<image> is not allowed"),
        (TINY_PS.replace("viewBox", 'x="0" viewBox'), True, "x or y attributes"),
        (TINY_PS.replace("</svg>", "<!--" + "x" * 40000 + "--></svg>"), True, "keep logos under 32768 bytes"),
        ("<html><body>hi</body></html>", False, "not an SVG"),
        ("<svg", False, "not well-formed XML"),
        ("", False, "not well-formed XML"),
        ("\x89PNG\r\n\x1a\n", False, "not well-formed XML"),
    ],
)
def test_logo_problems(body: str, svg: bool, problem: str) -> None:
    logo = analyse_svg(body)
    assert logo.svg is svg
    assert not logo.tiny_ps
    assert any(problem in p for p in logo.problems), logo.problems


@pytest.mark.parametrize(
    "body",
    [
        # Billion laughs and external entities: refused before any parsing, never expanded.
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<svg xmlns='http://www.w3.org/2000/svg'>&lol2;</svg>",
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&xxe;</svg>',
        '<!doctype svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
    ],
)
def test_doctype_and_entities_are_refused_unparsed(body: str) -> None:
    logo = analyse_svg(body)
    assert not logo.svg and "DOCTYPE or entities" in logo.problems[0]


def mark_certificate(
    *,
    names: tuple[str, ...] = ("example.test",),
    days: tuple[int, int] = (-10, 300),
    bimi: bool = True,
    mark_type: str = "Registered Mark",
) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trading")]
    if mark_type:
        attributes.append(x509.NameAttribute(MARK_TYPE, mark_type))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lab Mark Verifying Authority")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    )
    if bimi:
        builder = builder.add_extension(x509.ExtendedKeyUsage([BIMI_USAGE]), critical=False)
        builder = builder.add_extension(x509.UnrecognizedExtension(LOGOTYPE, b"\x30\x00"), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_mark_certificate() -> None:
    certificate = parse_mark_certificate(mark_certificate() + mark_certificate())
    assert certificate.parsed and not certificate.problems
    assert (certificate.kind, certificate.mark_type, certificate.chain_length) == (
        "VMC",
        "Registered Mark",
        2,
    )
    assert certificate.names == ("example.test",)
    assert certificate.bimi_usage and certificate.logotype
    assert certificate.not_after > certificate.not_before
    assert parse_mark_certificate(mark_certificate(mark_type="Prior Use Mark")).kind == "CMC"


def test_plain_certificate_and_garbage() -> None:
    plain = parse_mark_certificate(mark_certificate(bimi=False, mark_type=""))
    assert plain.kind == "mark certificate"
    assert any("extended key usage" in p for p in plain.problems)
    assert any("logotype" in p for p in plain.problems)
    for garbage in ("", "hello", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        broken = parse_mark_certificate(garbage)
        assert not broken.parsed and broken.problems == ("no PEM certificate could be read",)
