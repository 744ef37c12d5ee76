"""email.mta.banner_ptr — does the name in the 220 banner match the reverse DNS of the address?

RFC 5321 §4.3.1 has the greeting start with the server's own name. Receivers compare the name a server
gives (in its banner and, when it sends, in EHLO) with the forward-confirmed PTR name of its address
(RFC 8601 §3 "iprev"), and some penalise a mismatch: the banner name should be a PTR name of the
address that resolves back to it. Matching a confirmed PTR name: A (the MX host name is shown for
reference; it may differ). A banner that names no host: B. A name other than the PTR names, or a PTR
name that does not lead back: C. No PTR record at all: D. Only public addresses have reverse data to
compare; others are left out.
"""

from __future__ import annotations

from mimawari.check import Check
from mimawari.checks.email.mta.base import RFC5321_GREETING, Outcome, fold, host_name, judge, mta_not_graded
from mimawari.model import Category, Fix, Grade, Reference, Severity, Status, Text, Verdict
from mimawari.observations.mta import MTA, MtaObservation, MtaServer

RFC8601_IPREV = Reference("RFC 8601 §3 (iprev)", "https://www.rfc-editor.org/rfc/rfc8601#section-3")

TITLE = Text("Banner host name and reverse DNS", "バナーのホスト名と逆引き DNS")

CONSISTENT = Text(
    "The banner of every server names a forward-confirmed PTR name of its address: {servers}.",
    "すべてのサーバーのバナーが、そのアドレスの正引き確認済み PTR 名を示しています: {servers}。",
)
NAMELESS = Text(
    "The banners of these servers name no host, so they cannot be matched with reverse DNS: {servers}.",
    "次のサーバーのバナーはホスト名を示していないため、逆引き DNS と照合できません: {servers}。",
)
MISMATCH = Text(
    "The banner names of these servers differ from the (forward-confirmed) PTR names of their addresses: "
    "{servers}. Some receivers score such servers as suspicious.",
    "次のサーバーのバナー名が、アドレスの（正引き確認済み）PTR 名と一致しません: {servers}。一部の受信側は"
    "このようなサーバーを不審と判定します。",
)
NO_PTR = Text(
    "The addresses of these servers have no PTR record: {servers}. Many receivers distrust mail from "
    "addresses without reverse DNS.",
    "次のサーバーのアドレスには PTR レコードがありません: {servers}。逆引きできないアドレスからのメールを"
    "信用しない受信側が多くあります。",
)
NOT_APPLICABLE = Text(
    "No server has a public address with reverse DNS to compare ({servers}).",
    "逆引き DNS と照合できる公開アドレスを持つサーバーがありません（{servers}）。",
)
FIX = Text(
    "Make the banner name, the PTR record and its A/AAAA record agree: set the server's own name to the "
    "PTR name, or have the address's provider point the PTR at the name the banner shows:",
    "バナー名、PTR レコード、その A/AAAA レコードを一致させてください。サーバー自身の名前を PTR 名に合わせるか、"
    "アドレスの提供者に依頼して PTR をバナーの名前に向けてください:",
)
SNIPPET = """# /etc/postfix/main.cf (the banner is $myhostname ESMTP ...)
myhostname = {name}
# Exim: primary_hostname = {name}
# Exchange: Set-ReceiveConnector "<connector>" -Fqdn {name}
# or, at the address's provider (the name must resolve back to the address):
{pointer}. IN PTR {name}."""
EFFECT = Text(
    "The server's name, its banner and the reverse DNS of its address agree, as receivers expect.",
    "サーバー名、バナー、アドレスの逆引き DNS が一致し、受信側の期待どおりになります。",
)


def banner_name(server: MtaServer) -> str | None:
    """The first word of the greeting, when it is a host name (RFC 5321 §4.3.1)."""
    greeting = server.session.greeting
    if greeting is None or not greeting.lines:
        return None
    return host_name(greeting.lines[0].split(" ", 1)[0])


def _judge(server: MtaServer) -> tuple[Grade, str]:
    reverse, greeting = server.reverse, server.session.greeting
    if reverse is None:
        return Grade.NA, "no reverse DNS data (not a public address)"
    if greeting is None:
        return Grade.UNKNOWN, f"no greeting ({server.session.describe()})"
    name = banner_name(server)
    ptr = " / ".join(reverse.names) or reverse.outcome
    seen = f"banner {greeting.describe()!r}; PTR {ptr}; MX host {server.host}"
    if reverse.status is Status.ABSENT:
        return Grade.D, seen
    confirmation = reverse.confirmation
    if reverse.status is not Status.PRESENT or confirmation in (Status.TIMEOUT, Status.ERROR):
        return Grade.UNKNOWN, f"{seen} ({reverse.detail or 'reverse lookup failed'})"
    if name is None:
        return Grade.B, seen
    if name in reverse.confirmed_names:
        return Grade.A, seen
    if name in reverse.names:
        return Grade.C, f"{seen} (the PTR name does not resolve back to {server.address})"
    return Grade.C, seen


def evaluate(observation: MtaObservation) -> Verdict:
    early = mta_not_graded(observation)
    if early is not None:
        return early
    judged = judge(observation, _judge)
    failing = next((j.server for j in judged if j.grade in (Grade.B, Grade.C, Grade.D)), None)
    snippet = ""
    if failing is not None and failing.reverse is not None:
        confirmed = failing.reverse.confirmed_names
        name = confirmed[0] if confirmed else banner_name(failing) or failing.host
        snippet = SNIPPET.format(name=name, pointer=failing.reverse.reverse_name)
    summaries = {
        Grade.A: CONSISTENT,
        Grade.B: NAMELESS,
        Grade.C: MISMATCH,
        Grade.D: NO_PTR,
        Grade.NA: NOT_APPLICABLE,
    }
    return fold(judged, Outcome(summaries, Fix(FIX, snippet or None), EFFECT))


CHECK = Check(
    id="email.mta.banner_ptr",
    category=Category.EMAIL_MTA,
    severity=Severity.LOW,
    title=TITLE,
    references=(RFC5321_GREETING, RFC8601_IPREV),
    observer=MTA,
    evaluate=evaluate,
)
