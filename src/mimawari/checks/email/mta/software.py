"""email.mta.software — what software the servers announce, and whether that version has known issues.

The software is read from the 220 banner and the EHLO keywords (``parse.mail_software``). A banner
that shows no version, or names no product: A (the product name alone helps an attacker little, and
hosted services always show one). A version on display: B — it tells attackers which exploits to try.
A version with known issues in the bundled table: D, E when one of them is a critical remote flaw that
does not depend on configuration. SMTP smuggling is graded by email.mta.smtp_smuggling, not here.
Distributions often backport fixes without changing the version, so a match says "this version, as
released upstream, is affected": the text says so.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Judged, Outcome, fold, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer
from mimawari.parse.mail_software import (
    Exposure,
    IssueKind,
    KnownIssue,
    Software,
    identify_smtp,
    known_issues,
)

BANNER_DOC = Reference("Postfix smtpd_banner", "https://www.postfix.org/postconf.5.html#smtpd_banner")

TITLE = Text("Mail server software and known vulnerabilities", "メールサーバーのソフトウェアと既知の脆弱性")

QUIET = Text(
    "No server shows a software version in its banner: {servers}.",
    "ソフトウェアのバージョンをバナーに表示しているサーバーはありません: {servers}。",
)
VERSION_SHOWN = Text(
    "These servers show their software version ({software}): {servers}. No known issue in our table "
    "affects it, but the version tells attackers which exploits to try.",
    "次のサーバーはソフトウェアのバージョン（{software}）を表示しています: {servers}。当方の一覧に該当する"
    "既知の問題はありませんが、攻撃者に試すべき攻撃手法を教えることになります。",
)
VULNERABLE = Text(
    "These servers announce a version with known vulnerabilities ({issues}): {servers}. Distributions "
    "sometimes backport fixes without changing the version; if yours did not, upgrade.",
    "次のサーバーは既知の脆弱性（{issues}）があるバージョンを表示しています: {servers}。ディストリビューションが"
    "バージョンを変えずに修正を取り込んでいる場合もあります。そうでなければアップグレードしてください。",
)
FIX = Text(
    "Upgrade to a fixed release ({fixed}), and keep the version out of the banner:",
    "修正済みのリリース（{fixed}）にアップグレードし、バナーからバージョンを外してください:",
)
FIX_BANNER = Text(
    "Keep the version out of the banner (Postfix shown; others below):",
    "バナーからバージョンを外してください（Postfix の例。その他も記載）:",
)
SNIPPET = """# /etc/postfix/main.cf
smtpd_banner = $myhostname ESMTP
# Exim (main section):  smtp_banner = $smtp_active_hostname ESMTP
# Sendmail (sendmail.mc):  define(`confSMTP_LOGIN_MSG', `$j')dnl
# Exchange:  Set-ReceiveConnector "<connector>" -Banner '220 <host name>'"""
EFFECT = Text(
    "The servers run a release without the known issues and no longer advertise their version.",
    "サーバーが既知の問題のないリリースで動作し、バージョンを公表しなくなります。",
)
EFFECT_BANNER = Text(
    "The banner no longer tells attackers which version to target.",
    "バナーから攻撃者が狙うべきバージョンが分からなくなります。",
)


def server_software(server: MtaServer) -> Software | None:
    session = server.session
    banner = " ".join(session.greeting.lines) if session.greeting else ""
    return identify_smtp(banner, (*session.capabilities, *session.capabilities_tls))


def issues(server: MtaServer) -> tuple[KnownIssue, ...]:
    software = server_software(server)
    found = known_issues(software) if software is not None else ()
    return tuple(issue for issue in found if issue.kind is IssueKind.GENERAL)


def _critical(issue: KnownIssue, software: Software) -> bool:
    version = software.version_tuple
    return (
        issue.severity is Severity.CRITICAL
        and not issue.config_dependent
        and version is not None
        and issue.exposure(version) is Exposure.AFFECTED
    )


def _judge(server: MtaServer) -> tuple[Grade, str]:
    if server.session.greeting is None:
        return Grade.UNKNOWN, f"no greeting ({server.session.describe()})"
    software = server_software(server)
    if software is None:
        return Grade.A, "no software named"
    seen = f"{software.describe()} (from {software.evidence_text!r})"
    if software.version is None:
        return Grade.A, seen
    found = issues(server)
    if not found:
        return Grade.B, seen
    listed = "; ".join(f"{i.title}: {i.cve_text()}, fixed in {i.fixed_text()}" for i in found)
    grade = Grade.E if any(_critical(i, software) for i in found) else Grade.D
    return grade, f"{seen}: {listed}"


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged: list[Judged] = judge(observation, _judge)
    affected = {i.title: i for j in judged for i in issues(j.server)}
    shown = {s.describe() for j in judged if (s := server_software(j.server)) and s.version}
    if affected:
        fixed = "; ".join(f"{i.software} {i.fixed_text()}" for i in affected.values())
        fix, effect = Fix(FIX.format(fixed=fixed), SNIPPET), EFFECT
    else:
        fix, effect = Fix(FIX_BANNER, SNIPPET), EFFECT_BANNER
    summaries = {Grade.A: QUIET, Grade.B: VERSION_SHOWN, Grade.D: VULNERABLE, Grade.E: VULNERABLE}
    severities = {Grade.B: Severity.LOW, Grade.D: Severity.HIGH, Grade.E: Severity.CRITICAL}
    issue_text = "; ".join(f"{i.title} {i.cve_text(limit=3)}" for i in affected.values())
    return fold(
        judged,
        Outcome(summaries, fix, effect, severities),
        software=", ".join(sorted(shown)),
        issues=issue_text,
    )


CHECK = Check(
    id="email.mta.software",
    category=Category.EMAIL_MTA,
    severity=Severity.MEDIUM,
    title=TITLE,
    references=(BANNER_DOC,),
    observer=MTA,
    evaluate=evaluate,
)
