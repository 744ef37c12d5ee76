"""The only code that talks to scan targets (DESIGN rule 1): DNS now, SMTP/TLS/HTTP as they come.

``run_plan`` is the I/O half of a lookup plan (see ``mimawari.lookup``): it sends the queries a plan
yields, concurrently, feeds the answers back and keeps every answer for the scan's snapshot.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from mimawari.lookup import DnsAnswer, Plan, Query
from mimawari.observe.dns import DnsClient, Nameserver

__all__ = ["DnsClient", "Nameserver", "run_plan"]

T = TypeVar("T")


async def run_plan(plan: Plan[T], client: DnsClient, record: dict[Query, DnsAnswer] | None = None) -> T:
    """Drive ``plan`` against ``client``; every answer it received is added to ``record``."""
    try:
        need = next(plan)
        while True:
            answers = tuple(await asyncio.gather(*(client.query(q) for q in need)))
            if record is not None:
                record.update((a.query, a) for a in answers)
            need = plan.send(answers)
    except StopIteration as done:
        result: T = done.value
        return result
