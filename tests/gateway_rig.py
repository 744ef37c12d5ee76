"""The gateway's test rig: our milter and an SMTP sink on one background event loop, and the messages
the gateway tests send (an AES ZIP made with pyzipper, a clean message).

The rig runs in its own thread so that tests can drive a real Postfix with the blocking ``smtplib`` while
the milter answers it; the gateway (policy, detector) can be swapped between tests.
"""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pyzipper  # type: ignore[import-untyped]
from aiosmtpd.smtp import SMTP, Envelope, Session

from mimawari.gateway.enforce import Gateway
from mimawari.gateway.milter import MilterServer

WAIT = 30.0
PASSWORD = b"infected"


@dataclass(frozen=True)
class Delivered:
    sender: str
    recipients: tuple[str, ...]
    content: bytes


class _SinkHandler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.sink.add(Delivered(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content)))
        return "250 2.0.0 Ok: delivered to the sink"

    async def handle_exception(self, error: Exception) -> str:
        return "421 4.3.0 sink error"


class Sink:
    """What Postfix delivered, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[Delivered] = []
        self._arrived = threading.Condition()

    def add(self, message: Delivered) -> None:
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    def wait_for(self, token: bytes, count: int = 1) -> list[Delivered]:
        """The messages holding ``token``, once there are ``count`` of them (AssertionError after WAIT s)."""

        def found() -> list[Delivered]:
            return [m for m in self.messages if token in m.content]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(found()) >= count, WAIT):
                raise AssertionError(f"no delivery of {token!r} within {WAIT:.0f} s")
            return found()

    def holding(self, token: bytes) -> list[Delivered]:
        with self._arrived:
            return [m for m in self.messages if token in m.content]


class Rig:
    """The milter and the sink, served by an event loop in a daemon thread until ``close``."""

    def __init__(self, gateway: Gateway) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gateway-rig", daemon=True)
        self.thread.start()
        self.server = MilterServer(gateway)
        self.sink = Sink()
        self.milter_port = self.call(self.server.start("127.0.0.1", 0))[1]
        self._smtp: asyncio.Server = self.call(self._start_sink())
        self.sink_port = int(self._smtp.sockets[0].getsockname()[1])

    async def _start_sink(self) -> asyncio.Server:
        handler = _SinkHandler(self.sink)
        return await self.loop.create_server(
            lambda: SMTP(handler, hostname="sink.example", ident="mimawari test sink"), "127.0.0.1", 0
        )

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(WAIT)

    def use(self, gateway: Gateway) -> None:
        """The next messages go through ``gateway`` (another policy)."""
        self.server.gateway = gateway

    def close(self) -> None:
        async def stop() -> None:
            self._smtp.close()
            await self._smtp.wait_closed()
            await self.server.close()

        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


def aes_zip(name: str = "invoice.docx", content: bytes = b"quarterly figures " * 64) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword(PASSWORD)
        zf.writestr(name, content)
    return buffer.getvalue()


def plain_zip(name: str = "report.txt", content: bytes = b"nothing secret " * 64) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.ZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED) as zf:
        zf.writestr(name, content)
    return buffer.getvalue()


def mail(
    token: str,
    attachment: bytes | None = None,
    filename: str = "invoice.zip",
    sender: str = "alice@sender.example",
    recipient: str = "bob@sink.example",
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """A message whose subject and body hold ``token`` (to find it at the sink), with an attachment."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"test {token}"
    message["Message-ID"] = f"<{token}@sender.example>"
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(f"Hello, the figures are attached. {token}\n")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="zip", filename=filename)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
