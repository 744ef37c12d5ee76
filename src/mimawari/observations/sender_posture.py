"""What the sender-requirement matrix reads: the domain's SPF, DKIM and DMARC, the sample message (when
given) and the spam-complaint figures (when stored), in one observation.

The plan runs the same plans as the DNS checks and the message checks; the scan's DNS client answers a
question asked twice once, so this costs no extra lookups, and a replay rebuilds it from the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mimawari.lookup import Plan
from mimawari.model import SpamRateSummary, Target
from mimawari.observations import Observer
from mimawari.observations.dkim import DkimObservation, dkim_plan
from mimawari.observations.dmarc import DmarcObservation, dmarc_plan
from mimawari.observations.message import MessageObservation, message_plan
from mimawari.observations.spf import SpfObservation, spf_posture_plan


@dataclass(frozen=True)
class SenderPosture:
    domain: str
    day: str
    """The scan's UTC day (ISO 8601): spam-rate figures are judged as of this day."""
    spf: SpfObservation
    dkim: DkimObservation
    dmarc: DmarcObservation
    message: MessageObservation
    spam_rates: SpamRateSummary | None = None


def sender_posture_plan(target: Target) -> Plan[SenderPosture]:
    spf = yield from spf_posture_plan(target)
    dkim = yield from dkim_plan(target)
    dmarc = yield from dmarc_plan(target)
    message = yield from message_plan(target)
    day = datetime.fromtimestamp(target.moment(), UTC).date().isoformat()
    return SenderPosture(target.domain, day, spf, dkim, dmarc, message, target.spam_rates)


SENDER_POSTURE = Observer("sender_posture", sender_posture_plan)
