"""The only code that talks to scan targets (DESIGN rule 1): DNS, HTTP, mail-server sessions, TLS scans.

``Network`` sends each request a plan yields to the right client; ``run_plan`` is the I/O half of a
lookup plan (see ``mimawari.lookup``): it sends the requests concurrently, feeds the responses back and
keeps every response for the scan's snapshot.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeVar

from mimawari.lookup import HttpRequest, Plan, Query, Request, Response
from mimawari.observe.dns import DnsClient, Nameserver
from mimawari.observe.http import HttpClient
from mimawari.observe.probe import ProbeClient
from mimawari.observe.scope import Scope

__all__ = ["DnsClient", "HttpClient", "Nameserver", "Network", "ProbeClient", "Scope", "Sender", "run_plan"]

T = TypeVar("T")


class Sender(Protocol):
    """Whatever answers a plan's requests: a ``Network``, or a snapshot in front of one (what-if)."""

    async def send(self, request: Request) -> Response: ...


class Network:
    """The scan's clients, one per protocol. HTTP and the probes default to public addresses and the
    system trust store."""

    def __init__(
        self, dns: DnsClient, http: HttpClient | None = None, probes: ProbeClient | None = None
    ) -> None:
        self.dns = dns
        self.http = http or HttpClient()
        self.probes = probes or ProbeClient()

    async def send(self, request: Request) -> Response:
        if isinstance(request, Query):
            return await self.dns.query(request)
        if isinstance(request, HttpRequest):
            return await self.http.fetch(request)
        return await self.probes.probe(request)


async def run_plan(plan: Plan[T], network: Sender, record: list[Response] | None = None) -> T:
    """Drive ``plan`` against ``network``; every response it received is appended to ``record``."""
    try:
        need = next(plan)
        while True:
            responses = tuple(await asyncio.gather(*(network.send(r) for r in need)))
            if record is not None:
                record.extend(responses)
            need = plan.send(responses)
    except StopIteration as done:
        result: T = done.value
        return result
