"""The milter: Postfix or Sendmail hands each message over the milter protocol; we answer at end of data.

    server = MilterServer(Gateway(policy))
    host, port = await server.start("127.0.0.1", 8899)
    await server.serve_until(stop)           # an asyncio.Event
    # Postfix main.cf: smtpd_milters = inet:127.0.0.1:8899, milter_default_action = tempfail

Why our own implementation of the protocol: pymilter is a binding to Sendmail's libmilter, a C build
dependency, and is GPL-2 (the project takes permissive or LGPL code only); purepythonmilter had one 0.0.1
release and an open report of sessions hanging; kilter-protocol is young and would still leave us the
server. The protocol is small (``milter_protocol``: fifteen commands, a dozen replies), and owning the
server is what lets us keep the promises the issue makes: every connection is a task on one event loop,
so many concurrent connections cost a buffer each, not a thread each; a peer that disconnects mid-message
ends its task quietly (one log line, its buffer freed); a message past ``Budgets.max_message_bytes`` stops
being buffered (the MTA is told to skip the rest of the body where it can) and gets the ``error`` action;
a packet over ``MAX_PACKET``, an unknown command or a broken field closes that connection with a line in
the log, and the MTA applies its ``milter_default_action`` (tempfail, please).

The detector runs in a thread pool (``milter.workers`` threads), not in a process pool: handing a
message to a process would copy it (pickled, up to the size cap) for every message, while the expensive
parts of the work (inflate, LZMA, AES key derivation is not attempted) run in C and release the GIL; the
event loop keeps serving other connections while a thread inspects. A detector that overruns its own
time budget by far is abandoned (``error``: tempfail by default), its thread left to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mimawari.gateway import milter_protocol as wire
from mimawari.gateway.enforce import Enforcement, Gateway
from mimawari.gateway.policy import Envelope, Failure
from mimawari.gateway.strip import HeaderEdit
from mimawari.gateway.verdict import Inspection

log = logging.getLogger(__name__)
_NEWLINES = re.compile(rb"\r?\n")


@dataclass
class _Message:
    """One message in a session, from MAIL to end of data (mutable on purpose: it is being received)."""

    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    size: int = 0
    overflow: bool = False


class MilterServer:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        limits = gateway.policy.milter
        self.max_connections = limits.max_connections
        self.idle_timeout = limits.idle_timeout
        self._pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="mimawari-inspect")
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self.completed = 0
        """Messages answered at end of data (for tests and the shutdown line)."""

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the address bound (``port`` 0 picks a free one)."""
        self._server = await asyncio.start_server(self._session, host, port)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def serve_until(self, stop: asyncio.Event) -> None:
        await stop.wait()
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = _peer(writer)
        if len(self._sessions) >= self.max_connections:
            log.warning("milter: %s: refused, already %d connections", peer, len(self._sessions))
            writer.close()
            return
        self._sessions.add(task)
        session = _Session(self, reader, writer)
        try:
            await session.run()
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            log.info("milter: %s: connection lost%s (%s)", peer, session.where(), type(error).__name__)
        except TimeoutError:
            log.info(
                "milter: %s: closed after %.0f s without a packet%s", peer, self.idle_timeout, session.where()
            )
        except wire.ProtocolError as error:
            log.warning("milter: %s: closing: %s", peer, error)
        except asyncio.CancelledError:
            # The server is closing. Not re-raised: asyncio's stream server (3.11) logs a cancelled
            # connection task as an error with a traceback.
            log.info("milter: %s: closed on shutdown%s", peer, session.where())
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5)

    async def conclude(self, envelope: Envelope, message: _Message) -> Enforcement:
        """Inspect and decide in the pool, leaving the event loop free for other connections."""
        loop = asyncio.get_running_loop()
        headers = [(_text(n), _text(v)) for n, v in message.headers]
        raw: bytes | None = None
        outcome: Inspection | Failure
        if message.overflow:
            outcome = Failure(f"larger than {self.gateway.max_message_bytes} bytes: not inspected")
        else:
            raw = message_bytes(message.headers, bytes(message.body))
            message.body.clear()
            try:
                outcome = await asyncio.wait_for(
                    loop.run_in_executor(self._pool, self.gateway.inspect, raw), self.gateway.inspect_timeout
                )
            except TimeoutError:
                outcome = Failure(f"not inspected within {self.gateway.inspect_timeout:g} s")
        # Keeping, stripping and the audit line's fsync block too, but must happen even when the
        # pool is taken by a detector that ran over: they go to the loop's default executor.
        return await asyncio.to_thread(self.gateway.enforce, envelope, headers, raw, outcome)


class _Session:
    """One MTA connection: option negotiation, then any number of SMTP sessions (``QUIT_NC``), each
    with any number of messages."""

    def __init__(self, server: MilterServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.steps = wire.Step(0)
        self.actions = wire.Action(0)
        self.macros: dict[str, str] = {}
        self.client_name = ""
        self.client_address = ""
        self.message: _Message | None = None

    def where(self) -> str:
        if self.message is None:
            return ""
        queue_id = self.macros.get("i", "")
        return f" mid-message{f' (queue id {queue_id})' if queue_id else ''}"

    async def _packet(self) -> tuple[bytes, bytes]:
        prefix = await asyncio.wait_for(self.reader.readexactly(4), self.server.idle_timeout)
        length = wire.packet_length(prefix)
        data = await asyncio.wait_for(self.reader.readexactly(length), self.server.idle_timeout)
        return data[:1], data[1:]

    async def _send(self, *packets: bytes) -> None:
        self.writer.write(b"".join(packets))
        await self.writer.drain()

    async def _answer(self, command: bytes, reply: bytes = wire.CONTINUE) -> None:
        """The reply to a step, unless we negotiated that the MTA does not wait for one."""
        no_reply = wire.NO_REPLY_STEPS.get(command)
        if no_reply is None or not self.steps & no_reply:
            await self._send(wire.packet(reply))

    async def run(self) -> None:
        while True:
            command, data = await self._packet()
            if command == wire.QUIT:
                return
            if command in (wire.MAIL, wire.RCPT, wire.HEADER, wire.BODY, wire.BODYEOB):
                await self._message_step(command, data)
            else:
                await self._session_step(command, data)

    async def _session_step(self, command: bytes, data: bytes) -> None:
        if command == wire.OPTNEG:
            answer = wire.negotiate(wire.parse_optneg(data))
            self.steps, self.actions = answer.steps, answer.actions
            await self._send(wire.optneg_reply(answer))
        elif command == wire.MACRO:
            _, macros = wire.parse_macros(data)
            self.macros.update(macros)
        elif command == wire.CONNECT:
            connect = wire.parse_connect(data)
            self.client_name, self.client_address = connect.host, connect.address
            await self._answer(command)
        elif command == wire.ABORT:
            self.message = None
        elif command == wire.QUIT_NC:
            # The MTA reuses this connection for its next SMTP client: forget this one.
            self.message, self.macros, self.client_name, self.client_address = None, {}, "", ""
        elif command in (wire.HELO, wire.DATA, wire.UNKNOWN, wire.EOH):
            await self._answer(command)
        else:
            raise wire.ProtocolError(f"unknown command {command!r}")

    async def _message_step(self, command: bytes, data: bytes) -> None:
        if command == wire.MAIL:
            self.message = _Message(sender=wire.envelope_address(data))
            await self._answer(command)
        elif command == wire.RCPT:
            self._current().recipients.append(wire.envelope_address(data))
            await self._answer(command)
        elif command == wire.HEADER:
            self._header(*wire.parse_header(data))
            await self._answer(command)
        elif command == wire.BODY:
            await self._answer(command, self._body(data))
        else:  # end of data, with a last chunk of body in some MTAs
            if data:
                self._body(data)
            await self._end_of_message()

    def _current(self) -> _Message:
        if self.message is None:  # Postfix sends MAIL first; a header or body before it is a broken peer
            self.message = _Message(sender=self.macros.get("mail_addr", ""))
        return self.message

    def _count(self, message: _Message, size: int) -> bool:
        """Count ``size`` more bytes; False (and the buffer dropped) once the message is past the cap."""
        message.size += size
        if not message.overflow and message.size > self.server.gateway.max_message_bytes:
            message.overflow = True
            message.headers.clear()
            message.body = bytearray()
            log.info(
                "milter: message%s over %d bytes: no longer buffered",
                self.where(),
                self.server.gateway.max_message_bytes,
            )
        return not message.overflow

    def _header(self, name: bytes, value: bytes) -> None:
        message = self._current()
        if not self.steps & wire.Step.HDR_LEADSPC:
            value = b" " + value  # the MTA took the space after the colon away
        if self._count(message, len(name) + len(value) + 3):
            message.headers.append((name, value))

    def _body(self, chunk: bytes) -> bytes:
        message = self._current()
        if self._count(message, len(chunk)):
            message.body += chunk
            return wire.CONTINUE
        return wire.SKIP if self.steps & wire.Step.SKIP else wire.CONTINUE

    async def _end_of_message(self) -> None:
        message = self._current()
        message_id = next((_text(v).strip() for n, v in message.headers if n.lower() == b"message-id"), "")
        envelope = Envelope(
            sender=message.sender or self.macros.get("mail_addr", ""),
            recipients=tuple(message.recipients) or tuple(filter(None, [self.macros.get("rcpt_addr")])),
            queue_id=self.macros.get("i", ""),
            client_address=self.client_address or self.macros.get("client_addr", ""),
            client_name=self.client_name or self.macros.get("_", ""),
            message_id=message_id,
        )
        result = await self.server.conclude(envelope, message)
        self.message = None
        await self._send(*self._replies(result, message.headers))
        self.server.completed += 1

    def _replies(self, result: Enforcement, headers: list[tuple[bytes, bytes]]) -> list[bytes]:
        if result.reply is not None:
            reply = result.reply
            return [wire.reply_code(str(reply.code), reply.status, list(reply.lines))]
        if result.discard:
            return [wire.packet(wire.DISCARD)]
        packets = []
        names = [_text(name).lower() for name, _ in headers]
        for edit in result.header_edits:
            packets += self._header_packets(edit, names.count(edit.name.lower()))
        if result.body is not None:
            if not self.actions & wire.Action.CHGBODY:
                log.error("milter: the MTA does not let us replace the body: tempfail instead of strip")
                config = self.server.gateway.policy.tempfail
                return [wire.reply_code(str(config.code), config.status, [config.text.en])]
            packets += wire.replace_body(result.body)
        return [*packets, wire.packet(wire.ACCEPT)]

    def _header_packets(self, edit: HeaderEdit, present: int) -> list[bytes]:
        lead = " " if self.steps & wire.Step.HDR_LEADSPC else ""
        # Highest index first: whether the MTA renumbers after a deletion or not, the others stay put.
        deletions = [wire.change_header(edit.name, index, "") for index in range(present, 1, -1)]
        if edit.value is None:
            packets = [*deletions, wire.change_header(edit.name, 1, "")] if present else []
            needed = wire.Action.CHGHDRS
        elif present:
            packets, needed = (
                [*deletions, wire.change_header(edit.name, 1, lead + edit.value)],
                wire.Action.CHGHDRS,
            )
        else:
            packets, needed = [wire.add_header(edit.name, lead + edit.value)], wire.Action.ADDHDRS
        if packets and not self.actions & needed:
            log.warning("milter: the MTA does not let us change the header %s", edit.name)
            return []
        return packets


def message_bytes(headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The message as it arrived: headers (values as the MTA sent them, line ends made CRLF), a blank
    line, the body."""
    lines = [name + b":" + _NEWLINES.sub(b"\r\n", value) + b"\r\n" for name, value in headers]
    return b"".join(lines) + b"\r\n" + body


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _peer(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address or "unknown peer")
