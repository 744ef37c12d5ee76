"""The sender-requirement matrix: each requirement of ``requirements`` judged on what the scan saw.

A requirement's test gives one ``Result`` for the domain — pass, fail, or *why it cannot tell*: a sample
message is needed (alignment, reverse DNS of the sending IP, format, unsubscribe headers are properties of
mail, not of DNS), spam-rate data is needed, or a lookup failed (unknown, never "fail"). The matrix then
shows that result in every column the requirement applies to, with the column's level (required or
recommended), so nothing is guessed and nothing is shown twice with different answers.

The tests are pure functions of a ``SenderPosture`` (``observations.sender_posture``); the DNS-only ones
are here, the ones that read the sample message in ``matrix_message``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from mimawari.checks.email.dns.spf.common import zone_line
from mimawari.checks.email.dns.spf.present import starter_record
from mimawari.deliverability.grading import assess, percent
from mimawari.deliverability.requirements import Column, Level, Requirement, RequirementSet
from mimawari.model import Evidence, Fix, Grade, Status, Text
from mimawari.observations.dkim import DkimObservation
from mimawari.observations.dmarc import DmarcObservation
from mimawari.observations.sender_posture import SenderPosture
from mimawari.observations.spf import SpfNodeStatus, SpfObservation

MIN_DKIM_BITS = 1024


class State(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NEEDS_MESSAGE = "needs-message"
    """Only a message the domain sent can settle it (``--message``)."""
    NEEDS_SPAM_DATA = "needs-spam-data"
    """Only the providers' complaint figures can settle it (``mimawari deliverability import``)."""
    UNKNOWN = "unknown"
    """A lookup it depends on failed: neither pass nor fail."""

    @property
    def decided(self) -> bool:
        return self in (State.PASS, State.FAIL)


STATE_LABELS: Mapping[State, Text] = {
    State.PASS: Text("pass", "適合"),
    State.FAIL: Text("FAIL", "不適合"),
    State.NEEDS_MESSAGE: Text("needs a sample message", "サンプルメッセージが必要"),
    State.NEEDS_SPAM_DATA: Text("needs spam-rate data", "迷惑メール率データが必要"),
    State.UNKNOWN: Text("unknown (lookup failed)", "不明（照会失敗）"),
}


@dataclass(frozen=True)
class Result:
    state: State
    summary: Text
    evidence: tuple[Evidence, ...] = ()
    fix: Fix | None = None
    """For a FAIL: what to do, with the record or setting to copy."""


@dataclass(frozen=True)
class Row:
    requirement: Requirement
    result: Result

    def cell(self, column: Column) -> tuple[Level, State] | None:
        """The level and state shown in ``column``; None where the requirement does not apply."""
        level = self.requirement.level(column)
        return None if level is None else (level, self.result.state)


@dataclass(frozen=True)
class Matrix:
    domain: str
    requirements: RequirementSet
    rows: tuple[Row, ...]

    def failing(self, level: Level = Level.REQUIRED) -> tuple[tuple[Row, tuple[Column, ...]], ...]:
        """The rows that fail, with the columns where they are at ``level``."""
        failed = []
        for row in self.rows:
            if row.result.state is State.FAIL:
                columns = tuple(c for c in self.requirements.columns if row.requirement.level(c) is level)
                if columns:
                    failed.append((row, columns))
        return tuple(failed)

    def column_state(self, column: Column) -> State:
        """The column as a whole over its required rows: FAIL if one fails, else PASS if all pass, else
        the first reason one cannot tell (unknown before needs-message before needs-spam-data)."""
        states = [row.result.state for row in self.rows if row.requirement.level(column) is Level.REQUIRED]
        for state in (State.FAIL, State.UNKNOWN, State.NEEDS_MESSAGE, State.NEEDS_SPAM_DATA):
            if state in states:
                return state
        return State.PASS


Test = Callable[[SenderPosture], Result]


PUBLISH_SPF = Text(
    "Publish an SPF record listing the servers that send the domain's mail (the MX hosts here; add an "
    "include: for each service that sends for you).",
    "ドメインのメールを送るサーバーを列挙した SPF レコードを公開してください（ここでは MX ホスト。代わりに"
    "送信するサービスごとに include: を追加）。",
)
MEND_SPF = Text(
    "Make the SPF record evaluate: one record, valid syntax, at most 10 DNS-querying terms and 2 void "
    "lookups (see the email.spf checks for the record to publish).",
    "SPF レコードが評価できるようにしてください: レコードは 1 つ、構文が正しく、DNS を照会する項目は 10 個以内、"
    "空の照会は 2 回以内（公開するレコードは email.spf のチェックを参照）。",
)
PUBLISH_DMARC = Text(
    "Publish a DMARC record; p=none is enough for the providers' rules, and its reports (rua) show who "
    "sends as the domain before you tighten it.",
    "DMARC レコードを公開してください。各社の要件には p=none で足り、レポート（rua）で強化前に誰がドメインを"
    "名乗って送信しているか分かります。",
)
MEND_DMARC = Text(
    "Keep exactly one DMARC record with a valid p= tag (see the email.dmarc checks for the record).",
    "有効な p= タグを持つ DMARC レコードを 1 つだけにしてください（レコードは email.dmarc のチェックを参照）。",
)
LONGER_KEY = Text(
    "Generate a 2048-bit RSA key, publish it at a new selector, switch signing to it, then revoke the old "
    "selector (p= empty).",
    "2048 ビットの RSA 鍵を生成して新しいセレクタに公開し、署名をその鍵に切り替えてから、古いセレクタを失効"
    "（p= を空に）させてください。",
)


def starter_dmarc(org_domain: str) -> str:
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{org_domain}"


def _failed_answer(status: Status) -> bool:
    return status in (Status.TIMEOUT, Status.ERROR)


def spf_record(spf: SpfObservation) -> Result:
    """The domain publishes one SPF record that evaluates without a permerror."""
    where = f"{spf.domain} TXT"
    if _failed_answer(spf.status):
        return Result(State.UNKNOWN, Text("The SPF lookup failed.", "SPF の照会に失敗しました。"))
    if not spf.records:
        record, _ = starter_record(spf)
        return Result(
            State.FAIL,
            Text("The domain publishes no SPF record.", "ドメインは SPF レコードを公開していません。"),
            (Evidence(where, "no v=spf1 record"),),
            Fix(PUBLISH_SPF, zone_line(spf.domain, record)),
        )
    evidence = tuple(Evidence(where, record) for record in spf.records)
    root = spf.tree[0] if spf.tree else None
    problem = None
    if len(spf.records) > 1:
        problem = "more than one SPF record (permerror)"
    elif root is not None and root.status is SpfNodeStatus.INVALID:
        problem = f"the record is invalid (permerror): {'; '.join(root.problems)}"
    elif spf.include_loop:
        problem = "an include loop (permerror)"
    elif spf.lookup_count > 10:
        problem = f"{spf.lookup_count} DNS-querying terms, over the limit of 10 (permerror)"
    elif spf.void_lookup_count > 2:
        problem = f"{spf.void_lookup_count} void lookups, over the limit of 2 (permerror)"
    if problem:
        return Result(
            State.FAIL,
            Text(f"SPF fails: {problem}.", f"SPF は失敗します: {problem}。"),
            evidence,
            Fix(MEND_SPF),
        )
    if not spf.complete:
        return Result(
            State.UNKNOWN,
            Text("A lookup in the SPF tree failed.", "SPF ツリー内の照会に失敗しました。"),
            evidence,
        )
    return Result(
        State.PASS,
        Text("One valid SPF record is published.", "有効な SPF レコードが 1 つ公開されています。"),
        evidence,
    )


def dkim_keys(dkim: DkimObservation) -> Result:
    """A usable DKIM key is published at a selector found; none found is no proof there is none."""
    usable = [(lookup, key) for lookup, key in dkim.keys if key.usable]
    if usable:
        evidence = tuple(Evidence(lookup.name, key.text) for lookup, key in usable[:3])
        selectors = ", ".join(lookup.selector for lookup, _ in usable[:3])
        return Result(
            State.PASS,
            Text(
                f"A DKIM key is published (selector {selectors}); whether mail is signed with it needs a "
                "sample message.",
                f"DKIM 鍵が公開されています（セレクタ {selectors}）。実際に署名されているかの確認には"
                "サンプルメッセージが必要です。",
            ),
            evidence,
        )
    if dkim.failed:
        return Result(State.UNKNOWN, Text("A DKIM key lookup failed.", "DKIM 鍵の照会に失敗しました。"))
    return Result(
        State.NEEDS_MESSAGE,
        Text(
            f"No DKIM key found at the {len(dkim.tried)} selectors tried; selectors cannot be listed from "
            "outside, so only a signed message can show which one is used.",
            f"試した {len(dkim.tried)} 個のセレクタに DKIM 鍵はありません。セレクタは外部から列挙できないため、"
            "使われているセレクタは署名済みメッセージでのみ確認できます。",
        ),
    )


def dkim_key_bits(dkim: DkimObservation) -> Result:
    """Every published RSA key found is at least 1024 bits (Ed25519 keys are 256 bits by design)."""
    keys = [(lookup, key) for lookup, key in dkim.keys if key.usable and key.key is not None]
    if not keys:
        return (
            dkim_keys(dkim)
            if dkim.failed
            else Result(
                State.NEEDS_MESSAGE,
                Text(
                    "No DKIM key was found to measure; a signed sample message shows the key in use.",
                    "長さを測る DKIM 鍵が見つかりません。署名済みサンプルメッセージで使用中の鍵を確認できます。",
                ),
            )
        )
    weak = [
        (lookup, key)
        for lookup, key in keys
        if key.key and key.key.algorithm == "rsa" and key.key.bits < MIN_DKIM_BITS
    ]
    evidence = tuple(
        Evidence(lookup.name, f"{key.key.algorithm} {key.key.bits} bits") for lookup, key in keys if key.key
    )
    if weak:
        names = ", ".join(
            f"{lookup.selector} ({key.key.bits if key.key else 0} bits)" for lookup, key in weak
        )
        return Result(
            State.FAIL,
            Text(f"DKIM keys shorter than 1024 bits: {names}.", f"1024 ビット未満の DKIM 鍵: {names}。"),
            evidence,
            Fix(
                LONGER_KEY, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim-2048.key"
            ),
        )
    return Result(
        State.PASS,
        Text(
            "Every DKIM key found is 1024 bits or more.", "見つかった DKIM 鍵はすべて 1024 ビット以上です。"
        ),
        evidence,
    )


def dmarc_record(dmarc: DmarcObservation) -> Result:
    """One valid DMARC record applies to the domain (its own or its organisational domain's)."""
    if _failed_answer(dmarc.status):
        return Result(State.UNKNOWN, Text("The DMARC lookup failed.", "DMARC の照会に失敗しました。"))
    where = dmarc.location or f"_dmarc.{dmarc.domain}"
    if dmarc.status is Status.ABSENT or not dmarc.records:
        return Result(
            State.FAIL,
            Text(
                "No DMARC record applies to the domain.", "ドメインに適用される DMARC レコードがありません。"
            ),
            (Evidence(f"_dmarc.{dmarc.domain} TXT", "no v=DMARC1 record"),),
            Fix(PUBLISH_DMARC, zone_line(f"_dmarc.{dmarc.org_domain}", starter_dmarc(dmarc.org_domain))),
        )
    evidence = tuple(Evidence(f"{where} TXT", record) for record in dmarc.records)
    if len(dmarc.records) > 1:
        return Result(
            State.FAIL,
            Text(
                "More than one DMARC record: receivers apply none.",
                "DMARC レコードが複数あり、受信側はどれも適用しません。",
            ),
            evidence,
            Fix(MEND_DMARC),
        )
    record = dmarc.record
    if record is None or record.policy("p") is None:
        return Result(
            State.FAIL,
            Text("The DMARC record has no valid p= tag.", "DMARC レコードに有効な p= タグがありません。"),
            evidence,
            Fix(MEND_DMARC),
        )
    policy = record.policy("p")
    return Result(
        State.PASS,
        Text(f"DMARC is published with p={policy}.", f"DMARC が p={policy} で公開されています。"),
        evidence,
    )


LOWER_COMPLAINTS = Text(
    "Lower the complaint rate: send only to people who asked for the mail, honour unsubscribes within two "
    "days (one-click, RFC 8058), send less often to those who do not open it, and keep transactional and "
    "marketing mail apart (separate subdomains or streams).",
    "苦情率を下げてください: 希望した人にだけ送り、登録解除は 2 日以内に反映し（ワンクリック、RFC 8058）、"
    "開封しない人への送信頻度を下げ、取引メールと販促メールを分けて（別のサブドメインや配信系統で）送ってください。",
)


def spam_rate(posture: SenderPosture) -> Result:
    """The worst daily spam-complaint rate of the last week of figures is under 0.3 %."""
    assessment = assess(posture.spam_rates, date.fromisoformat(posture.day))
    if assessment.grade is Grade.NA:
        if assessment.stale_days:
            summary = Text(
                f"The latest spam-rate figure ({assessment.latest_day}) is {assessment.stale_days} days old; "
                "import current figures (mimawari deliverability import).",
                f"最新の迷惑メール率（{assessment.latest_day}）は {assessment.stale_days} 日前のものです。"
                "最新の数値を取り込んでください（mimawari deliverability import）。",
            )
        else:
            summary = Text(
                "No spam-rate figures are stored for the domain; import them from Google Postmaster Tools, "
                "Microsoft SNDS or complaint feedback (mimawari deliverability import).",
                "このドメインの迷惑メール率が保存されていません。Google Postmaster Tools、Microsoft SNDS、"
                "苦情フィードバックから取り込んでください（mimawari deliverability import）。",
            )
        return Result(State.NEEDS_SPAM_DATA, summary)
    worst = assessment.worst
    assert worst is not None  # a graded assessment has figures
    evidence = tuple(Evidence(f"{f.source} {f.day}", percent(f)) for f in assessment.window[-7:])
    shown = f"{percent(worst)} ({worst.source}, {worst.day})"
    if assessment.grade is Grade.E:
        return Result(
            State.FAIL,
            Text(
                f"The spam-complaint rate reached {shown}: at 0.3 % or more the providers filter or reject the "
                "mail and do not help with delivery problems.",
                f"迷惑メール報告率が {shown} に達しています。0.3 % 以上では各社がメールを迷惑メール扱いまたは"
                "拒否し、配信問題の支援も受けられません。",
            ),
            evidence,
            Fix(LOWER_COMPLAINTS),
        )
    if assessment.grade is Grade.C:
        summary = Text(
            f"The worst rate of the last week is {shown}: under the 0.3 % limit but over the 0.1 % the "
            "providers ask senders to stay under.",
            f"直近 1 週間の最悪値は {shown} です。上限の 0.3 % 未満ですが、各社が求める 0.1 % を超えています。",
        )
    else:
        summary = Text(
            f"The worst rate of the last week is {shown}, under 0.1 %.",
            f"直近 1 週間の最悪値は {shown} で、0.1 % 未満です。",
        )
    return Result(State.PASS, summary, evidence)
