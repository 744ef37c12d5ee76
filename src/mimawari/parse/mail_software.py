"""Mail server software from what it says about itself, and the known issues of its versions.

``identify_smtp``, ``identify_imap`` and ``identify_pop3`` read an SMTP banner and EHLO keywords, an IMAP
greeting and capabilities, or a POP3 greeting and CAPA lines (RFC 2449 ``IMPLEMENTATION`` included), and
return the product and, where the text shows one, its version. Banners are whatever the operator made
them, so this is a best effort: an unknown banner gives None, never an error.

``KNOWN_ISSUES`` is a small bundled table of high-impact vulnerabilities in mail servers, each with the
first fixed version of every release branch; ``known_issues`` lists those a ``Software`` is exposed to.
Versions compare as integer tuples (``4.96.1`` > ``4.96`` > ``4.9``), never as strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from mimawari.model import Severity, Text

Version = tuple[int, ...]

_VERSION = r"v?(?P<version>\d+(?:\.\d+)+(?:p\d+)?)"
"""``4.96``, ``8.17.1``, ``v2.4.17``, ``6.6.2p1`` (OpenSMTPD's portable releases)."""
EXCHANGE = "Microsoft Exchange"
MICROSOFT_SMTP = "Microsoft ESMTP MAIL Service"


def _product(name: str) -> str:
    """A product name not glued to a host name: ``Postfix`` but not ``postfix.example.com``."""
    return rf"(?<![\w.-]){name}(?![\w-]|\.[A-Za-z0-9])"


@dataclass(frozen=True)
class Software:
    """A product name as this module spells it, its version when shown, and the text that showed it."""

    name: str
    version: str | None
    evidence_text: str

    @property
    def version_tuple(self) -> Version | None:
        return parse_version(self.version) if self.version else None

    def describe(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class Signature:
    name: str
    pattern: re.Pattern[str]


def _signature(name: str, pattern: str) -> Signature:
    return Signature(name, re.compile(pattern, re.IGNORECASE))


# Order matters where texts can name two products: a Zimbra greeting, a Postfix banner on Zimbra.
SIGNATURES = (
    _signature("Postfix", _product("Postfix") + rf"(?:[ /]{_VERSION})?"),
    _signature("Exim", _product("Exim") + rf"(?:\s+{_VERSION})?"),
    _signature("Sendmail", _product("Sendmail") + rf"(?:\s+{_VERSION})?"),
    _signature(EXCHANGE, _product("Microsoft Exchange") + rf"(?:.*?\bversion:?\s+{_VERSION})?"),
    _signature(MICROSOFT_SMTP, r"Microsoft ESMTP MAIL Service" + rf"(?:,\s*Version:\s*{_VERSION})?"),
    _signature("OpenSMTPD", _product("OpenSMTPD") + rf"(?:[ /]{_VERSION})?"),
    _signature("qmail", _product("(?:net)?qmail")),
    _signature("Zimbra", _product("Zimbra") + rf"(?:\s+{_VERSION})?"),
    _signature("Dovecot", _product("Dovecot") + rf"(?:[ /]{_VERSION})?"),
    _signature("Courier", _product("Courier(?:-IMAP|-POP3|-MTA)?") + rf"(?:\s+{_VERSION})?"),
    _signature("Courier", r"^\+OK Hello there\.?$"),  # Courier POP3's default greeting
    _signature("Cyrus", _product("Cyrus") + rf"(?:[\w ]*?\s{_VERSION})?"),
    _signature("hMailServer", _product("hMailServer") + rf"(?:\s+{_VERSION})?"),
    _signature("MDaemon", _product("MDaemon") + rf"(?:\s+(?:PRO\s+)?{_VERSION})?"),
    _signature("Haraka", _product("Haraka") + rf"(?:/{_VERSION})?"),
    _signature("Python smtpd", r"Python SMTP proxy version " + _VERSION),
    _signature("aiosmtpd", r"Python SMTP " + _VERSION),
    _signature("Kerio Connect", _product("Kerio Connect") + rf"(?:\s+{_VERSION})?"),
    _signature("IceWarp", _product("IceWarp") + rf"(?:\s+{_VERSION})?"),
    _signature(
        "CommuniGate Pro", _product("CommuniGate Pro") + rf"(?:\s+(?:SMTP|IMAP|POP3?))?(?:\s+{_VERSION})?"
    ),
    _signature("Axigen", _product("Axigen")),
    _signature("MailEnable", _product("MailEnable") + rf"(?:.*?Version:?\s*{_VERSION})?"),
    _signature("SmarterMail", _product("SmarterMail")),
    _signature("HCL Domino", r"(?:Lotus|IBM|HCL) Domino(?: Release " + _VERSION + ")?"),
    _signature("Google (gsmtp)", _product("gsmtp")),
)

CAPABILITY_MARKERS = (
    ("X-EXPS", EXCHANGE),
    ("XEXCH50", EXCHANGE),
    ("X-ANONYMOUSTLS", EXCHANGE),
    ("XRDST", EXCHANGE),
    ("X-LINK2STATE", EXCHANGE),
    ("XCOURIEROUTBOX", "Courier"),
)
"""Extension keywords only one product announces, for servers whose greeting names none."""


def parse_version(text: str) -> Version | None:
    """``"4.96.1"`` → ``(4, 96, 1)``; a portable suffix (``6.6.2p1``) is the same upstream version."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", text.strip())
    if match is None:
        return None
    return _normal(tuple(int(part) for part in match.group(1).split(".")))


def _normal(version: Version) -> Version:
    """Trailing zeros dropped, so ``8.18`` and ``8.18.0`` compare equal."""
    end = len(version)
    while end > 1 and version[end - 1] == 0:
        end -= 1
    return version[:end]


def _match(texts: Iterable[str]) -> Software | None:
    texts = [t for t in texts if t]
    for signature in SIGNATURES:
        for text in texts:
            found = signature.pattern.search(text)
            if found is not None:
                version = found.groupdict().get("version")
                return Software(signature.name, version, text.strip())
    return None


def _marked(capabilities: Sequence[str]) -> Software | None:
    for keyword, name in CAPABILITY_MARKERS:
        for capability in capabilities:
            if capability.upper().split(" ", 1)[0].startswith(keyword):
                return Software(name, None, capability)
    return None


def identify_smtp(banner: str, extensions: Sequence[str] = ()) -> Software | None:
    """From an SMTP greeting's text (after the code) and the EHLO keywords.

    The greeting starts with the server's domain (RFC 5321 §4.3.1), which is left out: a host called
    ``exim.example.net`` says nothing about the software. Exchange announces itself as the generic
    "Microsoft ESMTP MAIL Service" (whose Version is that of Windows' SMTP service, not of Exchange);
    its own EHLO keywords tell it apart.
    """
    _domain, _, text = banner.strip().partition(" ")
    found = _match([text])
    marked = _marked(extensions)
    if marked is not None and marked.name == EXCHANGE and (found is None or found.name == MICROSOFT_SMTP):
        return Software(EXCHANGE, None, found.evidence_text if found else marked.evidence_text)
    return found or marked


def identify_imap(greeting: str, capabilities: Sequence[str] = ()) -> Software | None:
    """From the IMAP greeting (``* OK [...] Dovecot ready.``) and the CAPABILITY list."""
    return _match([greeting, *capabilities]) or _marked(capabilities)


def identify_pop3(greeting: str, capabilities: Sequence[str] = ()) -> Software | None:
    """From the POP3 greeting and the CAPA lines; ``IMPLEMENTATION`` (RFC 2449 §6.9) often names it."""
    return _match([greeting, *capabilities]) or _marked(capabilities)


class IssueKind(StrEnum):
    GENERAL = "general"
    SMTP_SMUGGLING = "smtp-smuggling"
    """Graded by the SMTP smuggling check, which can also test it actively."""


class Exposure(StrEnum):
    NONE = "none"
    """The version is outside the affected range."""
    AFFECTED = "affected"
    """The version is in the affected range (for a setting-dependent issue: possibly exposed)."""
    NEEDS_SETTING = "needs-setting"
    """The version has the fix, but it is off by default: exposed unless it was turned on."""


@dataclass(frozen=True)
class KnownIssue:
    """One vulnerability (or a named group of them) in one product.

    ``fixed`` holds the first fixed version of each release branch (the first two version parts): a
    version in a listed branch is affected below that branch's fix; a version of an unlisted branch is
    affected when a newer branch needed a fix (it never got one), not when it is newer than them all.
    """

    software: str
    cves: tuple[str, ...]
    title: str
    summary: Text
    fixed: tuple[str, ...]
    severity: Severity
    source: str
    published: str
    """When the advisory was published (ISO date)."""
    kind: IssueKind = IssueKind.GENERAL
    introduced: str | None = None
    """The first affected version, when the flaw is younger than the product."""
    protected_by_default: str | None = None
    """From this version the protection is on by default; fixed versions below it need a setting."""
    config_dependent: bool = False
    """Exposure also depends on configuration, so a version match means "possibly exposed"."""
    mitigation: str = ""
    """A setting that closes the issue without upgrading (copyable), when there is one."""

    def exposure(self, version: Version) -> Exposure:
        version = _normal(version)
        if self.introduced is not None and version < _version(self.introduced):
            return Exposure.NONE
        fixes = [_version(f) for f in self.fixed]
        branch = version[:2]
        in_branch = [f for f in fixes if f[:2] == branch]
        # An unlisted branch older than a fixed one never got the fix; one newer than all of them has it.
        vulnerable = version < in_branch[0] if in_branch else any(f[:2] > branch for f in fixes)
        if vulnerable:
            return Exposure.AFFECTED
        if self.protected_by_default is not None and version < _version(self.protected_by_default):
            return Exposure.NEEDS_SETTING
        return Exposure.NONE

    def fixed_text(self) -> str:
        return ", ".join(self.fixed)

    def cve_text(self, limit: int | None = None) -> str:
        """The CVE ids, the first ``limit`` of them and a count when there are more."""
        if limit is None or len(self.cves) <= limit:
            return ", ".join(self.cves)
        return f"{', '.join(self.cves[:limit])} … ({len(self.cves)} CVEs)"


def _version(text: str) -> Version:
    parsed = parse_version(text)
    assert parsed is not None, f"bad version in the known-issues table: {text!r}"
    return parsed


def known_issues(software: Software) -> tuple[KnownIssue, ...]:
    """The issues of ``KNOWN_ISSUES`` the software's version is exposed to (none without a version)."""
    version = software.version_tuple
    if version is None:
        return ()
    return tuple(
        issue
        for issue in KNOWN_ISSUES
        if issue.software == software.name and issue.exposure(version) is not Exposure.NONE
    )


def issues_of(name: str, kind: IssueKind | None = None) -> tuple[KnownIssue, ...]:
    """Every table entry for a product, whatever its version (for "cannot tell without a version")."""
    return tuple(i for i in KNOWN_ISSUES if i.software == name and (kind is None or i.kind is kind))


_NAILS = (*(f"CVE-2020-{n}" for n in range(28007, 28027)), "CVE-2021-27216")

KNOWN_ISSUES: tuple[KnownIssue, ...] = (
    KnownIssue(
        "Postfix",
        ("CVE-2023-51764",),
        "SMTP smuggling",
        Text(
            "Accepts <LF>.<CR><LF> as the end of DATA, so a message sent through some other providers can "
            "smuggle a second, forged message that passes SPF for them.",
            "<LF>.<CR><LF> を DATA の終わりとして受け付けるため、一部の事業者経由で送られたメッセージに、"
            "その事業者の SPF に合格する偽のメッセージを紛れ込ませることができます。",
        ),
        ("3.8.4", "3.7.9", "3.6.13", "3.5.23"),
        Severity.MEDIUM,
        "https://www.postfix.org/smtp-smuggling.html",
        "2023-12-24",
        IssueKind.SMTP_SMUGGLING,
        protected_by_default="3.9",
        config_dependent=True,
        mitigation=(
            "# main.cf (Postfix 3.5.24, 3.6.14, 3.7.10, 3.8.5 or later; the default from 3.9)\n"
            "smtpd_forbid_bare_newline = normalize\n"
            "smtpd_forbid_bare_newline_exclusions = $mynetworks\n"
            "# older releases, until upgraded:\n"
            "smtpd_data_restrictions = reject_unauth_pipelining"
        ),
    ),
    KnownIssue(
        "Sendmail",
        ("CVE-2023-51765",),
        "SMTP smuggling",
        Text(
            "Accepts a bare <LF>.<CR><LF> as the end of DATA, so forged messages can be smuggled in.",
            "単独の <LF>.<CR><LF> を DATA の終わりとして受け付けるため、偽のメッセージを紛れ込ませることが"
            "できます。",
        ),
        ("8.18",),
        Severity.MEDIUM,
        "https://ftp.sendmail.org/RELEASE_NOTES",
        "2023-12-24",
        IssueKind.SMTP_SMUGGLING,
        config_dependent=True,
        mitigation=(
            "# Sendmail 8.18.1 and later do this by default; in patched 8.17 packages, with\n"
            "# FEATURE(`access_db'), add to /etc/mail/access (then rebuild it with makemap):\n"
            "Srv_Features:\to"
        ),
    ),
    KnownIssue(
        "Exim",
        ("CVE-2023-51766",),
        "SMTP smuggling",
        Text(
            "Accepts <LF>.<CR><LF> as the end of DATA (with PIPELINING or CHUNKING), so forged messages can "
            "be smuggled in.",
            "<LF>.<CR><LF> を DATA の終わりとして受け付けるため（PIPELINING・CHUNKING 使用時）、偽のメッセージを"
            "紛れ込ませることができます。",
        ),
        ("4.97.1",),
        Severity.MEDIUM,
        "https://www.exim.org/static/doc/security/CVE-2023-51766.txt",
        "2023-12-24",
        IssueKind.SMTP_SMUGGLING,
    ),
    KnownIssue(
        "Exim",
        ("CVE-2023-42115", "CVE-2023-42116", "CVE-2023-42114"),
        "AUTH out-of-bounds write (ZDI)",
        Text(
            "Out-of-bounds write in the EXTERNAL and SPA/NTLM authenticators: remote code execution without "
            "credentials when such an authenticator is configured.",
            "EXTERNAL および SPA/NTLM 認証の境界外書き込み: これらの認証方式が設定されている場合、認証なしで"
            "リモートからコードを実行されるおそれがあります。",
        ),
        ("4.96.1",),
        Severity.CRITICAL,
        "https://www.exim.org/static/doc/security/CVE-2023-zdi.txt",
        "2023-09-27",
        config_dependent=True,
    ),
    KnownIssue(
        "Exim",
        _NAILS,
        "21Nails",
        Text(
            '21 vulnerabilities (Qualys "21Nails"), several of them remote code execution without '
            "credentials and local privilege escalation to root.",
            "21 件の脆弱性（Qualys「21Nails」）。認証なしのリモートコード実行や root への権限昇格を含みます。",
        ),
        ("4.94.2",),
        Severity.CRITICAL,
        "https://www.qualys.com/2021/05/04/21nails/21nails.txt",
        "2021-05-04",
    ),
    KnownIssue(
        "Exim",
        ("CVE-2019-10149",),
        "Return of the WIZard",
        Text(
            "Remote command execution through a crafted recipient address; exploited in the wild.",
            "細工した宛先アドレスによりリモートからコマンドを実行されます。実際の攻撃に悪用されています。",
        ),
        ("4.92",),
        Severity.CRITICAL,
        "https://www.exim.org/static/doc/security/CVE-2019-10149.txt",
        "2019-06-05",
        introduced="4.87",
    ),
    KnownIssue(
        "OpenSMTPD",
        ("CVE-2020-7247",),
        "MAIL FROM command injection",
        Text(
            "Remote command execution as root through a crafted MAIL FROM address; exploited in the wild.",
            "細工した MAIL FROM アドレスにより root 権限でリモートからコマンドを実行されます。実際の攻撃に"
            "悪用されています。",
        ),
        ("6.6.2",),
        Severity.CRITICAL,
        "https://www.qualys.com/2020/01/28/cve-2020-7247/lpe-rce-opensmtpd.txt",
        "2020-01-28",
        introduced="6.4",
    ),
    KnownIssue(
        "Dovecot",
        ("CVE-2024-23184", "CVE-2024-23185"),
        "header parsing resource exhaustion",
        Text(
            "Messages with very many address headers or very large headers make Dovecot use excessive CPU "
            "and memory (denial of service).",
            "大量のアドレスヘッダや巨大なヘッダを持つメッセージにより、Dovecot が CPU とメモリを過剰に消費します"
            "（サービス妨害）。",
        ),
        ("2.3.21.1",),
        Severity.MEDIUM,
        "https://nvd.nist.gov/vuln/detail/CVE-2024-23184",
        "2024-08-14",
    ),
)
"""High-impact issues only; distributions often backport fixes without changing the version, so a match
means "this version, as released upstream, is affected"."""
