"""TCP connections for the probes: the scope check, where to really connect, per-host politeness, timeouts.

The plan names the address it resolved; ``Connector`` checks it against the scope (DESIGN rule 7), then
connects to it — or, in the lab, to the loopback listener that ``endpoint_map`` names for that address
and port (``"203.0.113.25:25" -> "127.0.0.1:40123"``). With ``closed_unmapped`` an endpoint the map does
not name is a closed port, as on the internet where nothing listens there; the probe never leaves
loopback. ``port_map`` moves a port for every address (``{25: 2525}``: a test server on a high port). Failures are raised as ``ProbeFailure`` with the status the result will carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from mimawari.model import Status
from mimawari.observe.scope import Scope

UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})


class ProbeFailure(Exception):
    """A probe could not go on: TIMEOUT (no answer in time) or ERROR (refused, out of scope, broken)."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def endpoint_key(address: str, port: int) -> str:
    """``203.0.113.25:25`` or ``[2001:db8::25]:25``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def split_endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


@dataclass
class Stream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    connect_ms: float

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


class Connector:
    def __init__(
        self,
        *,
        scope: Scope | None = None,
        endpoint_map: Mapping[str, str] | None = None,
        closed_unmapped: bool = False,
        port_map: Mapping[int, int] | None = None,
        timeout: float = 10.0,
        per_host: int = 2,
    ) -> None:
        self.scope = scope or Scope()
        self.port_map = dict(port_map or {})
        self.endpoint_map = {key: split_endpoint(value) for key, value in (endpoint_map or {}).items()}
        self.closed_unmapped = closed_unmapped
        self.timeout = timeout
        self.per_host = max(1, per_host)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def destination(self, address: str, port: int) -> tuple[str, int]:
        refusal = self.scope.refusal(address)
        if refusal is not None:
            raise ProbeFailure(Status.ERROR, refusal)
        mapped = self.endpoint_map.get(endpoint_key(address, port))
        if mapped is not None:
            return mapped
        if self.closed_unmapped:
            raise ProbeFailure(Status.ERROR, "connection refused")
        return address, self.port_map.get(port, port)

    @contextlib.asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        """At most ``per_host`` connections at once to one address (a mail server is not a load test)."""
        limit = self._hosts.setdefault(address, asyncio.Semaphore(self.per_host))
        async with limit:
            yield

    async def open(self, address: str, port: int) -> Stream:
        host, real_port = self.destination(address, port)
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, real_port, limit=64 * 1024), self.timeout
            )
        except TimeoutError:
            raise ProbeFailure(Status.TIMEOUT, f"no connection within {self.timeout:g} s") from None
        except ConnectionRefusedError:
            raise ProbeFailure(Status.ERROR, "connection refused") from None
        except OSError as exc:
            if exc.errno in UNREACHABLE:
                # Often the scanner's own network (no IPv6 route): the server is not to blame. Graded
                # unknown, like a timeout, never as a server that refuses mail.
                detail = f"unreachable from this scanner: {exc.strerror or exc}"
                raise ProbeFailure(Status.TIMEOUT, detail) from None
            raise ProbeFailure(Status.ERROR, exc.strerror or str(exc) or type(exc).__name__) from None
        return Stream(reader, writer, round((time.perf_counter() - started) * 1000, 1))
