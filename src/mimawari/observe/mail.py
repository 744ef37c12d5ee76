"""Conversations with SMTP, IMAP and POP3 servers: what a ``ServiceRequest`` asks, as a ``ServiceSession``.

Each step has the client's timeout; a server that stops answering ends the session where it stopped, and
the facts gathered so far are kept (the session is PRESENT, ``detail`` says where it stopped; the checks
grade the facts not reached as unknown). A server that never greets gives TIMEOUT.

What the SMTP session sends, in order (operators reading their logs will ask): ``EHLO <helo>``; with
``vrfy`` ``VRFY postmaster`` and ``EXPN postmaster``; for the relay test ``MAIL FROM:<relay_from>`` (or
``MAIL FROM:<>`` when that sender is refused), ``RCPT TO:<relay_to>``, ``RSET``; for the unknown-recipient
test the same sender, ``RCPT TO:<unknown_recipient>``, ``RSET``; ``STARTTLS``, the handshake,
``EHLO <helo>``; ``QUIT``. DATA only for ``smuggling_recipient`` (``--intrusive``), see ``smuggling``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import replace

from mimawari.model import Status
from mimawari.observe.tcp import ProbeFailure, Stream
from mimawari.observe.tls import TrustStore, upgrade
from mimawari.probes import MailProtocol, Reply, ServiceRequest, ServiceSession, SmugglingProbe

MAX_LINE = 4096
MAX_REPLY_LINES = 100
SMUGGLING_SEQUENCES = ("\n.\n", "\n.\r\n", "\r.\r\n")
"""End-of-data variants of CVE-2023-51764/51765/51766: bare LF and bare CR around the dot."""


class Conversation:
    """Line-oriented talk on a stream, every read bounded by ``timeout`` and ``MAX_LINE``."""

    def __init__(self, stream: Stream, timeout: float) -> None:
        self.stream = stream
        self.timeout = timeout

    async def send(self, line: str) -> None:
        self.stream.writer.write(line.encode("utf-8", errors="replace") + b"\r\n")
        await self._drain()

    async def send_raw(self, data: bytes) -> None:
        self.stream.writer.write(data)
        await self._drain()

    async def _drain(self) -> None:
        try:
            await asyncio.wait_for(self.stream.writer.drain(), self.timeout)
        except TimeoutError:
            raise ProbeFailure(Status.TIMEOUT, "the server stopped reading") from None
        except (OSError, ConnectionError) as exc:
            raise ProbeFailure(Status.ERROR, f"connection lost: {exc}") from None

    async def line(self, timeout: float | None = None) -> str:
        try:
            raw = await asyncio.wait_for(self.stream.reader.readline(), timeout or self.timeout)
        except TimeoutError:
            raise ProbeFailure(Status.TIMEOUT, f"no answer within {timeout or self.timeout:g} s") from None
        except (ValueError, asyncio.LimitOverrunError):
            raise ProbeFailure(Status.ERROR, "the server sent a line too long to be a reply") from None
        except (OSError, ConnectionError) as exc:
            raise ProbeFailure(Status.ERROR, f"connection lost: {exc}") from None
        if not raw:
            raise ProbeFailure(Status.ERROR, "the server closed the connection")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")[:MAX_LINE]

    async def smtp_reply(self, timeout: float | None = None) -> Reply:
        """A whole (multi-line) SMTP reply, RFC 5321 §4.2.1."""
        lines: list[str] = []
        while len(lines) < MAX_REPLY_LINES:
            text = await self.line(timeout)
            code = text[:3]
            if not code.isdigit():
                raise ProbeFailure(Status.ERROR, f"not an SMTP reply: {text[:80]!r}")
            lines.append(text[4:])
            if text[3:4] != "-":
                return Reply(int(code), tuple(lines))
        raise ProbeFailure(Status.ERROR, "an SMTP reply of more than 100 lines")

    async def command(self, line: str) -> Reply:
        await self.send(line)
        return await self.smtp_reply()


def _keywords(reply: Reply) -> tuple[str, ...]:
    """EHLO extensions, keyword upper case, parameters as sent (RFC 5321 §4.1.1.1)."""
    return tuple(_upper_keyword(line) for line in reply.lines[1:])


def _upper_keyword(line: str) -> str:
    keyword, _, parameters = line.strip().partition(" ")
    return f"{keyword.upper()} {parameters}".strip()


def offers(capabilities: tuple[str, ...], keyword: str) -> bool:
    return any(c.split(" ", 1)[0] == keyword for c in capabilities)


class SessionRunner:
    """Runs one request's conversation and keeps what it learned in ``session`` as it goes."""

    def __init__(self, request: ServiceRequest, trust: TrustStore, timeout: float, helo: str) -> None:
        self.request = request
        self.trust = trust
        self.timeout = timeout
        self.helo = request.helo_name or helo
        self.session = ServiceSession(request, Status.PRESENT)

    def note(self, **changes: object) -> None:
        self.session = replace(self.session, **changes)  # type: ignore[arg-type]

    async def run(self, stream: Stream) -> ServiceSession:
        self.note(connect_ms=stream.connect_ms)
        talk = Conversation(stream, self.timeout)
        greeted = False
        try:
            if self.request.implicit_tls and not await self._tls(stream):
                return self.session
            started = time.perf_counter()
            protocol = self.request.protocol
            if protocol is MailProtocol.SMTP:
                greeting = await talk.smtp_reply()
                greeted = True
                self.note(greeting=greeting, greeting_ms=_ms(started))
                await self._smtp(talk, stream)
            else:
                line = await talk.line()
                greeted = True
                self.note(greeting=Reply(0, (line,)), greeting_ms=_ms(started))
                await (
                    self._imap(talk, stream) if protocol is MailProtocol.IMAP else self._pop3(talk, stream)
                )
        except ProbeFailure as failure:
            if not greeted:
                return replace(self.session, status=failure.status, detail=failure.detail)
            self.note(detail=f"the session ended early: {failure.detail}")
        return self.session

    async def _tls(self, stream: Stream) -> bool:
        handshake = await upgrade(stream, self.request.host, self.trust, self.timeout)
        self.note(tls=handshake)
        if self.request.implicit_tls and handshake.status is not Status.PRESENT:
            self.session = replace(self.session, status=handshake.status, detail=handshake.detail)
        return handshake.status is Status.PRESENT

    async def _smtp(self, talk: Conversation, stream: Stream) -> None:
        greeting = self.session.greeting
        if greeting is None or greeting.code != 220:
            await _quietly(talk.send("QUIT"))
            return
        started = time.perf_counter()
        ehlo = await talk.command(f"EHLO {self.helo}")
        self.note(capabilities_ms=_ms(started))
        if ehlo.code != 250:
            await _quietly(talk.send("QUIT"))
            return
        caps = _keywords(ehlo)
        if self.request.implicit_tls:
            self.note(capabilities_tls=caps)
        else:
            self.note(capabilities=caps, starttls_offered=offers(caps, "STARTTLS"))
        request = self.request
        if request.vrfy:
            self.note(vrfy=await talk.command("VRFY postmaster"))
            self.note(expn=await talk.command("EXPN postmaster"))
        sender = request.relay_from
        if request.relay_from and request.relay_to:
            sender = await self._relay(talk)
        if request.unknown_recipient:
            mail = await talk.command(f"MAIL FROM:<{sender}>")
            if mail.positive:
                self.note(unknown_rcpt=await talk.command(f"RCPT TO:<{request.unknown_recipient}>"))
            await talk.command("RSET")
        if request.smuggling_recipient:
            self.note(smuggling=await smuggling(talk, sender, request.smuggling_recipient))
        if self.session.starttls_offered:
            reply = await talk.command("STARTTLS")
            self.note(starttls=reply)
            if reply.code == 220 and await self._tls(stream):
                tls_ehlo = await talk.command(f"EHLO {self.helo}")
                self.note(capabilities_tls=_keywords(tls_ehlo))
        await _quietly(talk.send("QUIT"))

    async def _relay(self, talk: Conversation) -> str:
        """The relay test; returns the sender the server accepted, for the later transactions."""
        request = self.request
        sender = request.relay_from
        mail = await talk.command(f"MAIL FROM:<{sender}>")
        if not mail.positive:
            # A sender domain that does not resolve may be refused; the null sender never is (RFC 5321
            # §4.5.5), and relaying for it is relaying all the same.
            await talk.command("RSET")
            sender = ""
            mail = await talk.command("MAIL FROM:<>")
        self.note(relay_sender=f"<{sender}>", relay_mail=mail)
        if mail.positive:
            self.note(relay_rcpt=await talk.command(f"RCPT TO:<{request.relay_to}>"))
        await talk.command("RSET")
        return sender

    async def _imap(self, talk: Conversation, stream: Stream) -> None:
        caps = await _imap_capabilities(talk, "m1")
        if self.request.implicit_tls:
            self.note(capabilities_tls=caps)
        else:
            self.note(capabilities=caps, starttls_offered="STARTTLS" in caps)
            if "STARTTLS" in caps:
                reply = await _imap_command(talk, "m2", "STARTTLS")
                self.note(starttls=reply)
                if reply.positive and await self._tls(stream):
                    self.note(capabilities_tls=await _imap_capabilities(talk, "m3"))
        await _quietly(_imap_command(talk, "m9", "LOGOUT"))

    async def _pop3(self, talk: Conversation, stream: Stream) -> None:
        caps = await _pop3_capabilities(talk)
        if self.request.implicit_tls:
            self.note(capabilities_tls=caps)
        else:
            self.note(capabilities=caps, starttls_offered=offers(caps, "STLS"))
            if offers(caps, "STLS"):
                await talk.send("STLS")
                reply = Reply(0, (await talk.line(),))
                self.note(starttls=reply)
                if reply.positive and await self._tls(stream):
                    self.note(capabilities_tls=await _pop3_capabilities(talk))
        await _quietly(talk.send("QUIT"))


async def _imap_command(talk: Conversation, tag: str, command: str) -> Reply:
    """Send a tagged command; the untagged lines and the tagged completion (RFC 9051 §2.2.2)."""
    await talk.send(f"{tag} {command}")
    lines: list[str] = []
    while len(lines) < MAX_REPLY_LINES:
        line = await talk.line()
        lines.append(line)
        if line.startswith(f"{tag} "):
            return Reply(0, (line, *lines[:-1]))
    raise ProbeFailure(Status.ERROR, "an IMAP reply of more than 100 lines")


async def _imap_capabilities(talk: Conversation, tag: str) -> tuple[str, ...]:
    reply = await _imap_command(talk, tag, "CAPABILITY")
    for line in reply.lines[1:]:
        if line.upper().startswith("* CAPABILITY "):
            return tuple(word.upper() for word in line.split()[2:])
    return ()


async def _pop3_capabilities(talk: Conversation) -> tuple[str, ...]:
    """CAPA lines (RFC 2449); none when the server does not know CAPA."""
    await talk.send("CAPA")
    if not (await talk.line()).startswith("+OK"):
        return ()
    lines: list[str] = []
    while len(lines) < MAX_REPLY_LINES:
        line = await talk.line()
        if line == ".":
            return tuple(lines)
        lines.append(_upper_keyword(line))
    raise ProbeFailure(Status.ERROR, "a CAPA list of more than 100 lines")


async def smuggling(talk: Conversation, sender: str, recipient: str) -> tuple[SmugglingProbe, ...]:
    """``--intrusive`` only: one message per end-of-data variant, to the recipient the user named.

    After the variant the client waits briefly: a server that ends the DATA there answers 250 at once
    (it would also end a smuggled message there: exposed); one that does not waits for more, and the
    standard ``<CRLF>.<CRLF>`` then ends the message properly.
    """
    results = []
    for number, sequence in enumerate(SMUGGLING_SEQUENCES, 1):
        escaped = sequence.encode("unicode_escape").decode("ascii")
        mail = await talk.command(f"MAIL FROM:<{sender}>")
        rcpt = await talk.command(f"RCPT TO:<{recipient}>") if mail.positive else mail
        data = await talk.command("DATA") if rcpt.positive else rcpt
        if data.code != 354:
            await talk.command("RSET")
            results.append(SmugglingProbe(escaped, Status.ERROR, detail=f"not accepted: {data.describe()}"))
            continue
        body = (
            f"Subject: mimawari SMTP smuggling test {number}/{len(SMUGGLING_SEQUENCES)}\r\n"
            f"From: <{sender}>\r\nTo: <{recipient}>\r\n\r\n"
            f"This test message checks how the server ends DATA ({escaped}).\r\n"
        )
        await talk.send_raw(body.encode("ascii") + sequence.encode("ascii"))
        try:
            early = await talk.smtp_reply(timeout=min(talk.timeout, 3.0))
        except ProbeFailure as failure:
            if failure.status is not Status.TIMEOUT:
                raise
            early = None
        if early is not None:
            results.append(SmugglingProbe(escaped, Status.PRESENT, True, f"ended DATA: {early.describe()}"))
            continue
        await talk.send_raw(b"\r\n.\r\n")
        final = await talk.smtp_reply()
        results.append(
            SmugglingProbe(escaped, Status.PRESENT, False, f"waited for <CRLF>.<CRLF>: {final.describe()}")
        )
    return tuple(results)


async def _quietly(step: Awaitable[object]) -> None:
    """A polite last word (QUIT, LOGOUT) whose failure changes nothing."""
    with contextlib.suppress(ProbeFailure):
        await step


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
