"""What the MTA-server checks share: references, the not-applicable and unknown verdicts, per-server folding.

Every MTA check grades each MX address on its own and takes the worst graded one. A server that did not
answer in time, or a fact its session never reached (a field left None), gives no verdict for that
server: the check grades the others and says which it could not see. When no server could be graded
the verdict is unknown — a timeout is never read as "missing" (DESIGN rule 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from mimawari.model import AfterFix, Evidence, Fix, Grade, Reference, Severity, Status, Text, Verdict
from mimawari.observations.mta import MtaObservation, MtaServer

RFC5321_GREETING = Reference("RFC 5321 §4.3.1", "https://www.rfc-editor.org/rfc/rfc5321#section-4.3.1")
RFC3207 = Reference("RFC 3207 (STARTTLS)", "https://www.rfc-editor.org/rfc/rfc3207")
RFC7672 = Reference("RFC 7672 §3 (DANE for SMTP)", "https://www.rfc-editor.org/rfc/rfc7672#section-3")
RFC8461_VALIDATION = Reference("RFC 8461 §4 (MTA-STS)", "https://www.rfc-editor.org/rfc/rfc8461#section-4")

GRADED = (Grade.A, Grade.B, Grade.C, Grade.D, Grade.E)

NO_MAIL = Text(
    "{domain} receives no mail (Null MX or no MX host), so there is no mail server to check.",
    "{domain} はメールを受信しない設定（Null MX または MX ホストなし）のため、チェック対象のメールサーバーが"
    "ありません。",
)
MX_UNKNOWN = Text(
    "Could not be determined: the MX lookup of {domain} ended in {outcome}, so the mail servers are not "
    "known. This is not a finding; scan again.",
    "判定できませんでした（{domain} の MX の問い合わせ結果: {outcome}）。メールサーバーが分からないため"
    "です。問題が見つかったという意味ではありません。再度スキャンしてください。",
)
NO_ADDRESS = Text(
    "No MX host of {domain} has an address to connect to ({hosts}); see the MX checks.",
    "{domain} の MX ホストには接続できるアドレスがありません（{hosts}）。MX のチェックを参照してください。",
)
ADDRESS_UNKNOWN = Text(
    "Could not be determined: the addresses of the MX hosts could not be looked up ({hosts}). This is not "
    "a finding; scan again.",
    "判定できませんでした（MX ホストのアドレスを問い合わせできませんでした: {hosts}）。問題が見つかったと"
    "いう意味ではありません。再度スキャンしてください。",
)
NO_ANSWER = Text(
    "Could not be determined: no mail server could be talked to ({servers}; the evidence says why: no "
    "answer within the timeout, refused, or out of scope). This is not a finding; scan again.",
    "判定できませんでした（通信できたメールサーバーがありません: {servers}。理由は根拠を参照: タイムアウト、"
    "接続拒否、スキャン対象範囲外）。問題が見つかったという意味ではありません。再度スキャンしてください。",
)
NOT_REACHED = Text(
    "Could not be determined: the sessions with {servers} ended before this could be seen. This is not a "
    "finding; scan again.",
    "判定できませんでした（{servers} とのセッションが、これを確認する前に終了しました）。問題が見つかったと"
    "いう意味ではありません。再度スキャンしてください。",
)

PARTLY = Text(
    "Not seen for {servers} (no answer in time, or the session ended first); those are not graded.",
    "{servers} については確認できませんでした（時間内に応答がないか、先にセッションが終了しました）。"
    "これらは評価に含めていません。",
)


def mta_not_graded(observation: MtaObservation) -> Verdict | None:
    """N/A for a domain without mail servers, unknown when they could not be found; else None."""
    evidence: tuple[Evidence, ...] = (observation.mx.mx_evidence(),)
    if observation.status is Status.NOT_APPLICABLE:
        return Verdict(Grade.NA, NO_MAIL.format(domain=observation.domain), evidence)
    if observation.status is not Status.PRESENT:
        summary = MX_UNKNOWN.format(domain=observation.domain, outcome=observation.mx.outcome)
        return Verdict(Grade.UNKNOWN, summary, evidence)
    if observation.servers:
        return None
    hosts = observation.mx.mail_hosts
    evidence += tuple(lookup.evidence() for host in hosts for lookup in host.lookups)
    names = ", ".join(observation.unresolved or tuple(h.exchange for h in hosts))
    if any(host.resolution in (Status.TIMEOUT, Status.ERROR) for host in hosts):
        return Verdict(Grade.UNKNOWN, ADDRESS_UNKNOWN.format(hosts=names), evidence)
    return Verdict(Grade.NA, NO_ADDRESS.format(domain=observation.domain, hosts=names), evidence)


def label(server: MtaServer) -> str:
    """``mx1.example.com 203.0.113.25:25`` (IPv6 in brackets), the same label as the TLS verdicts."""
    return server.endpoint.label


@dataclass(frozen=True)
class Judged:
    """One server's grade for one check (UNKNOWN: no verdict; NA: the check does not apply to it) and what
    was seen, verbatim where the server said it."""

    server: MtaServer
    grade: Grade
    seen: str

    @property
    def evidence(self) -> Evidence:
        return Evidence(label(self.server), self.seen)


Rule = Callable[[MtaServer], tuple[Grade, str]]


def judge(observation: MtaObservation, rule: Rule, *, unanswered: bool = False) -> list[Judged]:
    """Grade every server by ``rule``. Servers whose session did not talk (timeout, refused) give no
    verdict unless ``unanswered`` hands them to the rule as well."""
    judged = []
    for server in observation.servers:
        session = server.session
        if session.status is not Status.PRESENT and not unanswered:
            judged.append(Judged(server, Grade.UNKNOWN, session.describe()))
        else:
            grade, seen = rule(server)
            judged.append(Judged(server, grade, seen))
    return judged


def worst(judged: Iterable[Judged]) -> Grade:
    """The worst graded server; unknown when none could be graded but some were tried, else N/A."""
    grades = [j.grade for j in judged]
    ranked = [g for g in grades if g in GRADED]
    if ranked:
        return max(ranked, key=lambda g: g.rank or 0)
    return Grade.UNKNOWN if Grade.UNKNOWN in grades else Grade.NA


def servers(judged: Iterable[Judged], *grades: Grade) -> str:
    return ", ".join(label(j.server) for j in judged if not grades or j.grade in grades)


def undecided(judged: list[Judged], reason: Text = NOT_REACHED) -> Text:
    """Why nothing could be graded: no server talked, or (``reason``) the sessions that did talk did not
    show the fact; ``reason`` is formatted with the servers left without a verdict."""
    silent = [j for j in judged if j.server.session.status is not Status.PRESENT]
    if len(silent) == len(judged):
        return NO_ANSWER.format(servers="; ".join(f"{label(j.server)}: {j.seen}" for j in judged))
    return reason.format(servers=servers([j for j in judged if j.grade is Grade.UNKNOWN]))


@dataclass(frozen=True)
class Outcome:
    """The texts of one check: the summary per grade (formatted with ``servers``, the servers at that
    grade, and ``extra``), the fix for anything below A, what fixing it brings, severities that override
    the check's per grade, and why nothing could be graded when servers talked but showed nothing."""

    summaries: Mapping[Grade, Text]
    fix: Fix | None = None
    effect: Text | None = None
    severities: Mapping[Grade, Severity] | None = None
    unknown: Text = NOT_REACHED


def fold(judged: list[Judged], outcome: Outcome, **extra: object) -> Verdict:
    """The verdict over all servers: the worst grade, its summary, every server's evidence."""
    grade = worst(judged)
    evidence = tuple(j.evidence for j in judged)
    if grade is Grade.UNKNOWN:
        return Verdict(grade, undecided(judged, outcome.unknown), evidence)
    at_grade = servers(judged, grade) if grade in GRADED else servers(judged)
    summary = with_unseen(outcome.summaries[grade].format(servers=at_grade, **extra), judged)
    if grade in (Grade.A, Grade.NA) or outcome.fix is None or outcome.effect is None:
        return Verdict(grade, summary, evidence)
    severity = (outcome.severities or {}).get(grade)
    return Verdict(grade, summary, evidence, outcome.fix, AfterFix(Grade.A, outcome.effect), severity)


def with_unseen(summary: Text, judged: list[Judged]) -> Text:
    """The summary of a graded verdict, saying which servers it could not see."""
    unseen = servers(judged, Grade.UNKNOWN)
    if not unseen:
        return summary
    note = PARTLY.format(servers=unseen)
    return Text(f"{summary.en} {note.en}", summary.ja + note.ja)


def host_name(text: str) -> str | None:
    """A DNS host name as compared here (lower case, no trailing dot), or None for anything else: an
    address literal (``[192.0.2.1]``), a lone word, an empty string."""
    name = text.strip().rstrip(".").lower()
    labels = name.split(".")
    if len(labels) < 2 or not all(labels) or name.startswith("["):
        return None
    if all(part.isdigit() for part in labels):
        return None  # a bare IPv4 address is not a name
    return name if all(c.isalnum() or c in "-._" for c in name) else None
