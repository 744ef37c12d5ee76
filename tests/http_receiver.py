"""A small HTTP/1.1 server on loopback that records what it is sent, for notifier tests.

    async with HttpReceiver() as receiver:          # listening on 127.0.0.1, an ephemeral port
        receiver.status = 500                       # what to answer next (default 200)
        receiver.hang = True                        # or: read the request, then never answer
        ... post to receiver.url("/hook") ...
        receiver.requests[0].json()

With ``tls=`` (a server ``ssl.SSLContext``) it speaks HTTPS. Only what an HTTP client sends a webhook is
understood: a request line, headers and a ``Content-Length`` body.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType

WAIT = 5.0
"""Seconds a client may take to send its request; a test waiting this long has failed."""


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Names in lower case; a repeated header keeps its last value."""
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class HttpReceiver:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.requests: list[ReceivedRequest] = []
        self.received = asyncio.Event()
        """Set when a request has been read in full (before any answer, so also when hanging)."""
        self.status = 200
        self.answer_headers: dict[str, str] = {}
        self.answer_body = b"ok"
        self.hang = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._stopping = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._server is not None, "the receiver is not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"  # a lab certificate names a host, not an address
        return f"{scheme}://{host}:{self.port}{path}"

    async def __aenter__(self) -> HttpReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            async with asyncio.timeout(WAIT):
                request = await self._read(reader)
            if request is None:
                return
            self.requests.append(request)
            self.received.set()
            if self.hang:
                await self._stopping.wait()
                return
            phrase = HTTPStatus(self.status).phrase
            head = [f"HTTP/1.1 {self.status} {phrase}", f"Content-Length: {len(self.answer_body)}"]
            head += [f"{name}: {value}" for name, value in self.answer_headers.items()]
            head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.answer_body)
            await writer.drain()
        except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client hung up or never finished its request: nothing to record
        finally:
            self._writers.discard(writer)
            self._handlers.discard(handler)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> ReceivedRequest | None:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            return None
        method, path, _version = line.split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            header = (await reader.readline()).decode("latin-1").rstrip("\r\n")
            if not header:
                break
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return ReceivedRequest(method, path, headers, body)
