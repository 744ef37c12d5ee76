"""The core vocabulary: grades, severities, observation status, texts, verdicts and findings.

Everything here is a frozen dataclass or an enum and round-trips through JSON (see ``serial``).
Texts a user reads exist in English and Japanese from the start (DESIGN rule 8).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Lang = Literal["en", "ja"]
LANGS: tuple[Lang, ...] = ("en", "ja")


class Grade(StrEnum):
    """A check's grade: A (best) to E (worst), or not applicable, or unknown (no data)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    NA = "N/A"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int | None:
        """0 for A … 4 for E; None for N/A and unknown, which are not on the scale."""
        order = "ABCDE"
        return order.index(self.value) if self.value in order else None

    @property
    def passing(self) -> bool:
        return self in (Grade.A, Grade.NA)

    def lowered(self, steps: int = 1) -> Grade:
        """The grade ``steps`` worse, stopping at E; N/A and unknown stay as they are."""
        if self.rank is None:
            return self
        return Grade("ABCDE"[min(self.rank + steps, 4)])


class Severity(StrEnum):
    """How much harm a failing check means, ordered from info to critical."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Status(StrEnum):
    """What an observation found. A timeout is never the same as absent (DESIGN rule 3)."""

    PRESENT = "present"
    ABSENT = "absent"
    TIMEOUT = "timeout"
    ERROR = "error"
    NOT_APPLICABLE = "not-applicable"

    @property
    def answered(self) -> bool:
        """True when the network gave an answer we can reason about (present or absent)."""
        return self in (Status.PRESENT, Status.ABSENT)


class Category(StrEnum):
    """Rating categories; the email ones follow MXSCORE/25's four-way split."""

    EMAIL_DNS = "email-dns"
    EMAIL_MTA = "email-mta"
    EMAIL_MAILBOX = "email-mailbox"
    EMAIL_OTHER = "email-other"


@dataclass(frozen=True)
class TlsReportSummary:
    """What the SMTP TLS reports (RFC 8460) received for a domain over a window say, summed up.

    Built from the stored reports (``mimawari dmarc ingest``), not by the scan: senders report the TLS
    sessions they tried with the domain's MX hosts, which the scan itself can only sample from outside.
    """

    days: int
    """The window: reports whose period ended in the last ``days`` days."""
    reports: int
    reporters: tuple[str, ...]
    """The reporting organisations (``organization-name``)."""
    successful_sessions: int
    failed_sessions: int
    failures: tuple[tuple[str, int], ...] = ()
    """Failed sessions per result type (``certificate-expired`` …, RFC 8460 §4.3), most first."""
    mx_hosts: tuple[tuple[str, int], ...] = ()
    """Failed sessions per receiving MX host name (``receiving-mx-hostname``), most first."""
    policy_types: tuple[str, ...] = ()
    """The policy types the reports were made under: ``sts``, ``tlsa``, ``no-policy-found``."""

    @property
    def sessions(self) -> int:
        return self.successful_sessions + self.failed_sessions


@dataclass(frozen=True)
class SampleMessage:
    """A message the domain sent, given to the scan (``scan --message``, ``message check``) for the Other
    category's message checks and the sender-requirement cells that only a message can settle.

    The raw bytes travel base64-encoded in the target, so the scan's snapshot keeps them and a replay
    verifies the same signatures against the same recorded DNS answers.
    """

    source: str
    """Where the message came from, for evidence: the file name."""
    data: str
    """The message as received (headers and body), base64 (RFC 4648) of its raw bytes."""
    sending_ip: str = ""
    """The address the message was sent from (``--sending-ip``); empty: not given."""
    envelope_from: str = ""
    """The SMTP MAIL FROM (``--envelope-from``); empty: taken from ``Return-Path`` when there is one."""
    helo: str = ""
    """The SMTP HELO/EHLO name, when known."""

    def raw(self) -> bytes:
        return base64.b64decode(self.data)

    @classmethod
    def of(cls, source: str, raw: bytes, **given: str) -> SampleMessage:
        return cls(source, base64.b64encode(raw).decode("ascii"), **given)


@dataclass(frozen=True)
class SpamRateDay:
    """One day of one source's spam-complaint figures for a domain (``mimawari deliverability import``)."""

    day: str
    """The UTC day, ISO 8601 (``2026-12-01``)."""
    source: str
    """``google-postmaster``, ``microsoft-snds`` or ``yahoo-arf``."""
    rate: float | None
    """Complaints per delivered message, 0–1; None when the source gives no rate for the day."""
    complaints: int | None = None
    volume: int | None = None
    """Messages the figure is taken over, when the source says (SNDS, the sent volume given with ARF)."""
    upper_bound: bool = False
    """True when the source gives only a band (SNDS ``< 0.1%``): ``rate`` is then its upper end."""


@dataclass(frozen=True)
class SpamRateSummary:
    """The spam-complaint series a scan is judged on: every stored day in the window, oldest first."""

    days: int
    """The window: days ending on the scan's day."""
    series: tuple[SpamRateDay, ...] = ()


@dataclass(frozen=True)
class Target:
    """What one scan looks at: a domain, and what the user told us about it."""

    domain: str
    dkim_selectors: tuple[str, ...] = ()
    """Selectors to try besides the built-in list of common ones."""
    trust_anchors: tuple[str, ...] = ()
    """DNSSEC trust anchors as DS or DNSKEY records in presentation format; empty: the bundled root keys."""
    observed_at: int = 0
    """When the scan ran (Unix seconds), set when it starts and kept in the snapshot: signature and
    certificate dates are judged at this moment, so a snapshot replayed later gets the same verdicts."""
    smuggling_recipient: str = ""
    """``--intrusive``: the address (in this domain) the SMTP smuggling probe may send test messages to.
    Empty: no probe sends DATA."""
    tls_reports: TlsReportSummary | None = None
    """The SMTP TLS reports received for the domain, when the scan was given them (from the store);
    None: no TLS report data available, and ``email.mta.tls_reports`` is not applicable."""
    sample_message: SampleMessage | None = None
    """A message the domain sent, to analyse (``--message``); None: the message checks need one."""
    spam_rates: SpamRateSummary | None = None
    """The spam-complaint figures stored for the domain (Postmaster Tools, SNDS, complaint feedback);
    None: the scan was given none, and the spam-rate requirement needs data."""

    def moment(self) -> int:
        """``observed_at``, or now for a target that was never scanned (a hand-made one in a test)."""
        return self.observed_at or int(time.time())


@dataclass(frozen=True)
class Text:
    """A user-facing text in every supported language."""

    en: str
    ja: str

    def get(self, lang: Lang) -> str:
        return self.ja if lang == "ja" else self.en

    def format(self, **values: object) -> Text:
        return Text(en=self.en.format(**values), ja=self.ja.format(**values))


@dataclass(frozen=True)
class Reference:
    """A standard or guide a check follows, e.g. ``RFC 7489 §6.6.3``."""

    label: str
    url: str


@dataclass(frozen=True)
class Evidence:
    """One observed fact behind a verdict: where it was seen and what was seen, verbatim."""

    source: str
    value: str


@dataclass(frozen=True)
class Fix:
    """What to do, in words, and exactly what to publish or set (copyable, language-neutral)."""

    action: Text
    snippet: str | None = None


@dataclass(frozen=True)
class AfterFix:
    """The grade the check gets once the fix is applied, and what changes for the owner."""

    grade: Grade
    effect: Text


@dataclass(frozen=True)
class Verdict:
    """The result of evaluating one check against one observation."""

    grade: Grade
    summary: Text
    evidence: tuple[Evidence, ...] = ()
    fix: Fix | None = None
    after_fix: AfterFix | None = None
    severity: Severity | None = None
    """Overrides the check's severity for this verdict, when the harm depends on what was found."""


@dataclass(frozen=True)
class Finding:
    """A verdict bound to its check and target: what reports, stores and scores work with."""

    check_id: str
    target: str
    category: Category
    grade: Grade
    severity: Severity
    title: Text
    summary: Text
    evidence: tuple[Evidence, ...] = ()
    fix: Fix | None = None
    after_fix: AfterFix | None = None
    references: tuple[Reference, ...] = field(default=())
