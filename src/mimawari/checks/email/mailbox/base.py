"""What the mailbox checks share: references, the N/A and unknown verdicts, the TLS state of a service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from enum import StrEnum

from mimawari.model import Evidence, Grade, Reference, Status, Text, Verdict
from mimawari.observations.mailbox import MailboxObservation, MailboxService, Reach
from mimawari.probes import TlsHandshake

RFC6186 = Reference("RFC 6186 §3", "https://www.rfc-editor.org/rfc/rfc6186#section-3")
RFC8314_SRV = Reference("RFC 8314 §5.1", "https://www.rfc-editor.org/rfc/rfc8314#section-5.1")
RFC8314_IMPLICIT = Reference("RFC 8314 §3", "https://www.rfc-editor.org/rfc/rfc8314#section-3")
RFC8314_SUBMISSIONS = Reference(
    "RFC 8314 §3.3 (port 465)", "https://www.rfc-editor.org/rfc/rfc8314#section-3.3"
)
RFC8314_CLEARTEXT = Reference("RFC 8314 §4.1", "https://www.rfc-editor.org/rfc/rfc8314#section-4.1")
RFC2595 = Reference("RFC 2595 §3, §4 (STARTTLS, STLS)", "https://www.rfc-editor.org/rfc/rfc2595#section-3")
RFC2595_CLEARTEXT = Reference("RFC 2595 §2.3", "https://www.rfc-editor.org/rfc/rfc2595#section-2.3")
RFC9051_LOGIN = Reference(
    "RFC 9051 §6.2.3 (LOGIN, LOGINDISABLED)", "https://www.rfc-editor.org/rfc/rfc9051#section-6.2.3"
)
RFC8314_CERTIFICATE = Reference("RFC 8314 §4.4, §5.3", "https://www.rfc-editor.org/rfc/rfc8314#section-4.4")
RFC8996 = Reference("RFC 8996 (TLS 1.0 and 1.1 deprecated)", "https://www.rfc-editor.org/rfc/rfc8996")
RFC4954 = Reference("RFC 4954 §4 (SMTP AUTH)", "https://www.rfc-editor.org/rfc/rfc4954#section-4")

NOTHING_FOUND = Text(
    "No mailbox or submission server (IMAP, POP3, submission) was found for {domain}.",
    "{domain} のメールボックス／サブミッションサーバー（IMAP、POP3、サブミッション）は見つかりませんでした。",
)
ADVERTISED_CLOSED = Text(
    "No mailbox or submission service answered for {domain}: the advertised ones ({services}) refused the "
    "connection, so clients told to use them fail.",
    "{domain} のメールボックス／サブミッションサービスは応答しませんでした。公開されているサービス"
    "（{services}）が接続を拒否したため、それを使うよう設定されたクライアントは接続できません。",
)
UNKNOWN = Text(
    "Could not be determined: {problem}. This is not a finding; scan again.",
    "判定できませんでした（{problem}）。問題が見つかったという意味ではありません。再度スキャンしてください。",
)
UNDECIDED = Text(
    "Every service that answered passes, but {services} did not answer in time; scan again to grade "
    "them. This is not a finding.",
    "応答したサービスはすべて基準を満たしていますが、{services} は時間内に応答しませんでした。再度スキャン"
    "して判定してください。問題が見つかったという意味ではありません。",
)


def not_graded(observation: MailboxObservation) -> Verdict | None:
    """N/A when there is no service, unknown when the observation could not tell; None otherwise."""
    if observation.status is Status.PRESENT:
        return None
    evidence = observation.discovery_evidence() + tuple(s.evidence() for s in observation.services)
    if observation.status is Status.NOT_APPLICABLE:
        domain, closed = observation.domain, ", ".join(s.label for s in observation.services if s.advertised)
        text = (
            ADVERTISED_CLOSED.format(domain=domain, services=closed)
            if closed
            else NOTHING_FOUND.format(domain=domain)
        )
        return Verdict(Grade.NA, text, evidence)
    problem = observation.problem or observation.status.value
    return Verdict(Grade.UNKNOWN, UNKNOWN.format(problem=problem), evidence)


def undecided_labels(observation: MailboxObservation) -> tuple[str, ...]:
    """Advertised services (and hosts) that did not answer: a pass cannot vouch for them."""
    hosts = tuple(f"{h.name} (address lookup failed)" for h in observation.unresolved)
    return tuple(s.label for s in observation.undecided) + hosts


def undecided(observation: MailboxObservation, evidence: Iterable[Evidence]) -> Verdict | None:
    labels = undecided_labels(observation)
    if not labels:
        return None
    waiting = tuple(s.evidence() for s in observation.undecided)
    return Verdict(Grade.UNKNOWN, UNDECIDED.format(services=", ".join(labels)), (*evidence, *waiting))


class TlsState(StrEnum):
    """Whether a service that answered protects the connection with TLS."""

    SECURED = "secured"
    """Implicit TLS, or STARTTLS/STLS offered and the handshake completed."""
    NO_TLS = "no-tls"
    """A cleartext port that does not offer STARTTLS/STLS."""
    FAILED = "failed"
    """TLS offered but the upgrade was refused or the handshake failed."""
    UNDECIDED = "undecided"


def tls_state(service: MailboxService) -> tuple[TlsState, str]:
    """The service's TLS state and a line of evidence for it."""
    session = service.session
    tls = session.tls
    if service.service.implicit_tls:
        if tls is not None and tls.status is Status.PRESENT:
            return TlsState.SECURED, f"implicit TLS, {tls.version} {tls.cipher}".rstrip()
        if tls is not None and tls.status is Status.ERROR:
            return TlsState.FAILED, f"implicit TLS handshake failed: {tls.detail or 'error'}"
        return TlsState.UNDECIDED, session.describe()
    if session.starttls_offered is None:
        return (
            TlsState.UNDECIDED,
            f"the session ended before the capabilities were known ({session.describe()})",
        )
    if not session.starttls_offered:
        return (
            TlsState.NO_TLS,
            f"no {_upgrade(service)} offered: {' '.join(session.capabilities) or '(none)'}",
        )
    if tls is None:
        reply = session.starttls
        if reply is not None and not reply.positive:
            return TlsState.FAILED, f"{_upgrade(service)} refused: {reply.describe()}"
        return TlsState.UNDECIDED, f"{_upgrade(service)} offered, not completed ({session.describe()})"
    if tls.status is Status.PRESENT:
        return TlsState.SECURED, f"{_upgrade(service)}, {tls.version} {tls.cipher}".rstrip()
    if tls.status is Status.ERROR:
        return TlsState.FAILED, f"{_upgrade(service)} handshake failed: {tls.detail or 'error'}"
    return TlsState.UNDECIDED, f"{_upgrade(service)} handshake: {tls.status.value} {tls.detail}".rstrip()


def _upgrade(service: MailboxService) -> str:
    return "STLS" if service.service.family == "POP3" else "STARTTLS"


def secured(service: MailboxService) -> MailboxService:
    """The service as it looks once TLS works (for after-fix grades)."""
    session = service.session
    handshake = TlsHandshake(Status.PRESENT, "TLSv1.3", "TLS_AES_128_GCM_SHA256")
    if service.service.implicit_tls:
        fixed = replace(session, status=Status.PRESENT, tls=handshake, detail="")
    else:
        fixed = replace(session, starttls_offered=True, starttls=None, tls=handshake)
    return replace(service, session=fixed)


def answered(observation: MailboxObservation) -> tuple[MailboxService, ...]:
    """Services that greeted (a failed implicit handshake has no greeting to judge)."""
    return tuple(s for s in observation.services if s.reach is Reach.ANSWERED)


def with_services(observation: MailboxObservation, changed: dict[int, MailboxService]) -> MailboxObservation:
    """``observation`` with the services at the given indexes replaced."""
    services = tuple(changed.get(i, s) for i, s in enumerate(observation.services))
    return replace(observation, services=services)
