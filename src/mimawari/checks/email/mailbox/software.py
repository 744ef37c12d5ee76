"""email.mailbox.software — which software do the mailbox and submission servers run, and is it patched?

The product and version come from what each server says of itself: the greeting (``* OK Dovecot
ready.``, ``220 mail.example.com ESMTP Exim 4.96``) and the capabilities (POP3 ``IMPLEMENTATION``,
Exchange's EHLO keywords), read by ``parse.mail_software``. The version is matched against the bundled
table of known vulnerabilities (``parse.mail_software_issues``: CVE ids, the first fixed version of each
release branch, source and date per entry):

* a version in the affected range of a critical issue that does not depend on configuration: E;
* of any other issue: D (for a configuration-dependent one: possibly exposed);
* a version that has the fix but leaves it off by default (Postfix's SMTP smuggling setting): C;
* a version disclosed without a known issue: B — it tells an attacker which exploits to try;
* no version disclosed (the product's name alone is harmless): A.

A version that is hidden cannot be matched, so A means "nothing disclosed", not "patched".
"""

from __future__ import annotations

from dataclasses import replace

from mimawari.check import Check
from mimawari.checks.email.mailbox.base import not_graded, undecided
from mimawari.model import AfterFix, Category, Evidence, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mailbox import MAILBOX, MailboxObservation, MailboxService, Reach
from mimawari.parse.mail_software import (
    Exposure,
    KnownIssue,
    Software,
    identify_imap,
    identify_pop3,
    identify_smtp,
    known_issues,
)
from mimawari.probes import MailProtocol

TITLE = Text("Mailbox server software and version", "メールボックスサーバーのソフトウェアとバージョン")
CVE = Reference("CVE list (cve.org)", "https://www.cve.org/")

QUIET = Text(
    "The servers disclose no software version ({software}).",
    "サーバーはソフトウェアのバージョンを公開していません（{software}）。",
)
DISCLOSED = Text(
    "The servers disclose their software version ({software}): it tells an attacker which exploits to try.",
    "サーバーがソフトウェアのバージョンを公開しています（{software}）。攻撃者に試すべき攻撃手法を教えることに"
    "なります。",
)
VULNERABLE = Text(
    "{software} has known vulnerabilities: {issues}.",
    "{software} には既知の脆弱性があります: {issues}。",
)
NEEDS_SETTING = Text(
    "{software} has the fix for {issues}, but it is off by default: exposed unless it was turned on.",
    "{software} には {issues} の修正が含まれていますが既定では無効です。有効にしていなければ影響を受けます。",
)
FIX_UPGRADE = Text(
    "Upgrade to a fixed version ({fixed}) and hide the version from the greeting:",
    "修正済みのバージョン（{fixed}）に更新し、グリーティングからバージョンを削除してください:",
)
FIX_SETTING = Text(
    "Turn the protection on, and hide the version from the greeting:",
    "保護機能を有効にし、グリーティングからバージョンを削除してください:",
)
FIX_HIDE = Text(
    "Hide the version from the greeting (banner):",
    "グリーティング（バナー）からバージョンを削除してください:",
)
EFFECT = Text(
    "No known vulnerability is exposed, and the greeting no longer tells attackers what to try.",
    "既知の脆弱性がなくなり、グリーティングから攻撃の手がかりが得られなくなります。",
)
HIDE_VERSION = {
    "Dovecot": "# Dovecot (dovecot.conf)\nlogin_greeting = Dovecot ready.",
    "Exim": "# Exim (main configuration)\nsmtp_banner = $smtp_active_hostname ESMTP $tod_full",
    "Postfix": "# Postfix (main.cf)\nsmtpd_banner = $myhostname ESMTP",
    "Sendmail": "dnl Sendmail (sendmail.mc)\ndefine(`confSMTP_LOGIN_MSG', `$j ESMTP')dnl",
    "Cyrus": "# Cyrus (imapd.conf)\nserverinfo: off",
    "Zimbra": "# Zimbra\nzmprov mcf zimbraReverseProxyImapExposeVersionOnBanner FALSE "
    "zimbraReverseProxyPop3ExposeVersionOnBanner FALSE",
    "Microsoft Exchange": '# Exchange Management Shell\nSet-ReceiveConnector -Identity "<connector>" '
    '-Banner "220 mail.example.com ESMTP"',
}
GENERIC_HIDE = "# Set the server's greeting (banner) to a text that names no version."


def identified(service: MailboxService) -> Software | None:
    session = service.session
    greeting = session.greeting.text if session.greeting is not None else ""
    capabilities = (*session.capabilities, *session.capabilities_tls)
    protocol = service.service.protocol
    if protocol is MailProtocol.IMAP:
        return identify_imap(greeting, capabilities)
    if protocol is MailProtocol.POP3:
        return identify_pop3(greeting, capabilities)
    return identify_smtp(greeting, capabilities)


def issue_grade(issue: KnownIssue, exposure: Exposure) -> Grade:
    if exposure is Exposure.NEEDS_SETTING:
        return Grade.C
    critical = issue.severity is Severity.CRITICAL and not issue.config_dependent
    return Grade.E if critical else Grade.D


def exposures(software: Software) -> list[tuple[KnownIssue, Exposure]]:
    version = software.version_tuple
    if version is None:
        return []
    return [(issue, issue.exposure(version)) for issue in known_issues(software)]


def _worst(grades: list[Grade]) -> Grade:
    return max(grades, key=lambda g: g.rank or 0)


def _verdict(observation: MailboxObservation, found: list[tuple[MailboxService, Software | None]]) -> Verdict:
    evidence = [
        s.evidence(
            f"{sw.describe()} (from {sw.evidence_text!r})"
            if sw
            else f"not identified: {s.session.describe()}"
        )
        for s, sw in found
    ]
    products = list(dict.fromkeys(sw for _s, sw in found if sw is not None))
    named = ", ".join(sw.describe() for sw in products) or "software not identified"
    issues = [(sw, issue, exposure) for sw in products for issue, exposure in exposures(sw)]
    evidence += [
        Evidence(
            f"{sw.describe()}: {issue.cve_text()}",
            f"{issue.title}; fixed in {issue.fixed_text()} "
            f"({exposure.value}; {issue.source}, {issue.published})",
        )
        for sw, issue, exposure in issues
    ]
    disclosed = [sw for sw in products if sw.version]
    if not disclosed:
        return undecided(observation, evidence) or Verdict(
            Grade.A, QUIET.format(software=named), tuple(evidence)
        )
    hidden = [(s, replace(sw, version=None) if sw else None) for s, sw in found]
    after = AfterFix(_verdict(observation, hidden).grade, EFFECT)
    snippet = _snippet(disclosed, [issue for _sw, issue, _e in issues])
    if not issues:
        summary = DISCLOSED.format(software=", ".join(sw.describe() for sw in disclosed))
        return Verdict(Grade.B, summary, tuple(evidence), Fix(FIX_HIDE, snippet), after)
    grade = _worst([issue_grade(issue, exposure) for _sw, issue, exposure in issues])
    affected = [(sw, issue) for sw, issue, exposure in issues if exposure is Exposure.AFFECTED]
    chosen = affected or [(sw, issue) for sw, issue, _e in issues]
    software = ", ".join(dict.fromkeys(sw.describe() for sw, _i in chosen))
    cves = ", ".join(dict.fromkeys(f"{issue.cve_text()} ({issue.title})" for _sw, issue in chosen))
    fixed = ", ".join(dict.fromkeys(f"{issue.software} {issue.fixed_text()}" for _sw, issue in chosen))
    if affected:
        summary, fix = (
            VULNERABLE.format(software=software, issues=cves),
            Fix(FIX_UPGRADE.format(fixed=fixed), snippet),
        )
    else:
        summary, fix = NEEDS_SETTING.format(software=software, issues=cves), Fix(FIX_SETTING, snippet)
    severity = Severity.CRITICAL if grade is Grade.E else Severity.HIGH if grade is Grade.D else None
    return Verdict(grade, summary, tuple(evidence), fix, after, severity)


def _snippet(disclosed: list[Software], issues: list[KnownIssue]) -> str:
    mitigations = [issue.mitigation for issue in dict.fromkeys(issues) if issue.mitigation]
    hide = [HIDE_VERSION.get(sw.name, GENERIC_HIDE) for sw in disclosed]
    return "\n\n".join(dict.fromkeys([*mitigations, *hide]))


def evaluate(observation: MailboxObservation) -> Verdict:
    failed = not_graded(observation)
    if failed is not None:
        return failed
    found = [(s, identified(s)) for s in observation.services if s.reach is Reach.ANSWERED]
    return _verdict(observation, found)


CHECK = Check(
    id="email.mailbox.software",
    category=Category.EMAIL_MAILBOX,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(CVE,),
    observer=MAILBOX,
    evaluate=evaluate,
)
