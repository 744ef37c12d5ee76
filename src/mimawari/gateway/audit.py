"""The gateway's audit log: one JSON object per message and per line, for every decision.

Each record is appended and flushed to disk (``fsync``) before the MTA hears the decision, so that a
message the gateway rejected, stripped or kept always has its line, even if the machine stops right
after. The file is opened for each record (``O_APPEND``): log rotation needs no signal, and lines from
concurrent messages never interleave (one ``write`` of the whole line, under a lock).

Keys: ``time`` (UTC, ISO 8601), ``queue_id``, ``client_address``, ``client_name``, ``sender``,
``recipients``, ``message_id``, ``verdict``, ``parts`` (``part``, ``section``, ``kind``, ``depth``),
``undecided`` (``part``, ``section``, ``reason``), ``action``, ``exception`` (``sender`` or
``recipient``, ``approved_by``, ``reason``, ``expires``) or null, ``reply``, ``reason`` (errors),
``quarantine_id``, ``bytes``.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mimawari.gateway.policy import Decision, Envelope, Failure
from mimawari.gateway.policy_config import Exemption
from mimawari.gateway.verdict import Inspection


def audit_record(
    envelope: Envelope,
    outcome: Inspection | Failure,
    decision: Decision,
    *,
    size: int,
    quarantine_id: str | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    inspection = outcome if isinstance(outcome, Inspection) else None
    return {
        "time": (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds"),
        "queue_id": envelope.queue_id,
        "client_address": envelope.client_address,
        "client_name": envelope.client_name,
        "sender": envelope.sender,
        "recipients": list(envelope.recipients),
        "message_id": envelope.message_id,
        "verdict": decision.verdict,
        "parts": [
            {"part": p.part, "section": p.section, "kind": str(p.kind), "depth": p.depth}
            for p in (inspection.encrypted if inspection else ())
        ],
        "undecided": [
            {"part": p.part, "section": p.section, "reason": p.reason, "depth": p.depth}
            for p in (inspection.undecided if inspection else ())
        ],
        "action": str(decision.action),
        "exception": exemption_record(decision.exemption),
        "reply": decision.reply.first_line() if decision.reply else None,
        "reason": decision.reason or None,
        "quarantine_id": quarantine_id,
        "bytes": size,
    }


def exemption_record(exemption: Exemption | None) -> dict[str, str] | None:
    if exemption is None:
        return None
    side = {"sender": exemption.sender} if exemption.sender else {"recipient": exemption.recipient or ""}
    return {
        **side,
        "approved_by": exemption.approved_by,
        "reason": exemption.reason,
        "expires": exemption.expires.isoformat(),
    }


class AuditLog:
    """Appends records to ``path`` (created with mode 0640 when missing); ``None`` writes nothing."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        """Append one line and fsync it; ``OSError`` when the disk refuses (the caller tempfails)."""
        if self.path is None:
            return
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
            try:
                written = 0
                while written < len(line):
                    written += os.write(descriptor, line[written:])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
