"""email.mta.smtp_smuggling — can forged messages be smuggled past the servers' end-of-data handling?

SMTP smuggling (CVE-2023-51764 Postfix, CVE-2023-51765 Sendmail, CVE-2023-51766 Exim): a server that
ends DATA at a non-standard sequence such as ``<LF>.<CR><LF>`` splits one message from another provider
into two; the second is the attacker's, and passes SPF for that provider's domain.

With ``--intrusive`` and a recipient the user named, the probe sends three short test messages with
DATA, each ending first in one variant (``\\n.\\n``, ``\\n.\\r\\n``, ``\\r.\\r\\n``) and, when the server
waits for more, in the standard ``<CRLF>.<CRLF>``. Its result decides: any variant accepted as the end
of DATA: E (high); every variant waited out: A.

Without the active test the announced version is all there is: a version in an affected range (or with
the fix still off by default, Postfix before 3.9): C, "possibly exposed", since a setting may already
close it; a version outside every affected range: A, saying it was not tested actively. Without a
version (most banners) or for a product our table does not cover, nothing is known: unknown, never A —
the summary says to run with ``--intrusive``.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import Judged, Outcome, fold, judge, mta_not_graded
from mimawari.checks.email.mta.software import server_software
from mimawari.model import Category, Fix, Grade, Reference, Severity, Status, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer
from mimawari.parse.mail_software import KNOWN_ISSUES, Exposure, IssueKind, issues_of

POSTFIX_SMUGGLING = Reference("Postfix: SMTP smuggling", "https://www.postfix.org/smtp-smuggling.html")
RFC5321_DATA = Reference("RFC 5321 §4.1.1.4", "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4")

TITLE = Text("SMTP smuggling", "SMTP スマグリング")

NOT_EXPOSED = Text(
    "No server is known to be exposed to SMTP smuggling: {servers}. {how}",
    "SMTP スマグリングの影響を受けることが分かっているサーバーはありません: {servers}。{how_ja}",
)
HOW_TESTED = ("The active test (--intrusive) confirmed it.", "能動的なテスト（--intrusive）で確認済みです。")
HOW_VERSION = (
    "Judged by the announced versions only; run with --intrusive and a test recipient to test actively.",
    "表示されたバージョンだけによる判定です。能動的に確認するには --intrusive とテスト用の宛先を指定して"
    "実行してください。",
)
POSSIBLY = Text(
    "These servers announce versions possibly exposed to SMTP smuggling ({cves}): {servers}. Whether they "
    "are also depends on configuration; run with --intrusive and a test recipient to test actively.",
    "次のサーバーは SMTP スマグリングの影響を受ける可能性があるバージョンを表示しています（{cves}）: {servers}。"
    "実際に影響を受けるかは設定にもよります。能動的に確認するには --intrusive とテスト用の宛先を指定して"
    "実行してください。",
)
EXPOSED = Text(
    "These servers ended DATA at a non-standard sequence in the active test: {servers}. Attackers can "
    "smuggle forged messages into mail sent to this domain through other providers, passing SPF for "
    "those providers' domains.",
    "次のサーバーは能動的なテストで標準外のシーケンスを DATA の終わりとして扱いました: {servers}。攻撃者は"
    "他の事業者経由でこのドメインに送られるメールに偽のメッセージを紛れ込ませ、その事業者のドメインの SPF に"
    "合格させることができます。",
)
UNTESTED = Text(
    "Exposure to SMTP smuggling is not known for {servers}: no version to judge by, and not tested actively. "
    "Run with --intrusive and a test recipient to test (it sends three test messages with DATA).",
    "{servers} の SMTP スマグリングの影響は不明です（判断できるバージョンがなく、能動的なテストもしていません）。"
    "確認するには --intrusive とテスト用の宛先を指定して実行してください（DATA でテストメッセージを 3 通送信"
    "します）。",
)
FIX = Text(
    "Accept only <CRLF>.<CRLF> as the end of DATA: set (Postfix) or upgrade (Exim, Sendmail):",
    "<CRLF>.<CRLF> だけを DATA の終わりとして受け付けるようにしてください。設定（Postfix）またはアップグレード"
    "（Exim、Sendmail）で対応します:",
)
EFFECT = Text(
    "The servers end a message only at <CRLF>.<CRLF>; smuggled messages are no longer split off.",
    "サーバーは <CRLF>.<CRLF> でのみメッセージを終了し、紛れ込ませたメッセージが分離されなくなります。",
)


def _snippet() -> str:
    lines = []
    for issue in (i for i in KNOWN_ISSUES if i.kind is IssueKind.SMTP_SMUGGLING):
        lines.append(f"# {issue.software} ({issue.cve_text()}): fixed in {issue.fixed_text()}")
        if issue.mitigation:
            lines.append(issue.mitigation)
    return "\n".join(lines)


def _active(server: MtaServer) -> tuple[Grade, str] | None:
    """The verdict of the --intrusive probe, or None when it did not run to a conclusion."""
    probes = server.session.smuggling
    accepted = [p for p in probes if p.accepted]
    if accepted:
        return Grade.E, "; ".join(f"accepted {p.sequence} as the end of DATA ({p.detail})" for p in accepted)
    if probes and all(p.status is Status.PRESENT and p.accepted is False for p in probes):
        return Grade.A, "waited for <CRLF>.<CRLF> after " + ", ".join(p.sequence for p in probes)
    return None


def _by_version(server: MtaServer, note: str) -> tuple[Grade, str]:
    software = server_software(server)
    if software is None:
        return Grade.UNKNOWN, f"no software named{note}"
    version = software.version_tuple
    known = issues_of(software.name, IssueKind.SMTP_SMUGGLING)
    if version is None or not known:
        reason = "no version shown" if version is None else "not covered by the table"
        return Grade.UNKNOWN, f"{software.describe()}: {reason}{note}"
    exposed = [(i, i.exposure(version)) for i in known if i.exposure(version) is not Exposure.NONE]
    if not exposed:
        return Grade.A, f"{software.describe()}: outside the affected versions{note}"
    details = "; ".join(
        f"{i.cve_text()}: "
        + ("fixed version, but the fix is off by default" if e is Exposure.NEEDS_SETTING else "affected")
        for i, e in exposed
    )
    return Grade.C, f"{software.describe()}: {details}{note}"


def _judge(server: MtaServer) -> tuple[Grade, str]:
    if server.session.greeting is None:
        return Grade.UNKNOWN, f"no greeting ({server.session.describe()})"
    active = _active(server)
    if active is not None:
        return active
    probes = server.session.smuggling
    if probes:
        note = "; active test inconclusive: " + "; ".join(f"{p.sequence} {p.detail}" for p in probes)
    else:
        note = "; not tested actively"
    return _by_version(server, note)


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged: list[Judged] = judge(observation, _judge)
    tested = any(_active(j.server) for j in judged)
    how = (
        HOW_TESTED if tested and all(_active(j.server) for j in judged if j.grade is Grade.A) else HOW_VERSION
    )
    cves = sorted(
        {
            issue.cve_text()
            for j in judged
            if j.grade is Grade.C and (software := server_software(j.server)) is not None
            for issue in issues_of(software.name, IssueKind.SMTP_SMUGGLING)
        }
    )
    summaries = {Grade.A: NOT_EXPOSED, Grade.C: POSSIBLY, Grade.E: EXPOSED}
    severities = {Grade.C: Severity.MEDIUM, Grade.E: Severity.HIGH}
    outcome = Outcome(summaries, Fix(FIX, _snippet()), EFFECT, severities, unknown=UNTESTED)
    return fold(judged, outcome, how=how[0], how_ja=how[1], cves=", ".join(cves))


CHECK = Check(
    id="email.mta.smtp_smuggling",
    category=Category.EMAIL_MTA,
    severity=Severity.HIGH,
    title=TITLE,
    references=(POSTFIX_SMUGGLING, RFC5321_DATA),
    observer=MTA,
    evaluate=evaluate,
)
