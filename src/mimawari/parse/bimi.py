"""BIMI (draft-brand-indicators-for-message-identification): the assertion record, the SVG Tiny PS logo,
and the mark certificate (VMC or CMC) named by ``a=``. Pure and total: problems are listed, never raised.

The logo is untrusted XML from the internet. It is parsed with ``xml.etree`` only after refusing any
``<!DOCTYPE``/``<!ENTITY`` (SVG Tiny PS allows neither), so no entity is ever expanded and nothing
external is fetched; bodies are already capped by the HTTP client.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier

from mimawari.parse.taglist import TagProblem, split_tag_list

_VERSION = re.compile(r"^v\s*=\s*BIMI1\s*(;|$)")
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
MAX_LOGO_BYTES = 32 * 1024
"""The BIMI group's size limit for logos; larger ones are refused by some mailbox providers."""

BIMI_USAGE = ObjectIdentifier("1.3.6.1.5.5.7.3.31")
"""id-kp-BrandIndicatorforMessageIdentification, the extended key usage of VMCs and CMCs."""
LOGOTYPE = ObjectIdentifier("1.3.6.1.5.5.7.1.12")
"""The logotype extension (RFC 3709) that embeds the SVG in a mark certificate."""
MARK_TYPE = ObjectIdentifier("1.3.6.1.4.1.53087.1.13")
"""The subject attribute naming the mark type (Registered Mark, Government Mark, Prior Use Mark …)."""
CMC_MARK_TYPES = ("prior use mark", "modified registered mark")

# Elements SVG Tiny PS forbids because they run code, pull in content or animate.
_FORBIDDEN = frozenset(
    {
        "script",
        "foreignObject",
        "image",
        "animate",
        "animateMotion",
        "animateTransform",
        "animateColor",
        "set",
        "iframe",
        "video",
        "audio",
        "a",
        "handler",
        "listener",
    }
)


def is_bimi_record(text: str) -> bool:
    return bool(_VERSION.match(text))


@dataclass(frozen=True)
class BimiRecord:
    text: str
    tags: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()

    def tag(self, name: str) -> str | None:
        return next((value for key, value in self.tags if key == name), None)

    @property
    def logo_url(self) -> str:
        return self.tag("l") or ""

    @property
    def authority_url(self) -> str:
        return self.tag("a") or ""

    @property
    def declined(self) -> bool:
        """``l=`` and ``a=`` both empty: the domain says it publishes no logo (a declination record)."""
        return not self.logo_url and not self.authority_url

    @property
    def valid(self) -> bool:
        return not self.problems


def https_url_problem(url: str, tag: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return f"{tag}={url!r} must be an https:// URL"
    if "," in url:
        return f"{tag}={url!r} must name exactly one URL"
    return None


def parse_bimi(text: str) -> BimiRecord:
    tag_list = split_tag_list(text, fold_case=True)
    tags = tag_list.tags
    problems: list[str] = []
    for part in tag_list.parts:
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(f"not a tag=value pair: {part.text!r}")
        elif part.problem is TagProblem.DUPLICATE:
            problems.append(f"tag {part.name!r} appears more than once")
    record = BimiRecord(text, tags)
    if not tags or tags[0] != ("v", "BIMI1"):
        problems.append("the record must begin with v=BIMI1")
    if record.tag("l") is None:
        problems.append("required tag l (the logo URL) is missing")
    for tag in ("l", "a"):
        url = record.tag(tag)
        if url:
            problem = https_url_problem(url, tag)
            if problem:
                problems.append(problem)
    if record.logo_url and urlsplit(record.logo_url).path.lower().endswith((".png", ".jpg", ".gif")):
        problems.append("l= names a raster image; BIMI logos are SVG")
    return BimiRecord(text, tags, tuple(problems))


@dataclass(frozen=True)
class SvgLogo:
    """What the logo is, as far as a cheap, safe look tells: SVG Tiny PS or not, and why not."""

    size: int
    svg: bool
    base_profile: str = ""
    version: str = ""
    title: str = ""
    problems: tuple[str, ...] = ()

    @property
    def tiny_ps(self) -> bool:
        return self.svg and not self.problems


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def analyse_svg(body: str) -> SvgLogo:
    """Check a logo against the SVG Tiny PS profile the BIMI drafts require (cheap, no entity expansion)."""
    size = len(body.encode())
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        return SvgLogo(size, False, problems=("the file declares a DOCTYPE or entities (not parsed)",))
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return SvgLogo(size, False, problems=(f"not well-formed XML: {exc}",))
    if root.tag != f"{SVG_NS}svg":
        return SvgLogo(size, False, problems=(f"the root element is {_local(root.tag)!r}, not an SVG svg",))
    problems: list[str] = []
    base_profile, version = root.get("baseProfile", ""), root.get("version", "")
    if base_profile != "tiny-ps":
        problems.append(f'baseProfile is {base_profile or "missing"!r}, not "tiny-ps"')
    if version != "1.2":
        problems.append(f'version is {version or "missing"!r}, not "1.2"')
    if "x" in root.attrib or "y" in root.attrib:
        problems.append("the svg element must not have x or y attributes")
    title_element = root.find(f"{SVG_NS}title")
    title = (title_element.text or "").strip() if title_element is not None else ""
    if not title:
        problems.append("a <title> element with the brand name is required")
    problems += _content_problems(root)
    if size > MAX_LOGO_BYTES:
        problems.append(f"the file is {size} bytes; keep logos under {MAX_LOGO_BYTES} bytes")
    return SvgLogo(size, True, base_profile, version, title, tuple(problems))


def _content_problems(root: ET.Element) -> list[str]:
    """Scripts, external references, animation and event handlers anywhere in the tree (each once)."""
    found: dict[str, str] = {}
    for element in root.iter():
        name = _local(str(element.tag))
        if name in _FORBIDDEN:
            found.setdefault(name, f"<{name}> is not allowed in SVG Tiny PS")
        for attribute, value in element.attrib.items():
            local = _local(attribute)
            if local.lower().startswith("on"):
                found.setdefault(f"@{local}", f"event handler attribute {local} is not allowed")
            if (attribute == XLINK_HREF or local == "href") and not value.startswith("#"):
                found.setdefault("href", f"external reference {value[:80]!r} is not allowed")
            if "url(" in value and re.search(r"url\(\s*['\"]?[^#\s'\")]", value):
                found.setdefault("url", "a url() to outside the file is not allowed")
    return list(found.values())


@dataclass(frozen=True)
class MarkCertificate:
    """The leaf of the PEM chain at ``a=``: enough to say what it is and when it is valid.

    The trust chain to a Mark Verifying Authority is not checked here.
    """

    subject: str = ""
    issuer: str = ""
    not_before: str = ""
    """ISO 8601, UTC."""
    not_after: str = ""
    names: tuple[str, ...] = ()
    bimi_usage: bool = False
    logotype: bool = False
    mark_type: str = ""
    chain_length: int = 0
    problems: tuple[str, ...] = ()

    @property
    def parsed(self) -> bool:
        return bool(self.not_after)

    @property
    def kind(self) -> str:
        """VMC, CMC, or "mark certificate" when the mark type does not tell."""
        if not self.mark_type:
            return "mark certificate"
        return "CMC" if self.mark_type.lower() in CMC_MARK_TYPES else "VMC"


def parse_mark_certificate(pem: str) -> MarkCertificate:
    try:
        chain = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return MarkCertificate(problems=("no PEM certificate could be read",))
    leaf = chain[0]
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    try:
        usages = leaf.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
        bimi_usage = isinstance(usages, x509.ExtendedKeyUsage) and BIMI_USAGE in usages
    except x509.ExtensionNotFound:
        bimi_usage = False
    logotype = any(ext.oid == LOGOTYPE for ext in leaf.extensions)
    marks = leaf.subject.get_attributes_for_oid(MARK_TYPE)
    problems = []
    if not bimi_usage:
        problems.append("the certificate lacks the BIMI extended key usage (1.3.6.1.5.5.7.3.31)")
    if not logotype:
        problems.append("the certificate embeds no logo (logotype extension 1.3.6.1.5.5.7.1.12)")
    return MarkCertificate(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc.astimezone(UTC).isoformat(),
        not_after=leaf.not_valid_after_utc.astimezone(UTC).isoformat(),
        names=tuple(name.lower() for name in names),
        bimi_usage=bimi_usage,
        logotype=logotype,
        mark_type=str(marks[0].value) if marks else "",
        chain_length=len(chain),
        problems=tuple(problems),
    )
