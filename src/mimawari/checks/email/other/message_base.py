"""What the sample-message checks share: the verdict without a sample, references, common evidence."""

from __future__ import annotations

from mimawari.model import Evidence, Grade, Reference, Status, Text, Verdict
from mimawari.observations.message import MessageObservation

RFC5322 = Reference("RFC 5322 (Internet Message Format)", "https://www.rfc-editor.org/rfc/rfc5322")
RFC6376 = Reference("RFC 6376 (DKIM Signatures)", "https://www.rfc-editor.org/rfc/rfc6376")
RFC6376_REPLAY = Reference(
    "RFC 6376 §8.15 (Attacks involving extra header fields)",
    "https://www.rfc-editor.org/rfc/rfc6376#section-8.15",
)
RFC8301 = Reference(
    "RFC 8301 (DKIM cryptographic algorithm update)", "https://www.rfc-editor.org/rfc/rfc8301"
)
RFC7489 = Reference(
    "RFC 7489 §3.1, §6.6 (DMARC identifier alignment)", "https://www.rfc-editor.org/rfc/rfc7489"
)
RFC7208 = Reference("RFC 7208 (SPF)", "https://www.rfc-editor.org/rfc/rfc7208")
RFC8058 = Reference("RFC 8058 (One-click unsubscribe)", "https://www.rfc-editor.org/rfc/rfc8058")
RFC2369 = Reference("RFC 2369 §3.2 (List-Unsubscribe)", "https://www.rfc-editor.org/rfc/rfc2369#section-3.2")
RFC3848 = Reference("RFC 3848 (ESMTP transmission types)", "https://www.rfc-editor.org/rfc/rfc3848")
RFC8617 = Reference("RFC 8617 (ARC)", "https://www.rfc-editor.org/rfc/rfc8617")
GMAIL = Reference("Google: Email sender guidelines", "https://support.google.com/a/answer/81126")
YAHOO = Reference("Yahoo: Sender best practices", "https://senders.yahooinc.com/best-practices/")

NO_SAMPLE = Text(
    "Needs a sample message: mimawari scan DOMAIN --message FILE (a message as received, with its "
    "headers), or mimawari message check FILE.",
    "サンプルメッセージが必要です: mimawari scan DOMAIN --message FILE（ヘッダーを含む受信したままの"
    "メッセージ）または mimawari message check FILE を使ってください。",
)
UNREADABLE = Text(
    "The sample message could not be read ({detail}).",
    "サンプルメッセージを読み取れませんでした（{detail}）。",
)


def without_sample(observation: MessageObservation) -> Verdict | None:
    """N/A without a sample message, unknown when it could not be read; None when there is one."""
    if observation.status is Status.NOT_APPLICABLE:
        return Verdict(Grade.NA, NO_SAMPLE)
    if not observation.has_sample:
        return Verdict(
            Grade.UNKNOWN, UNREADABLE.format(detail=observation.detail or observation.status.value)
        )
    return None


def from_evidence(observation: MessageObservation) -> Evidence:
    addresses = observation.message.from_addresses if observation.message else ()
    return Evidence("From", ", ".join(addresses) or "no address")
