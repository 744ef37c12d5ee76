"""A milter client for the tests: it plays the MTA's side of the protocol, as Postfix's milter8 does.

It speaks through ``mimawari.gateway.milter_protocol``'s constants but frames and splits packets itself,
so a bug in the server's framing is not mirrored here. Every read has a timeout: a server that stops
answering fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

from mimawari.gateway import milter_protocol as wire

TIMEOUT = 20.0
ALL_ACTIONS = 0x1FF
ALL_STEPS = 0x1FFFFF
FINAL = {wire.ACCEPT, wire.CONTINUE, wire.REJECT, wire.TEMPFAIL, wire.DISCARD, wire.REPLYCODE}


@dataclass
class EndOfMessage:
    """What the server answered at end of data: modifications, then the final reply."""

    final: bytes
    reply: str = ""
    added: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    body: bytes | None = None


def split_message(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers (name, value with its leading space and folds) and body, as an MTA hands them over."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\r\n" + line)
        elif line:
            name, _, value = line.partition(b":")
            headers.append((name, value))
    return headers, body


class MilterClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.steps = 0
        self.actions = 0

    @classmethod
    async def connect(cls, host: str, port: int) -> MilterClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, command: bytes, data: bytes = b"") -> None:
        self.writer.write(struct.pack(">I", len(data) + 1) + command + data)
        await self.writer.drain()

    async def receive(self) -> tuple[bytes, bytes]:
        prefix = await asyncio.wait_for(self.reader.readexactly(4), TIMEOUT)
        (length,) = struct.unpack(">I", prefix)
        data = await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        return data[:1], data[1:]

    async def closed_by_server(self) -> bool:
        """True when the server closed the connection (end of stream) without sending anything more."""
        return await asyncio.wait_for(self.reader.read(1), TIMEOUT) == b""

    async def negotiate(self, actions: int = ALL_ACTIONS, steps: int = ALL_STEPS, version: int = 6) -> None:
        await self.send(wire.OPTNEG, struct.pack(">III", version, actions, steps))
        command, data = await self.receive()
        assert command == wire.OPTNEG, command
        _, self.actions, self.steps = struct.unpack(">III", data[:12])

    async def step(self, command: bytes, data: bytes = b"") -> bytes | None:
        """Send one step; its reply unless the server asked not to be waited for (or skips the step)."""
        skipped = {
            wire.HELO: wire.Step.NOHELO,
            wire.DATA: wire.Step.NODATA,
            wire.UNKNOWN: wire.Step.NOUNKNOWN,
        }
        if command in skipped and self.steps & skipped[command]:
            return None
        await self.send(command, data)
        no_reply = wire.NO_REPLY_STEPS.get(command)
        if no_reply is not None and self.steps & no_reply:
            return None
        reply, _ = await self.receive()
        return reply

    async def macro(self, for_command: bytes, **values: str) -> None:
        pairs = b"".join(f"{{{k}}}".encode() + b"\0" + v.encode() + b"\0" for k, v in values.items())
        await self.send(wire.MACRO, for_command + pairs)

    async def connect_step(self, host: str = "client.example", address: str = "192.0.2.7") -> bytes | None:
        await self.send(wire.MACRO, wire.CONNECT + b"_\0" + f"{host} [{address}]".encode() + b"\0")
        data = host.encode() + b"\0" + b"4" + struct.pack(">H", 40000) + address.encode() + b"\0"
        return await self.step(wire.CONNECT, data)

    async def envelope(self, sender: str, recipients: list[str], queue_id: str = "4ABCDEF") -> None:
        await self.macro(wire.MAIL, mail_addr=sender)
        assert await self.step(wire.MAIL, f"<{sender}>\0SIZE=100\0".encode()) in (wire.CONTINUE, None)
        for recipient in recipients:
            await self.macro(wire.RCPT, rcpt_addr=recipient)
            assert await self.step(wire.RCPT, f"<{recipient}>\0".encode()) in (wire.CONTINUE, None)
        await self.send(wire.MACRO, wire.DATA + b"i\0" + queue_id.encode() + b"\0")
        await self.step(wire.DATA)

    async def headers_and_body(self, raw: bytes) -> list[bytes | None]:
        """Send the headers, EOH and the body in chunks; the replies to the body chunks."""
        headers, body = split_message(raw)
        lead = bool(self.steps & wire.Step.HDR_LEADSPC)
        for name, value in headers:
            sent = value if lead else value.lstrip(b" \t")
            await self.step(wire.HEADER, name + b"\0" + sent + b"\0")
        await self.step(wire.EOH)
        replies = []
        for start in range(0, len(body), wire.CHUNK):
            reply = await self.step(wire.BODY, body[start : start + wire.CHUNK])
            replies.append(reply)
            if reply == wire.SKIP:
                break
        return replies

    async def end_of_message(self) -> EndOfMessage:
        await self.send(wire.BODYEOB)
        result = EndOfMessage(final=b"")
        while True:
            command, data = await self.receive()
            if command == wire.ADDHEADER:
                name, value, _ = data.split(b"\0")
                result.added.append((name.decode(), value.decode()))
            elif command == wire.CHGHEADER:
                (index,) = struct.unpack(">I", data[:4])
                name, value, _ = data[4:].split(b"\0")
                result.changed.append((index, name.decode(), value.decode()))
            elif command == wire.REPLBODY:
                result.body = (result.body or b"") + data
            elif command in FINAL:
                result.final = command
                result.reply = data.rstrip(b"\0").decode()
                return result
            else:
                raise AssertionError(f"unexpected reply {command!r} at end of message")

    async def message(
        self, raw: bytes, sender: str = "alice@sender.example", recipients: list[str] | None = None
    ) -> EndOfMessage:
        await self.envelope(sender, recipients or ["bob@rcpt.example"])
        await self.headers_and_body(raw)
        return await self.end_of_message()


async def session(host: str, port: int) -> MilterClient:
    """A negotiated client after CONNECT and HELO, ready for a message."""
    client = await MilterClient.connect(host, port)
    await client.negotiate()
    assert await client.connect_step() in (wire.CONTINUE, None)
    await client.step(wire.HELO, b"client.example\0")
    return client
