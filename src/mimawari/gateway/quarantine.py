"""The quarantine: messages the gateway kept instead of delivering, one file each, until an operator
releases or deletes them.

    store = Quarantine("/var/lib/mimawari/quarantine")
    entry = store.put(raw, metadata)          # the milter, before it discards the message
    store.entries(); store.show(entry.id)     # gateway quarantine list / show
    store.release(entry.id, ("127.0.0.1", 10026))   # SMTP to the relay, with the original envelope
    store.delete(entry.id)

A file holds one line of JSON (the envelope, the verdict, the parts, when) and then the message as it
arrived. It is written to a temporary name, flushed to disk and renamed, so a file under its final name
is always whole. ``release`` hands the message to an MTA listener that must *not* run the milter again
(in Postfix, a second ``smtpd`` with ``-o smtpd_milters=``), or it would be kept again; the file is
removed only after the relay accepted it for every recipient.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mimawari.errors import InputError, OperationalError

SUFFIX = ".quarantined"
_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{12}")
RELEASE_TIMEOUT = 60.0


class QuarantineError(OperationalError):
    """The quarantine directory or the relay cannot be used."""


@dataclass(frozen=True)
class Entry:
    id: str
    metadata: dict[str, Any]
    size: int
    """The message's size in bytes."""

    @property
    def sender(self) -> str:
        return str(self.metadata.get("sender", ""))

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self.metadata.get("recipients", ()))


class Quarantine:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def put(self, raw: bytes, metadata: dict[str, Any], now: datetime | None = None) -> str:
        """Store a message with its metadata; returns its id. ``OSError`` when the disk refuses."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        entry_id = f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}"
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        head = json.dumps({"id": entry_id, **metadata}, ensure_ascii=False, separators=(",", ":"))
        final = self.directory / f"{entry_id}{SUFFIX}"
        temporary = self.directory / f".{entry_id}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(head.encode("utf-8") + b"\n")
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _sync_directory(self.directory)
        return entry_id

    def entries(self) -> Iterator[Entry]:
        """Every message kept, oldest first."""
        try:
            names = sorted(p.name for p in self.directory.iterdir() if p.name.endswith(SUFFIX))
        except FileNotFoundError:
            return
        except OSError as error:
            raise QuarantineError(f"cannot read the quarantine {self.directory}: {error.strerror}") from None
        for name in names:
            entry_id = name.removesuffix(SUFFIX)
            if _ID.fullmatch(entry_id):
                try:
                    yield self._read(entry_id, with_message=False)[0]
                except QuarantineError:
                    continue  # removed (released) while listing

    def show(self, entry_id: str) -> tuple[Entry, bytes]:
        return self._read(entry_id, with_message=True)

    def release(self, entry_id: str, relay: tuple[str, int], helo: str | None = None) -> Entry:
        """Submit the message to ``relay`` with its original envelope, then remove it. Raises
        ``QuarantineError`` (and keeps the message) when the relay does not accept every recipient."""
        entry, raw = self.show(entry_id)
        if not entry.recipients:
            raise QuarantineError(f"quarantined message {entry_id} has no recipients to release it to")
        host, port = relay
        try:
            with smtplib.SMTP(host, port, local_hostname=helo, timeout=RELEASE_TIMEOUT) as client:
                refused = client.sendmail(entry.sender, list(entry.recipients), raw)
        except smtplib.SMTPRecipientsRefused as error:
            refused_all = ", ".join(f"{r}: {code}" for r, (code, _) in error.recipients.items())
            raise QuarantineError(
                f"the relay {host}:{port} refused every recipient ({refused_all})"
            ) from None
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
            raise QuarantineError(
                f"the relay {host}:{port} answered {error.smtp_code} {text}".strip()
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise QuarantineError(f"cannot hand the message to the relay {host}:{port}: {error}") from None
        if refused:
            names = ", ".join(sorted(refused))
            raise QuarantineError(
                f"the relay {host}:{port} refused {names}; the others have it: "
                f"delete {entry_id} after sending to {names} by hand"
            )
        self.delete(entry_id)
        return entry

    def delete(self, entry_id: str) -> None:
        path = self._path(entry_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise InputError(f"no quarantined message {entry_id} in {self.directory}") from None
        except OSError as error:
            raise QuarantineError(f"cannot delete {path}: {error.strerror}") from None

    def _path(self, entry_id: str) -> Path:
        if not _ID.fullmatch(entry_id):
            raise InputError(f"{entry_id!r} is not a quarantine id (like 20250101T120000Z-0123456789ab)")
        return self.directory / f"{entry_id}{SUFFIX}"

    def _read(self, entry_id: str, *, with_message: bool) -> tuple[Entry, bytes]:
        path = self._path(entry_id)
        try:
            with path.open("rb") as handle:
                head = handle.readline(1 << 20)
                raw = handle.read() if with_message else b""
                size = os.fstat(handle.fileno()).st_size - len(head)
        except FileNotFoundError:
            raise InputError(f"no quarantined message {entry_id} in {self.directory}") from None
        except OSError as error:
            raise QuarantineError(f"cannot read {path}: {error.strerror}") from None
        try:
            metadata = json.loads(head)
        except ValueError:
            raise QuarantineError(f"{path} does not start with its metadata (one line of JSON)") from None
        if not isinstance(metadata, dict):
            raise QuarantineError(f"{path} does not start with its metadata (one line of JSON)")
        return Entry(entry_id, metadata, size), raw


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX: the directory entry is data of the directory)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
