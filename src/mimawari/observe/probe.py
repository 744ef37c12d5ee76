"""The probe client: runs ``ServiceRequest`` sessions and ``TlsScanRequest`` scans for lookup plans.

Politeness and bounds live here (DESIGN rule 7): the scope is checked before any connection, at most
``per_host`` connections are open to one address at once and one TLS scan runs per address at a time,
``concurrency`` bounds the whole scan, and every session has an overall deadline besides its per-step
timeout, so a tarpitting server costs a bounded time and yields TIMEOUT (graded unknown), never a hang.
Identical requests in one scan are made once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import replace

from mimawari.model import Status
from mimawari.observe.mail import MAX_REPLY_LINES, Conversation, SessionRunner, offers
from mimawari.observe.scope import Scope
from mimawari.observe.tcp import Connector, ProbeFailure, Stream
from mimawari.observe.tls import TrustStore
from mimawari.observe.tls_scan import scan_tls
from mimawari.probes import (
    ProbeRequest,
    ProbeResult,
    ServiceRequest,
    ServiceSession,
    StartTls,
    TlsScan,
    TlsScanRequest,
)

HELO_NAME = "mimawari.invalid"
"""The EHLO name; RFC 6761 ``.invalid`` since the scanner is not a mail server anyone should reach."""
SESSION_STEPS = 16
"""Steps of the longest session (relay and recipient tests, STARTTLS, EHLO twice): its deadline is this
many timeouts, so a server answering each step just in time still ends in bounded time."""


class ProbeClient:
    def __init__(
        self,
        *,
        scope: Scope | None = None,
        ca_file: str | None = None,
        endpoint_map: Mapping[str, str] | None = None,
        closed_unmapped: bool = False,
        port_map: Mapping[int, int] | None = None,
        timeout: float = 10.0,
        per_host: int = 2,
        concurrency: int = 32,
        helo_name: str = HELO_NAME,
    ) -> None:
        self.connector = Connector(
            scope=scope,
            endpoint_map=endpoint_map,
            closed_unmapped=closed_unmapped,
            port_map=port_map,
            timeout=timeout,
            per_host=per_host,
        )
        self.trust = TrustStore(ca_file)
        self.timeout = timeout
        self.helo_name = helo_name
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._scanning: dict[str, asyncio.Lock] = {}
        self._cache: dict[ProbeRequest, asyncio.Task[ProbeResult]] = {}

    async def probe(self, request: ProbeRequest) -> ProbeResult:
        task = self._cache.get(request)
        if task is None:
            task = asyncio.ensure_future(self._probe(request))
            self._cache[request] = task
        return await asyncio.shield(task)

    async def _probe(self, request: ProbeRequest) -> ProbeResult:
        async with self._limit:
            if isinstance(request, ServiceRequest):
                return await self.session(request)
            return await self.scan(request)

    async def session(self, request: ServiceRequest) -> ServiceSession:
        runner = SessionRunner(request, self.trust, self.timeout, self.helo_name)
        stream: Stream | None = None
        try:
            async with self.connector.slot(request.address), asyncio.timeout(self.timeout * SESSION_STEPS):
                stream = await self.connector.open(request.address, request.port)
                return await runner.run(stream)
        except ProbeFailure as failure:
            return ServiceSession(request, failure.status, failure.detail)
        except TimeoutError:
            session = runner.session
            detail = f"the session took longer than {self.timeout * SESSION_STEPS:g} s"
            if session.greeting is None:
                return ServiceSession(request, Status.TIMEOUT, detail)
            return replace(session, detail=detail)
        finally:
            if stream is not None:
                await stream.close()

    async def scan(self, request: TlsScanRequest) -> TlsScan:
        lock = self._scanning.setdefault(request.address, asyncio.Lock())
        opened: list[Stream] = []

        async def open_connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            async with self.connector.slot(request.address):
                stream = await self.connector.open(request.address, request.port)
            opened.append(stream)
            try:
                await starttls_preamble(Conversation(stream, self.timeout), request.starttls, self.helo_name)
            except ProbeFailure as failure:
                await stream.close()
                if failure.status is Status.TIMEOUT:
                    raise TimeoutError(failure.detail) from None
                raise ConnectionError(failure.detail) from None
            return stream.reader, stream.writer

        async with lock:
            try:
                return await scan_tls(
                    request, open_connection, timeout=self.timeout, concurrency=self.connector.per_host
                )
            except ProbeFailure as failure:
                return TlsScan(request, failure.status, detail=failure.detail)
            finally:
                for stream in opened:
                    with contextlib.suppress(Exception):
                        await stream.close()


async def starttls_preamble(talk: Conversation, starttls: StartTls, helo: str) -> None:
    """Bring a fresh connection to the point where the ClientHello goes."""
    if starttls is StartTls.SMTP:
        if (await talk.smtp_reply()).code != 220:
            raise ProbeFailure(Status.ERROR, "the server refused the SMTP session")
        ehlo = await talk.command(f"EHLO {helo}")
        if not offers(tuple(line.split(" ", 1)[0].upper() for line in ehlo.lines[1:]), "STARTTLS"):
            raise ProbeFailure(Status.ERROR, "STARTTLS is not offered")
        reply = await talk.command("STARTTLS")
        if reply.code != 220:
            raise ProbeFailure(Status.ERROR, f"STARTTLS refused: {reply.describe()}")
    elif starttls is StartTls.IMAP:
        await talk.line()
        await talk.send("s1 STARTTLS")
        for _ in range(MAX_REPLY_LINES):
            line = await talk.line()
            if line.startswith("s1 "):
                if line.split(" ", 2)[1:2] != ["OK"]:
                    raise ProbeFailure(Status.ERROR, f"STARTTLS refused: {line}")
                return
        raise ProbeFailure(Status.ERROR, "no reply to STARTTLS")
    elif starttls is StartTls.POP3:
        await talk.line()
        await talk.send("STLS")
        if not (line := await talk.line()).startswith("+OK"):
            raise ProbeFailure(Status.ERROR, f"STLS refused: {line}")
