"""The lab's SMTP server: aiosmtpd, set up to behave like the MTAs a scan meets, good and bad.

One ``SmtpListener`` is one listening socket standing for one (address, port) of a lab mail host. What
it does is set by ``SmtpOptions``; replies follow Postfix's wording, so a scanner meets the texts it
will meet on the internet:

* greeting: ``220 <banner>`` (default ``<host> ESMTP``), after ``slow`` seconds;
* EHLO: ``PIPELINING``, ``SIZE``, ``VRFY`` when enabled, ``STARTTLS`` when offered and not yet in TLS,
  ``AUTH PLAIN LOGIN`` where ``auth`` places it, ``ENHANCEDSTATUSCODES``, ``8BITMIME``;
* STARTTLS (RFC 3207) or implicit TLS from the first byte (RFC 8314, port 465);
* AUTH (RFC 4954): never succeeds; refused before TLS with ``auth: after-tls`` (Postfix's
  ``smtpd_tls_auth_only``), unknown with ``auth: none``;
* RCPT TO: a domain outside ``local_domains`` gets ``554 5.7.1 … Relay access denied`` unless
  ``open_relay``; an unknown local user gets ``550 5.1.1 … User unknown`` unless ``accept_unknown``
  (accept-then-bounce: the message would be bounced later, which is backscatter);
* VRFY: ``502 5.5.1 VRFY command is disabled`` (Postfix ``disable_vrfy_command = yes``) unless
  ``vrfy``; EXPN: ``502 5.5.2 Error: command not recognized`` (Postfix has none) unless ``expn``;
* DATA: only ``<CR><LF>.<CR><LF>`` ends the message (RFC 5321 §4.1.1.4), unless ``smuggling``: then
  every bare LF ends a line, so ``<LF>.<LF>`` and ``<LF>.<CR><LF>`` end it too, the flaw behind
  CVE-2023-51764 (SMTP smuggling). Accepted messages are kept in a list and never relayed.

Nothing sent to the lab leaves it. Stalling servers (connect, then silence) are ``mailbox.Tarpit``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from asyncio import sslproto
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mimawari.errors import LabError
from mimawari.lab.smtp_policy import (
    IDLE_TIMEOUT,
    MESSAGES_KEPT,
    SIZE_LIMIT,
    AuthPlacement,
    ReceivedMessage,
    SmtpOptions,
    expn_reply,
    rcpt_reply,
    vrfy_reply,
)

log = logging.getLogger(__name__)


def _tls_active(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class _Policy:
    """aiosmtpd's handler hooks: the replies that depend on ``SmtpOptions``."""

    def __init__(self, options: SmtpOptions, deliver: Callable[[Envelope], None]) -> None:
        self.options = options
        self.deliver = deliver
        self.queued = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to a handler that answers EHLO itself
        options, tls = self.options, _tls_active(server)
        keywords = ["PIPELINING", f"SIZE {SIZE_LIMIT}"]
        if options.vrfy:
            keywords.append("VRFY")
        if server.tls_context is not None and not tls:
            keywords.append("STARTTLS")
        if options.auth is AuthPlacement.BEFORE_TLS or (options.auth is AuthPlacement.AFTER_TLS and tls):
            keywords.append("AUTH PLAIN LOGIN")
        keywords += ["ENHANCEDSTATUSCODES", "8BITMIME"]
        lines = [options.host, *keywords]
        return [f"250-{line}" for line in lines[:-1]] + [f"250 {lines[-1]}"]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = rcpt_reply(self.options, address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.deliver(envelope)
        self.queued += 1
        return f"250 2.0.0 Ok: queued as LAB{self.queued:07X}"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 2.0.0 Ok"

    async def handle_NOOP(self, server: SMTP, session: Session, envelope: Envelope, arg: str) -> str:
        return "250 2.0.0 Ok"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "221 2.0.0 Bye"

    async def handle_exception(self, error: Exception) -> str:
        # A failed STARTTLS handshake lands here too; a lab server keeps quiet about its clients' errors.
        log.debug("lab SMTP session error: %r", error)
        return "421 4.3.0 Error: internal error"


def _retrieve(task: asyncio.Task[None]) -> None:
    # aiosmtpd re-raises ConnectionResetError from its session task; nobody awaits that task, so
    # collect the outcome here instead of letting asyncio log "exception was never retrieved".
    if not task.cancelled():
        task.exception()


class _Sessions:
    """The live sessions of one listener, and whether it has stopped (late arrivals are dropped)."""

    def __init__(self) -> None:
        self.live: set[_LabSmtp] = set()
        self.stopped = False


class _LabSmtp(SMTP):
    """aiosmtpd's protocol with the lab's banner, implicit TLS, VRFY/EXPN/AUTH placement and DATA end."""

    def __init__(
        self,
        policy: _Policy,
        *,
        starttls: ssl.SSLContext | None,
        implicit_tls: ssl.SSLContext | None,
        sessions: _Sessions,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(
            policy,
            hostname=policy.options.host,
            tls_context=starttls,
            auth_require_tls=False,  # placement is decided in smtp_AUTH and handle_EHLO
            data_size_limit=SIZE_LIMIT,
            timeout=IDLE_TIMEOUT,
            loop=loop,
        )
        self.options = policy.options
        self._implicit_tls = implicit_tls
        self._sessions = sessions
        self._greeted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.session is not None:  # again after the TLS handshake, with the TLS transport
            super().connection_made(transport)
            return
        if self._sessions.stopped:  # accepted just before the listener closed
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
            return
        super().connection_made(transport)
        self._sessions.live.add(self)
        task = self.session_task
        if task is not None:
            task.add_done_callback(_retrieve)

    def connection_lost(self, error: Exception | None) -> None:
        if self.session is None:
            return  # dropped in connection_made: aiosmtpd never saw it
        self._sessions.live.discard(self)
        super().connection_lost(error)

    @property
    def session_task(self) -> asyncio.Task[None] | None:
        task: asyncio.Task[None] | None = self._handler_coroutine
        return task

    def abort(self) -> None:
        """End the session at once (lab stop), even in the middle of a TLS handshake.

        A connection aborted mid-handshake never reaches aiosmtpd's ``connection_lost``, so the session
        task and its idle timer are ended here rather than left waiting for a line that cannot come.
        """
        for transport in (self.transport, self._original_transport):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        if self.session_task is not None:
            self.session_task.cancel()

    async def push(self, status: Any) -> None:
        # aiosmtpd greets with "220 <hostname> <ident>"; the lab's banner is free text, and may come late.
        if not self._greeted:
            self._greeted = True
            try:
                if self._implicit_tls is not None and not await self._handshake(self._implicit_tls):
                    return
                if self.options.slow > 0:
                    await asyncio.sleep(self.options.slow)
            except asyncio.CancelledError:
                # The client hung up before the greeting (aiosmtpd cancels on EOF): close our side too,
                # which aiosmtpd only does for a cancellation inside its command loop.
                if self.transport is not None:
                    self.transport.close()
                raise
            status = f"220 {self.options.greeting}"
        await super().push(status)

    async def _handshake(self, context: ssl.SSLContext) -> bool:
        """Implicit TLS (RFC 8314 §3.3): the handshake before the greeting.

        aiosmtpd only upgrades on STARTTLS; this is its ``smtp_STARTTLS`` without the "220 Ready" line,
        run on a plain accepted connection so that the session task exists from the first byte and
        ``abort`` can end a handshake in progress (``create_server(ssl=...)`` hides those until done).
        """
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._tls_protocol = sslproto.SSLProtocol(self.loop, self, context, waiter, server_side=True)
        self._original_transport = self.transport
        assert isinstance(self._original_transport, asyncio.Transport)
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except (OSError, ssl.SSLError) as exc:
            log.debug("lab SMTP implicit TLS handshake failed: %r", exc)
            self._original_transport.abort()
            self.connection_lost(None)  # as aiosmtpd does after a failed STARTTLS
            return False
        return True

    def _address(self, arg: str | None) -> str | None:
        if not arg:
            return None
        address, _params = self._getaddr(arg)
        return address or None

    async def smtp_VRFY(self, arg: str | None) -> None:
        address = self._address(arg)
        if self.options.vrfy and address is None:
            await self.push("501 5.5.4 Syntax: VRFY address")
            return
        await self.push(vrfy_reply(self.options, address or ""))

    async def smtp_EXPN(self, arg: str | None) -> None:
        address = self._address(arg)
        if self.options.expn and address is None:
            await self.push("501 5.5.4 Syntax: EXPN address")
            return
        await self.push(expn_reply(self.options, address or ""))

    async def smtp_AUTH(self, arg: str) -> None:
        if self.options.auth is AuthPlacement.NONE:
            await self.push("502 5.5.2 Error: command not recognized")
        elif self.options.auth is AuthPlacement.AFTER_TLS and not _tls_active(self):
            await self.push("503 5.5.1 Error: authentication not enabled")
        else:
            await super().smtp_AUTH(arg)

    async def smtp_STARTTLS(self, arg: str) -> None:
        if _tls_active(self):
            await self.push("554 5.5.1 Error: TLS already active")
        elif self.tls_context is None:
            await self.push("502 5.5.1 Error: command not recognized")
        else:
            await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg: str) -> None:
        if not self.options.smuggling:
            await super().smtp_DATA(arg)
            return
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content = await self._read_lf_data()
        if content is None:
            self.envelope = self._create_envelope()  # aiosmtpd's post-DATA reset
            await self.push("552 5.3.4 Error: message file too big")
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self.envelope = self._create_envelope()  # aiosmtpd's post-DATA reset
        await self.push(status)

    async def _read_lf_data(self) -> bytes | None:
        """The message up to a lone dot on a line, where any LF ends a line (the smuggling flaw)."""
        reader: asyncio.StreamReader = self._reader
        lines: list[bytes] = []
        size, at_line_start, too_big = 0, True, False
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as overrun:
                # An overlong line: drop it (RFC 5321 §4.5.3.1.6) but keep reading to the end of data.
                await reader.readexactly(overrun.consumed)
                too_big, at_line_start = True, False
                continue
            if at_line_start and line in (b".\n", b".\r\n"):
                return None if too_big else b"".join(lines)
            at_line_start = True
            size += len(line)
            too_big = too_big or size > SIZE_LIMIT
            if not too_big:
                lines.append(line[1:] if line.startswith(b".") else line)


class SmtpListener:
    """One lab SMTP listener on a loopback port, standing for ``address``:``port``."""

    def __init__(
        self,
        options: SmtpOptions,
        *,
        address: str,
        port: int,
        tls: ssl.SSLContext | None,
        messages: list[ReceivedMessage],
        host: str = "127.0.0.1",
    ) -> None:
        self.options = options
        self.address = address
        self.public_port = port
        self.host = host
        self._tls = tls
        self._messages = messages
        self._policy = _Policy(options, self._deliver)
        self._sessions = _Sessions()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise LabError("the lab SMTP server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> int:
        """Sessions open right now."""
        return len(self._sessions.live)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        implicit = self._tls if self.options.implicit_tls else None
        starttls = self._tls if self.options.starttls and implicit is None else None

        def session() -> _LabSmtp:
            return _LabSmtp(
                self._policy, starttls=starttls, implicit_tls=implicit, sessions=self._sessions, loop=loop
            )

        try:
            self._server = await loop.create_server(session, self.host, 0)
        except OSError as exc:
            raise LabError(
                f"lab SMTP for {self.options.host} cannot listen on {self.host}: {exc.strerror}"
            ) from None

    async def stop(self) -> None:
        self._sessions.stopped = True
        if self._server is not None:
            self._server.close()
        sessions = list(self._sessions.live)
        self._sessions.live.clear()
        for session in sessions:
            session.abort()
        tasks = [task for task in (s.session_task for s in sessions) if task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _deliver(self, envelope: Envelope) -> None:
        content = envelope.original_content or b""
        message = ReceivedMessage(
            self.options.host,
            self.address,
            self.public_port,
            envelope.mail_from or "",
            tuple(envelope.rcpt_tos),
            content,
        )
        self._messages.append(message)
        del self._messages[:-MESSAGES_KEPT]
