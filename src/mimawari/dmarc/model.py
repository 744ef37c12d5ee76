"""What the report parsers hand out: plain frozen dataclasses, one per report kind.

An aggregate report can hold hundreds of thousands of records, so it is read in two steps: its header
(``AggregateHeader``: who reported, the period, the policy published) and then its records one by one
(``AggregateRecord``), never all in memory (see ``aggregate.py``). Failure and TLS reports are small
and come whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReportKind(StrEnum):
    AGGREGATE = "aggregate"
    FAILURE = "failure"
    SMTP_TLS = "smtp_tls"


class Outcome(StrEnum):
    """What storing a report did."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    """The same report was stored before (read to the end all the same, so a broken copy is rejected)."""


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    records: int = 0
    messages: int = 0


class ReportError(ValueError):
    """A report that cannot be used: malformed, truncated, hostile or over a limit. The message is one
    line saying why; nothing of the report is kept."""


# --- aggregate reports (RFC 7489 appendix C, RFC 9990) -------------------------------------------------


@dataclass(frozen=True)
class PublishedPolicy:
    """``policy_published``: the DMARC record the reporter applied. Absent tags are None."""

    domain: str
    p: str | None = None
    sp: str | None = None
    np: str | None = None
    """RFC 9990 / RFC 9989: the policy for non-existent subdomains."""
    adkim: str | None = None
    aspf: str | None = None
    pct: int | None = None
    """RFC 7489 only (RFC 9989 removed ``pct``)."""
    fo: str | None = None
    testing: str | None = None
    """RFC 9990 ``testing`` (``y``/``n``), the successor of ``pct`` < 100."""
    discovery_method: str | None = None
    """RFC 9990: ``psl`` or ``treewalk``."""


@dataclass(frozen=True)
class AggregateHeader:
    version: str
    """``1.0`` (RFC 7489 documents often omit it: then ``""``) or ``2.0`` (RFC 9990 namespace)."""
    org_name: str
    email: str
    report_id: str
    begin: datetime
    end: datetime
    policy: PublishedPolicy
    extra_contact_info: str = ""
    generator: str = ""
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class DkimResult:
    domain: str
    result: str
    """none, pass, fail, policy, neutral, temperror, permerror."""
    selector: str = ""


@dataclass(frozen=True)
class SpfResult:
    domain: str
    result: str
    """none, neutral, pass, fail, softfail, temperror, permerror."""
    scope: str = ""
    """``mfrom`` or ``helo`` (RFC 7489); RFC 9990 keeps only ``mfrom``."""


@dataclass(frozen=True)
class PolicyOverride:
    type: str
    """forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, other (…)."""
    comment: str = ""


@dataclass(frozen=True)
class AggregateRecord:
    source_ip: str
    """Normalised (``ipaddress`` text form)."""
    count: int
    disposition: str
    """none, quarantine, reject (as the receiver applied the policy)."""
    dkim: str
    """The DMARC-aligned DKIM verdict: pass or fail."""
    spf: str
    """The DMARC-aligned SPF verdict: pass or fail."""
    header_from: str
    envelope_from: str = ""
    envelope_to: str = ""
    reasons: tuple[PolicyOverride, ...] = ()
    dkim_results: tuple[DkimResult, ...] = ()
    spf_results: tuple[SpfResult, ...] = ()


# --- failure reports (ARF: RFC 5965, RFC 6591, RFC 9991) -----------------------------------------------


@dataclass(frozen=True)
class FailureReport:
    """One authentication failure report (``message/feedback-report`` with ``Feedback-Type:
    auth-failure``) and the headers of the message that failed."""

    key: str
    """SHA-256 of the normalised report, for idempotent storage."""
    reporter: str
    """Who sent the report: its From address (or the ``Reporting-MTA``)."""
    feedback_type: str
    arrival_date: datetime | None
    source_ip: str
    reported_domain: str
    auth_failure: str
    """dmarc, dkim, spf, adsp, bodyhash, revoked, signature (RFC 6591 §3.2.2)."""
    original_mail_from: str = ""
    original_rcpt_to: str = ""
    delivery_result: str = ""
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_identity: str = ""
    identity_alignment: str = ""
    user_agent: str = ""
    header_from: str = ""
    subject: str = ""
    message_id: str = ""
    """Of the message that failed (from its headers), not of the report."""


# --- SMTP TLS reports (RFC 8460) -------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFailure:
    result_type: str
    """starttls-not-supported, certificate-host-mismatch, certificate-expired, validation-failure,
    sts-policy-fetch-error, tlsa-invalid, dnssec-invalid, … (RFC 8460 §4.3)."""
    failed_sessions: int
    sending_mta_ip: str = ""
    receiving_mx_hostname: str = ""
    receiving_mx_helo: str = ""
    receiving_ip: str = ""
    additional_information: str = ""
    failure_reason_code: str = ""


@dataclass(frozen=True)
class TlsPolicyResult:
    policy_type: str
    """sts, tlsa or no-policy-found."""
    policy_domain: str
    successful_sessions: int
    failed_sessions: int
    policy_strings: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    failures: tuple[TlsFailure, ...] = ()


@dataclass(frozen=True)
class TlsReport:
    organization_name: str
    report_id: str
    begin: datetime
    end: datetime
    contact_info: str = ""
    policies: tuple[TlsPolicyResult, ...] = ()
