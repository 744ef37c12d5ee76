"""From a received message to what the MTA must do with it: inspect, decide, keep, log. No sockets.

    gateway = Gateway(policy, audit=AuditLog(path), quarantine=Quarantine(directory))
    outcome = gateway.inspect(raw)                 # the detector, within its budgets; never raises
    result = gateway.enforce(envelope, headers, raw, outcome)
    result.reply / result.discard / result.header_edits / result.body

``milter`` turns an ``Enforcement`` into protocol replies; anything else that can hand over a message
(a test, another MTA interface) could too. Both calls block (the detector, ``fsync``): run them in a
worker thread. The audit line is written before the result is returned, so the MTA never acts on a
decision that is not logged; when it cannot be written, or the quarantine cannot keep the message, the
message is refused for now (``tempfail``) rather than let through unrecorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from mimawari.gateway.audit import AuditLog, audit_record
from mimawari.gateway.budgets import Budgets
from mimawari.gateway.policy import (
    Decision,
    Envelope,
    Failure,
    Reply,
    decide,
    notice_text,
    reply_of,
    tag_value,
)
from mimawari.gateway.policy_config import Action, PolicyFile
from mimawari.gateway.quarantine import Quarantine
from mimawari.gateway.strip import HeaderEdit, strip_sections
from mimawari.gateway.verdict import Inspection

log = logging.getLogger(__name__)

Detector = Callable[[bytes, Budgets], Inspection]


def default_detector() -> Detector:
    from mimawari.gateway.detect import inspect_message  # noqa: PLC0415 (the readers load on first use)

    detector: Detector = inspect_message
    return detector


@dataclass(frozen=True)
class Enforcement:
    decision: Decision
    reply: Reply | None = None
    """Refuse the message with this reply (``reject``, ``tempfail``)."""
    discard: bool = False
    """Accept it for the sender, deliver it to nobody (``quarantine``: it is kept)."""
    header_edits: tuple[HeaderEdit, ...] = ()
    body: bytes | None = None
    """The new body (``strip``)."""
    quarantine_id: str | None = None


class Gateway:
    def __init__(
        self,
        policy: PolicyFile,
        *,
        audit: AuditLog | None = None,
        quarantine: Quarantine | None = None,
        detector: Detector | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.policy = policy
        self.budgets = policy.budgets_value()
        self.audit = audit or AuditLog(policy.audit_log)
        directory = policy.quarantine.directory
        self.quarantine = quarantine or (Quarantine(directory) if directory else None)
        self.detector = detector or default_detector()
        self.today = today

    @property
    def max_message_bytes(self) -> int:
        return self.budgets.max_message_bytes

    @property
    def inspect_timeout(self) -> float:
        """How long the milter waits for the detector: its own time budget, and some slack for the
        thread to be scheduled on a busy machine."""
        return self.budgets.max_seconds * 2 + 1

    def inspect(self, raw: bytes) -> Inspection | Failure:
        try:
            return self.detector(raw, self.budgets)
        except Exception as error:  # a bug in a reader must not let the message through, nor crash the milter
            log.exception("the detector failed on a message of %d bytes", len(raw))
            return Failure(f"the detector failed ({type(error).__name__})")

    def enforce(
        self,
        envelope: Envelope,
        headers: Sequence[tuple[str, str]],
        raw: bytes | None,
        outcome: Inspection | Failure,
    ) -> Enforcement:
        """What to do with the message (``raw`` is None when it was not kept whole: an error)."""
        decision = decide(self.policy, envelope, outcome, self.today())
        try:
            result = self._apply(decision, envelope, headers, raw, outcome)
        except OSError as error:
            log.error("cannot act on %s (%s): %s", envelope.queue_id or "a message", decision.action, error)
            result = self._temporary(decision, f"cannot {decision.action}: {error.strerror or error}")
        size = len(raw) if raw is not None else 0
        record = audit_record(
            envelope, outcome, result.decision, size=size, quarantine_id=result.quarantine_id
        )
        try:
            self.audit.write(record)
        except OSError as error:
            log.error("cannot write the audit log %s: %s", self.audit.path, error.strerror or error)
            return self._temporary(result.decision, "the audit log cannot be written")
        return result

    def _apply(
        self,
        decision: Decision,
        envelope: Envelope,
        headers: Sequence[tuple[str, str]],
        raw: bytes | None,
        outcome: Inspection | Failure,
    ) -> Enforcement:
        action = decision.action
        if action in (Action.REJECT, Action.TEMPFAIL):
            return Enforcement(decision, reply=decision.reply)
        tag = self.policy.tag_header
        present = any(name.lower() == tag.lower() for name, _ in headers)
        # A header of ours that came with the message is someone else's claim: it goes.
        own = (HeaderEdit(tag, None),) if present else ()
        if action is Action.ACCEPT:
            return Enforcement(decision, header_edits=own)
        if action is Action.TAG:
            return Enforcement(decision, header_edits=(HeaderEdit(tag, tag_value(decision, outcome)),))
        if raw is None or not isinstance(outcome, Inspection):  # the policy refuses these for errors
            return self._temporary(decision, "the message was not kept whole")
        if action is Action.QUARANTINE:
            assert self.quarantine is not None  # the policy file requires the directory
            metadata = audit_record(envelope, outcome, decision, size=len(raw))
            entry_id = self.quarantine.put(raw, metadata)
            return Enforcement(decision, discard=True, quarantine_id=entry_id)
        if "" in decision.strip_sections:  # the message as a whole could not be read: no part to cut
            return self._temporary(decision, "strip: the message's structure could not be read")
        stripped = strip_sections(
            raw, decision.strip_sections, notice_text(self.policy, outcome, decision.strip_sections)
        )
        edits = (*stripped.header_edits, HeaderEdit(tag, tag_value(decision, outcome) + "; stripped"))
        return Enforcement(decision, header_edits=edits, body=stripped.body)

    def _temporary(self, decision: Decision, reason: str) -> Enforcement:
        failed = replace(decision, action=Action.TEMPFAIL, reason=reason)
        reply = reply_of(self.policy.tempfail, self.policy.reply_languages)
        return Enforcement(replace(failed, reply=reply), reply=reply)
