"""Read DMARC report e-mails from an IMAP folder (``mimawari dmarc ingest imaps://user@host/Folder``).

A message is marked only after the caller has committed its reports: ``messages()`` hands out what was
not processed yet, the caller stores it, then calls ``done(uid)``, or ``rejected(uid, reason)`` when the
message holds no usable report. A crash in between leaves the message unmarked: the next run reads it
again and the idempotent store ignores the repeat.

The marks live on the server as IMAP keywords (RFC 3501 section 2.3.2), so every machine and every
database sees the same state, and a UIDVALIDITY change does not matter:

- ``$MimawariIngested`` and ``\\Seen``: the message's reports are stored. With ``after="move"`` the
  message then goes to ``move_to``: MOVE (RFC 6851), or where that is not offered COPY + ``\\Deleted`` +
  UID EXPUNGE (RFC 4315). A server without UIDPLUS either keeps it marked ``\\Deleted``: a plain EXPUNGE
  would also remove what other clients marked.
- ``$MimawariRejected``: a message with no usable report, or larger than ``max_message_bytes`` (told by
  RFC822.SIZE before any download). It stays where it is, unread, for a person to look at, and is not
  read again.

Transport security is not optional: ``imaps://`` is implicit TLS (RFC 8314), ``imap://`` requires
STARTTLS and never logs in over clear text. The certificate is verified against the system's store, or
against ``ca_file`` alone. The password comes from ``PASSWORD_ENV``, never from the URL.

    OperationalError
    └── ImapError            the server cannot be used now: unreachable, timeout, connection lost
        └── ImapTlsError     no STARTTLS offered, handshake failed, certificate not trusted
    InputError
    ├── ImapLoginError       the server refused the user name or password
    └── ImapFolderError      the folder or move_to does not exist or cannot be changed
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from mimawari.dmarc.imap_location import (
    PASSWORD_ENV,
    ImapLocation,
    decode_folder_name,
    encode_folder_name,
    password_from_environment,
    quoted_folder_name,
)
from mimawari.errors import InputError, MimawariError, OperationalError

__all__ = [
    "INGESTED",
    "PASSWORD_ENV",
    "REJECTED",
    "ImapError",
    "ImapFolderError",
    "ImapLocation",
    "ImapLoginError",
    "ImapMessage",
    "ImapRejection",
    "ImapSource",
    "ImapTlsError",
    "decode_folder_name",
    "encode_folder_name",
    "password_from_environment",
]

log = logging.getLogger(__name__)

INGESTED = "$MimawariIngested"
REJECTED = "$MimawariRejected"


class ImapError(OperationalError):
    pass


class ImapTlsError(ImapError):
    pass


class ImapLoginError(InputError):
    pass


class ImapFolderError(InputError):
    pass


@dataclass(frozen=True)
class ImapMessage:
    uid: int
    data: bytes
    """The message as RFC 5322 bytes (CRLF line ends)."""


@dataclass(frozen=True)
class ImapRejection:
    uid: int
    reason: str


class _CountingImap(imaplib.IMAP4):
    """Counts the bytes read from the server, so that a caller can tell how much was downloaded."""

    received_bytes = 0

    def read(self, size: int) -> bytes:
        data = super().read(size)
        self.received_bytes += len(data)
        return data

    def readline(self) -> bytes:
        line = super().readline()
        self.received_bytes += len(line)
        return line


class _CountingImaps(_CountingImap, imaplib.IMAP4_SSL):
    pass


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')
_DOVECOT_TIMING = re.compile(r" \(\d+\.\d+(?: \+ \d+\.\d+)* secs\)")
"""Dovecot's timing of a command, noise in a message to a user (``Done (0.001 + 0.000 secs).``)."""
_UNSELECTABLE = (b"\\noselect", b"\\nonexistent")


class ImapSource:
    """DMARC report e-mails in one IMAP folder; a context manager holding one connection."""

    def __init__(
        self,
        location: ImapLocation,
        password: str,
        *,
        after: Literal["flag", "move"] = "flag",
        move_to: str | None = None,
        ca_file: str | None = None,
        timeout: float = 30.0,
        max_message_bytes: int = 64 << 20,
        batch: int = 50,
    ) -> None:
        if (after == "move") != bool(move_to):
            raise InputError("moving processed reports needs a folder to move them to, and only that does")
        if move_to == location.folder:
            raise InputError(f"processed reports cannot be moved to {move_to!r}: they are read from there")
        if timeout <= 0 or max_message_bytes <= 0 or batch <= 0:
            raise InputError("the IMAP timeout, message size limit and batch size must be positive")
        self.location = location
        self._password = password
        self._move_to = move_to
        self._ca_file = ca_file
        self._timeout = timeout
        self._max_message_bytes = max_message_bytes
        self._batch = batch
        self._client: _CountingImap | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._rejections: list[ImapRejection] = []
        self._received_bytes = 0

    def __enter__(self) -> ImapSource:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @property
    def rejections(self) -> tuple[ImapRejection, ...]:
        """The messages marked rejected in this session, with the oversized ones the caller never saw."""
        return tuple(self._rejections)

    @property
    def received_bytes(self) -> int:
        """What this session read from the server, protocol included."""
        return self._received_bytes + (self._client.received_bytes if self._client is not None else 0)

    def open(self) -> None:
        """Connect, secure the connection, log in and select the folder."""
        if self._client is not None:
            return
        self._client = self._connect()
        try:
            self._login()
            self._select()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        client = self._drop()
        if client is not None:
            try:
                client.logout()  # not CLOSE: it would expunge what other clients marked \Deleted
            except (imaplib.IMAP4.error, OSError):
                client.shutdown()

    def messages(self) -> Iterator[ImapMessage]:
        """The messages not marked yet, oldest (lowest UID) first, fetched ``batch`` at a time."""
        found = self._uid("searching", "SEARCH", "UNDELETED", "UNKEYWORD", INGESTED, "UNKEYWORD", REJECTED)
        uids = sorted({int(uid) for line in found if isinstance(line, bytes) for uid in line.split()})
        for start in range(0, len(uids), self._batch):
            chunk = uids[start : start + self._batch]
            sizes = self._sizes(chunk)
            wanted = []
            for uid in chunk:
                size = sizes.get(uid)
                if size is None:
                    continue  # expunged by another client since the search
                if size > self._max_message_bytes:
                    self.rejected(uid, f"{size} bytes, over the limit of {self._max_message_bytes} bytes")
                else:
                    wanted.append(uid)
            for group in _groups(wanted, sizes, self._max_message_bytes):
                yield from self._fetch(group)

    def done(self, uid: int) -> None:
        """Mark a message whose reports are committed: flag it, and move it when so configured."""
        # The flags go first, and travel with the message: a move that fails half-way through leaves a
        # message that is not read again, wherever it ended up.
        self._uid("marking a message processed", "STORE", str(uid), "+FLAGS.SILENT", f"(\\Seen {INGESTED})")
        if self._move_to is None:
            return
        target, what = quoted_folder_name(self._move_to), f"moving a message to {self._move_to!r}"
        if "MOVE" in self._capabilities:
            self._uid(what, "MOVE", str(uid), target)
            return
        self._uid(what, "COPY", str(uid), target)
        self._uid(what, "STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in self._capabilities:
            self._uid(what, "EXPUNGE", str(uid))

    def rejected(self, uid: int, reason: str) -> None:
        """Mark a message that holds no usable report, so that it is not read again."""
        self._uid("marking a message rejected", "STORE", str(uid), "+FLAGS.SILENT", f"({REJECTED})")
        self._rejections.append(ImapRejection(uid, reason))
        log.warning("%s: message UID %d rejected: %s", self.location.url, uid, reason)

    # --- the session ----------------------------------------------------------------------------------

    def _connect(self) -> _CountingImap:
        location = self.location
        try:
            context = ssl.create_default_context(cafile=self._ca_file)
        except OSError as error:
            raise InputError(f"cannot read the CA file {self._ca_file}: {error.strerror or error}") from None
        client: _CountingImap | None = None
        try:
            if location.tls == "imaps":
                return _CountingImaps(
                    location.host, location.port, ssl_context=context, timeout=self._timeout
                )
            client = _CountingImap(location.host, location.port, timeout=self._timeout)
            if "STARTTLS" not in client.capabilities:
                raise ImapTlsError(
                    f"{location.url}: the server offers no STARTTLS, and mimawari never logs in over clear "
                    "text (imaps:// is for a server with implicit TLS)"
                )
            client.starttls(context)
            return client
        except Exception as error:
            if client is not None:
                self._received_bytes += client.received_bytes
                client.shutdown()
            raise self._failure("connecting", error) from None

    def _login(self) -> None:
        client, url, user, password = self._session(), self.location.url, self.location.user, self._password
        try:
            if "AUTH=PLAIN" in client.capabilities:
                # RFC 4616 is UTF-8: a non-ASCII user name or password works, unlike with LOGIN.
                client.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
            elif "LOGINDISABLED" in client.capabilities:
                raise ImapLoginError(f"{url}: the server refuses to log in (LOGINDISABLED)")
            else:
                client.login(user, password)
        except UnicodeEncodeError:
            raise ImapLoginError(f"{url}: the server takes only ASCII user names and passwords") from None
        except imaplib.IMAP4.abort as error:
            raise self._failure("logging in", error) from None
        except imaplib.IMAP4.error as error:
            raise ImapLoginError(
                f"{url}: login as {user} failed ({self._detail(error)}): check the user in the URL and "
                f"the password in {PASSWORD_ENV}"
            ) from None
        except OSError as error:
            raise self._failure("logging in", error) from None
        # The capabilities may change with login (RFC 3501 section 7.2.1): MOVE and UIDPLUS count after it.
        reply = self._call("reading the capabilities", client.capability)
        self._capabilities = frozenset(reply[-1].decode("ascii", "replace").upper().split() if reply else ())

    def _select(self) -> None:
        client, url, folder = self._session(), self.location.url, self.location.folder
        client.untagged_responses.pop("PERMANENTFLAGS", None)
        try:
            typ, data = client.select(quoted_folder_name(folder))
        except imaplib.IMAP4.readonly:
            raise ImapFolderError(f"{url}: {self.location.user} may only read {folder!r}") from None
        except (imaplib.IMAP4.error, OSError) as error:
            raise self._failure(f"opening {folder!r}", error) from None
        if typ != "OK":
            raise ImapFolderError(f"{url}: cannot open {folder!r} ({self._detail(data)}){self._folders()}")
        # RFC 3501 section 7.1: \* lets a client make keywords; no PERMANENTFLAGS at all means any flag.
        permanent = client.response("PERMANENTFLAGS")[1]
        if permanent and isinstance(permanent[-1], bytes):
            flags = set(permanent[-1].decode("ascii", "replace").strip("()").split())
            if "\\*" not in flags and not {INGESTED, REJECTED} <= flags:
                raise ImapFolderError(f"{url}: the server keeps no keywords of mimawari's in {folder!r}")
        if self._move_to is not None:
            move_to = quoted_folder_name(self._move_to)
            lines = self._call("looking up the folder to move to", lambda: client.list('""', move_to))
            found = [line.lower() for line in lines if isinstance(line, bytes)]
            if not found or any(flag in line for line in found for flag in _UNSELECTABLE):
                raise ImapFolderError(
                    f"{url}: there is no folder {self._move_to!r} to move to{self._folders()}"
                )

    def _folders(self) -> str:
        """A hint naming the folders the server has: a folder name may use the wrong hierarchy separator."""
        try:
            typ, lines = self._session().list()
        except (imaplib.IMAP4.error, OSError):
            return ""
        names = []
        for line in lines if typ == "OK" else []:
            match = _LIST_LINE.match(line) if isinstance(line, bytes) else None
            if match and not any(flag in match["flags"].lower() for flag in _UNSELECTABLE):
                name = match["name"].decode("ascii", "replace")
                if name.startswith('"') and name.endswith('"'):
                    name = re.sub(r"\\(.)", r"\1", name[1:-1])
                names.append(decode_folder_name(name))
        shown = ", ".join(sorted(names)[:10]) + (", …" if len(names) > 10 else "")
        return f"; the server has {shown}" if names else ""

    def _sizes(self, uids: Sequence[int]) -> dict[int, int]:
        lines = self._uid("reading message sizes", "FETCH", _uid_set(uids), "(UID RFC822.SIZE)")
        sizes = {}
        for line in lines:
            head = line[0] if isinstance(line, tuple) else line
            uid = _FETCH_UID.search(head) if isinstance(head, bytes) else None
            size = _FETCH_SIZE.search(head) if isinstance(head, bytes) else None
            if uid is not None and size is not None and int(uid[1]) in uids:
                sizes[int(uid[1])] = int(size[1])
        return sizes

    def _fetch(self, uids: Sequence[int]) -> Iterator[ImapMessage]:
        # PEEK leaves \Seen alone until done(); the partial fetch (RFC 3501 section 6.4.5) caps the
        # download even where a server's RFC822.SIZE is wrong.
        limit = self._max_message_bytes + 1
        lines = self._uid("fetching messages", "FETCH", _uid_set(uids), f"(UID BODY.PEEK[]<0.{limit}>)")
        bodies: dict[int, bytes] = {}
        for index, line in enumerate(lines):
            if not isinstance(line, tuple) or b"BODY[]" not in line[0]:
                continue
            found = _FETCH_UID.search(line[0])
            if found is None and index + 1 < len(lines) and isinstance(lines[index + 1], bytes):
                found = _FETCH_UID.search(lines[index + 1])  # the UID came after the literal
            if found is not None and int(found[1]) in uids:
                bodies[int(found[1])] = line[1]
        for uid in uids:
            body = bodies.get(uid)
            if body is None:
                continue  # expunged by another client since the sizes were read
            if len(body) > self._max_message_bytes:
                self.rejected(uid, f"over the limit of {self._max_message_bytes} bytes")
            else:
                yield ImapMessage(uid=uid, data=body)

    def _uid(self, what: str, command: str, *arguments: str) -> list[Any]:
        client = self._session()
        # imaplib keeps every untagged reply until asked for it: flag changes and expunges would pile up.
        for kind in ("FETCH", "EXPUNGE", "SEARCH", "EXISTS", "RECENT"):
            client.untagged_responses.pop(kind, None)
        return self._call(what, lambda: client.uid(command, *arguments))

    def _call(self, what: str, call: Callable[[], tuple[str, list[Any]]]) -> list[Any]:
        try:
            typ, data = call()
        except (imaplib.IMAP4.error, OSError) as error:
            raise self._failure(what, error) from None
        if typ != "OK":
            raise ImapError(f"{self.location.url}: the server refused {what} ({self._detail(data)})")
        return data

    def _session(self) -> _CountingImap:
        if self._client is None:
            raise ImapError(f"{self.location.url}: the connection is closed")
        return self._client

    def _drop(self) -> _CountingImap | None:
        client, self._client = self._client, None
        if client is not None:
            self._received_bytes += client.received_bytes
        return client

    def _failure(self, what: str, error: Exception) -> MimawariError:
        """The one-line error for ``error`` while ``what``."""
        if isinstance(error, MimawariError):
            return error
        url = self.location.url
        if isinstance(error, (OSError, imaplib.IMAP4.abort)) and (client := self._drop()) is not None:
            client.shutdown()  # the connection is in an unknown state: no LOGOUT on it
        if isinstance(error, ssl.SSLCertVerificationError):
            trust = (
                f"the CA file {self._ca_file}"
                if self._ca_file
                else "the system (for a private CA, give its file)"
            )
            return ImapTlsError(
                f"{url}: the server's certificate is not trusted by {trust}: {error.verify_message}"
            )
        if isinstance(error, ssl.SSLError):
            return ImapTlsError(f"{url}: TLS failed while {what} ({error.reason or error})")
        if isinstance(error, TimeoutError):
            return ImapError(f"{url}: no answer within {self._timeout:g} s while {what}")
        if isinstance(error, imaplib.IMAP4.abort):
            return ImapError(f"{url}: the server ended the connection while {what} ({self._detail(error)})")
        if isinstance(error, OSError):
            return ImapError(f"{url}: the connection failed while {what} ({error.strerror or error})")
        return ImapError(f"{url}: the server's answer made no sense while {what} ({self._detail(error)})")

    def _detail(self, source: Exception | Sequence[Any]) -> str:
        """A server's words on one short line, the password masked should a server echo it."""
        parts = source.args if isinstance(source, Exception) else source
        texts = [
            part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
            for part in parts
            if part is not None
        ]
        words = re.sub(r"^command: \S+ => ", "", " ".join(" ".join(texts).split()))
        words = _DOVECOT_TIMING.sub("", words)
        if self._password:
            words = words.replace(self._password, "***")
        return (words[:200] + "…" if len(words) > 200 else words) or "no reason given"


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _groups(uids: Sequence[int], sizes: Mapping[int, int], budget: int) -> Iterator[list[int]]:
    """UIDs in fetches of at most ``budget`` bytes together (one message may be the whole budget): a batch
    never holds more in memory than the largest message allowed."""
    group: list[int] = []
    total = 0
    for uid in uids:
        if group and total + sizes[uid] > budget:
            yield group
            group, total = [], 0
        group.append(uid)
        total += sizes[uid]
    if group:
        yield group
