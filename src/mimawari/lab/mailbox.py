"""The lab's mailbox servers: minimal IMAP (RFC 9051 / RFC 3501) and POP3 (RFC 1939, RFC 2449, RFC 2595).

Enough of each protocol for a scan to see what a client sees before it logs in: the greeting, the
capabilities, STARTTLS / STLS, and whether a password would be sent in clear text. Nobody ever logs in.

IMAP (``ImapOptions``): greeting ``* OK [CAPABILITY …] <banner>``; ``CAPABILITY``, ``NOOP``, ``LOGOUT``,
``STARTTLS``; before TLS ``LOGINDISABLED`` is advertised (RFC 9051 §6.2.3) and ``LOGIN`` /
``AUTHENTICATE`` refused with ``[PRIVACYREQUIRED]``, unless ``login_before_tls``; otherwise
``AUTH=PLAIN`` is advertised and every login fails with ``[AUTHENTICATIONFAILED]``. Anything else is
``BAD``.

POP3 (``Pop3Options``): greeting ``+OK <banner>``; ``CAPA`` (RFC 2449), ``STLS`` (RFC 2595 §4),
``USER`` / ``PASS`` / ``AUTH``, ``QUIT``; before TLS ``USER`` and ``SASL PLAIN`` are listed, and
``USER`` accepted, only with ``user_before_tls`` (RFC 2595 §2.1 lets a server refuse clear-text
passwords). Anything else is ``-ERR``.

``capabilities`` adds words to the lists (``ID``, ``IDLE``, ``IMPLEMENTATION Dovecot``…): advertised only,
for fingerprinting, not implemented. Implicit TLS (993, 995; RFC 8314) starts with the handshake.

``Tarpit`` serves any protocol with ``stall: true``: it accepts connections and never says a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass

from mimawari.errors import LabError

LINE_LIMIT = 8192
"""Longest command line read (RFC 9051 §4 asks servers to take at least 8192 octets; POP3 needs 255)."""
BAD_COMMANDS = 10
"""Unknown or malformed commands tolerated before the server hangs up (as Dovecot does)."""
IDLE_TIMEOUT = 60.0
"""Seconds a client may stay silent before the server hangs up."""


@dataclass(frozen=True)
class ImapOptions:
    banner: str = "IMAP server ready."
    starttls: bool = True
    implicit_tls: bool = False
    login_before_tls: bool = False
    capabilities: tuple[str, ...] = ()
    slow: float = 0.0


@dataclass(frozen=True)
class Pop3Options:
    banner: str = "POP3 server ready."
    stls: bool = True
    implicit_tls: bool = False
    user_before_tls: bool = False
    capabilities: tuple[str, ...] = ()
    slow: float = 0.0


class _Hangup(Exception):
    """The client went away, sent an overlong line, or failed the TLS handshake: end the session."""


class _Channel:
    """One client connection: lines in and out, and the switch to TLS."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def tls(self) -> bool:
        return self.writer.get_extra_info("ssl_object") is not None

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode("utf-8", "replace"))
        await self.writer.drain()

    async def line(self) -> str:
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                data = await self.reader.readuntil(b"\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
            raise _Hangup from exc
        return data.decode("utf-8", "replace").rstrip("\r\n")

    async def start_tls(self, context: ssl.SSLContext) -> None:
        # The OK was written just before with no await in between, so no ClientHello byte can have
        # been read into the clear-text buffer yet: start_tls pauses reading before it yields.
        try:
            await self.writer.start_tls(context)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            raise _Hangup from exc


class _MailboxListener(ABC):
    """A loopback listener running one session coroutine per client; ``stop`` ends them all."""

    protocol = "mailbox"

    def __init__(self, tls: ssl.SSLContext | None, implicit_tls: bool, slow: float, host: str) -> None:
        self.host = host
        self._tls = tls
        self._implicit = implicit_tls
        self._slow = slow
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._stopped = False

    @property
    def port(self) -> int:
        if self._server is None:
            raise LabError(f"the lab {self.protocol} server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> int:
        """Sessions open right now."""
        return len(self._sessions)

    async def start(self) -> None:
        # Implicit TLS too is accepted in clear and upgraded by the session (see _serve), so every
        # connection has a task from its first byte and stop() can end a handshake in progress.
        try:
            self._server = await asyncio.start_server(self._serve, self.host, 0, limit=LINE_LIMIT)
        except OSError as exc:
            raise LabError(f"lab {self.protocol} cannot listen on {self.host}: {exc.strerror}") from None

    async def stop(self) -> None:
        self._stopped = True
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopped:  # accepted just before the listener closed
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        channel = _Channel(reader, writer)
        try:
            if self._implicit:
                await self.upgrade(channel)  # RFC 8314 §3.3: TLS from the first byte
            if self._slow > 0:
                await asyncio.sleep(self._slow)
            await self.converse(channel)
        except (_Hangup, ConnectionError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels a session. Ending normally keeps asyncio's stream callback, which asks
            # the task for its exception, from logging the cancellation as an error.
            writer.transport.abort()
            return
        finally:
            self._sessions.discard(task)
        with contextlib.suppress(Exception):
            writer.close()

    @abstractmethod
    async def converse(self, channel: _Channel) -> None:
        """The protocol's side of one session, from greeting to goodbye."""

    async def upgrade(self, channel: _Channel) -> None:
        assert self._tls is not None
        await channel.start_tls(self._tls)


class ImapListener(_MailboxListener):
    protocol = "IMAP"

    def __init__(self, options: ImapOptions, *, tls: ssl.SSLContext | None, host: str = "127.0.0.1") -> None:
        super().__init__(tls, options.implicit_tls, options.slow, host)
        self.options = options

    def capabilities(self, tls: bool) -> str:
        words = ["IMAP4rev1", *self.options.capabilities]
        if self.options.starttls and self._tls is not None and not tls:
            words.append("STARTTLS")
        words.append("AUTH=PLAIN" if tls or self.options.login_before_tls else "LOGINDISABLED")
        return " ".join(words)

    async def converse(self, channel: _Channel) -> None:
        await channel.send(f"* OK [CAPABILITY {self.capabilities(channel.tls)}] {self.options.banner}")
        bad = 0
        while bad < BAD_COMMANDS:
            tag, _, rest = (await channel.line()).partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            if not tag or not command or any(c in tag for c in '(){%*"\\]+'):
                await channel.send("* BAD Error in IMAP command received by server.")
                bad += 1
            elif command == "CAPABILITY":
                await channel.send(
                    f"* CAPABILITY {self.capabilities(channel.tls)}", f"{tag} OK Capability completed."
                )
            elif command == "NOOP":
                await channel.send(f"{tag} OK NOOP completed.")
            elif command == "LOGOUT":
                await channel.send("* BYE Logging out", f"{tag} OK Logout completed.")
                return
            elif command == "STARTTLS" and channel.tls:
                await channel.send(f"{tag} BAD TLS is already active.")
            elif command == "STARTTLS" and self.options.starttls and self._tls is not None:
                await channel.send(f"{tag} OK Begin TLS negotiation now.")
                await self.upgrade(channel)
            elif command in ("LOGIN", "AUTHENTICATE"):
                await self.refuse_login(channel, tag, command, arguments)
            else:
                await channel.send(f"{tag} BAD Error in IMAP command {command or '(none)'}: Unknown command.")
                bad += 1
        await channel.send("* BYE Too many invalid IMAP commands.")

    async def refuse_login(self, channel: _Channel, tag: str, command: str, arguments: str) -> None:
        if not channel.tls and not self.options.login_before_tls:
            # RFC 9051 §6.2.3: with LOGINDISABLED advertised, LOGIN must not succeed in clear text.
            text = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
            await channel.send(f"{tag} NO [PRIVACYREQUIRED] {text}")
            return
        mechanism, _, initial = arguments.partition(" ")
        if command == "AUTHENTICATE" and mechanism.upper() != "PLAIN":
            await channel.send(f"{tag} NO [CANNOT] Unsupported authentication mechanism.")
            return
        if command == "AUTHENTICATE" and not initial:
            await channel.send("+ ")  # RFC 9051 §6.2.2: an empty challenge asks for the response
            if (await channel.line()).strip() == "*":
                await channel.send(f"{tag} BAD Authentication aborted by client.")
                return
        await channel.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")


class Pop3Listener(_MailboxListener):
    protocol = "POP3"

    def __init__(self, options: Pop3Options, *, tls: ssl.SSLContext | None, host: str = "127.0.0.1") -> None:
        super().__init__(tls, options.implicit_tls, options.slow, host)
        self.options = options

    def capabilities(self, tls: bool) -> list[str]:
        words = ["CAPA", "RESP-CODES", "AUTH-RESP-CODE"]
        if self.options.stls and self._tls is not None and not tls:
            words.append("STLS")
        if tls or self.options.user_before_tls:
            words += ["USER", "SASL PLAIN"]
        return words + list(self.options.capabilities)

    async def converse(self, channel: _Channel) -> None:
        await channel.send(f"+OK {self.options.banner}")
        bad, user = 0, ""
        while bad < BAD_COMMANDS:
            command, _, argument = (await channel.line()).partition(" ")
            command = command.upper()
            login_allowed = channel.tls or self.options.user_before_tls
            if command == "CAPA":
                await channel.send("+OK Capability list follows", *self.capabilities(channel.tls), ".")
            elif command == "QUIT":
                await channel.send("+OK Logging out.")
                return
            elif command == "STLS" and channel.tls:
                await channel.send("-ERR Command not permitted when TLS active")
            elif command == "STLS" and self.options.stls and self._tls is not None:
                await channel.send("+OK Begin TLS negotiation now.")
                await self.upgrade(channel)
                user = ""  # RFC 2595 §4: the client must forget what it knew; so does the server
            elif command in ("USER", "PASS", "AUTH") and not login_allowed:
                text = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
                await channel.send(f"-ERR [AUTH] {text}")
            elif command == "USER" and argument:
                user = argument
                await channel.send("+OK")
            elif command == "PASS" and not user:
                await channel.send("-ERR No username given.")
            elif command == "PASS" or (command == "AUTH" and argument.upper().startswith("PLAIN ")):
                user = ""
                await channel.send("-ERR [AUTH] Authentication failed.")
            elif command == "AUTH" and argument.upper() == "PLAIN":
                await channel.send("+ ")  # RFC 5034 §4: empty challenge, then the client's response
                reply = "-ERR Authentication aborted." if (await channel.line()).strip() == "*" else ""
                await channel.send(reply or "-ERR [AUTH] Authentication failed.")
            else:
                await channel.send("-ERR Unknown command.")
                bad += 1
        await channel.send("-ERR Too many bad commands.")


class Tarpit:
    """A ``stall: true`` service: accepts connections and never says a word, not even a TLS handshake.

    What a scanner meets at an overloaded or tarpitting MTA; its timeouts must turn this into
    "unknown", never into "no STARTTLS".
    """

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self._server: asyncio.Server | None = None
        self.connections: set[asyncio.Transport] = set()
        self.stopped = False

    @property
    def port(self) -> int:
        if self._server is None:
            raise LabError("the lab tarpit is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> int:
        return len(self.connections)

    async def start(self) -> None:
        try:
            self._server = await asyncio.get_running_loop().create_server(
                lambda: _Silence(self), self.host, 0
            )
        except OSError as exc:
            raise LabError(f"lab tarpit cannot listen on {self.host}: {exc.strerror}") from None

    async def stop(self) -> None:
        self.stopped = True
        if self._server is not None:
            self._server.close()
        for transport in list(self.connections):
            transport.abort()
        if self._server is not None:
            await self._server.wait_closed()


class _Silence(asyncio.Protocol):
    def __init__(self, tarpit: Tarpit) -> None:
        self._tarpit = tarpit
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self._tarpit.stopped:  # accepted just before the tarpit closed
            transport.abort()
            return
        self._transport = transport
        self._tarpit.connections.add(transport)

    def data_received(self, data: bytes) -> None:
        """Whatever the client says is dropped unread."""

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._tarpit.connections.discard(self._transport)
