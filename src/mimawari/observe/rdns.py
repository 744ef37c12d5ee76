"""Reverse DNS of the addresses DMARC reports name: the PTR stage of the sender inventory.

A month of aggregate reports can name tens of thousands of source addresses, most of them in other
people's reverse zones, so the stage is polite: a bounded number of lookups in flight, a token bucket
capping lookups per second, and a cache so that an address is asked once per call and, with a shared
``ReverseCache``, once across calls (a monitor that runs every day). Only answers are cached: a timeout
or a SERVFAIL is asked again next time.

A timeout is never "no PTR" (DESIGN rule 3): each address gets a ``ReverseName`` whose ``status`` says
which of PRESENT, ABSENT (NXDOMAIN or NODATA), TIMEOUT, ERROR or NOT_APPLICABLE (not an address) it was.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from mimawari.errors import InputError
from mimawari.lookup import Query
from mimawari.model import Status
from mimawari.observe.dns import DnsClient
from mimawari.parse.mx import reverse_name

DEFAULT_CONCURRENCY = 16
DEFAULT_RATE = 50.0
"""PTR lookups per second: reverse zones belong to third parties, and a burst of thousands of queries
from one resolver is what rate limiters at ISPs and public resolvers are built to refuse."""
CACHE_ENTRIES = 100_000


@dataclass(frozen=True)
class ReverseName:
    """What the reverse zone says about one address."""

    address: str
    status: Status
    names: tuple[str, ...] = ()
    """The PTR targets, lower-case without the trailing dot, sorted (PRESENT only)."""
    detail: str = ""

    @property
    def name(self) -> str | None:
        """The first PTR name, or None (no PTR, or no answer: ``status`` says which)."""
        return self.names[0] if self.names else None


class ReverseCache:
    """Answered lookups shared between calls, least recently used evicted beyond ``max_entries``."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max(1, max_entries)
        self._entries: OrderedDict[str, ReverseName] = OrderedDict()

    def get(self, address: str) -> ReverseName | None:
        found = self._entries.get(address)
        if found is not None:
            self._entries.move_to_end(address)
        return found

    def put(self, result: ReverseName) -> None:
        if not result.status.answered:
            return  # a timeout or an error is worth asking again later
        self._entries[result.address] = result
        self._entries.move_to_end(result.address)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class TokenBucket:
    """At most ``rate`` takes per second on average, with bursts of up to ``burst`` (default: one
    second's worth). The clock and the sleep are injectable so the limiter can be tested without time."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise InputError(f"the reverse DNS rate must be above 0 lookups per second, not {rate}")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def take(self) -> None:
        # One taker at a time, so tokens go out in the order they were asked for.
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1


def _from_answer(address: str, status: Status, records: tuple[str, ...], detail: str) -> ReverseName:
    if status is Status.PRESENT:
        names = sorted({r.rstrip(".").lower() for r in records if r.strip(".")})
        return ReverseName(address, Status.PRESENT, tuple(names))
    return ReverseName(address, status, detail=detail)


async def _lookup(address: str, dns: DnsClient, limit: asyncio.Semaphore, bucket: TokenBucket) -> ReverseName:
    owner = reverse_name(address)
    if owner is None:
        return ReverseName(address, Status.NOT_APPLICABLE, detail=f"{address!r} is not an IP address")
    async with limit:
        await bucket.take()
        answer = await dns.query(Query.of(owner, "PTR"))
    return _from_answer(address, answer.status, answer.records, answer.describe())


async def reverse_names(
    ips: Iterable[str],
    dns: DnsClient,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate: float = DEFAULT_RATE,
    cache: ReverseCache | None = None,
) -> dict[str, ReverseName]:
    """The reverse names of ``ips`` (IPv4 and IPv6), one ``ReverseName`` per distinct address given."""
    if concurrency < 1:
        raise InputError(f"reverse DNS concurrency must be at least 1, not {concurrency}")
    bucket = TokenBucket(rate)
    limit = asyncio.Semaphore(concurrency)
    addresses = list(dict.fromkeys(ips))
    known = {a: r for a in addresses if cache is not None and (r := cache.get(a)) is not None}
    missing = [a for a in addresses if a not in known]
    found = await asyncio.gather(*(_lookup(address, dns, limit, bucket) for address in missing))
    for result in found:
        known[result.address] = result
        if cache is not None:
            cache.put(result)
    return {address: known[address] for address in addresses}


def ptr_names(results: Mapping[str, ReverseName]) -> dict[str, str | None]:
    """The first PTR name of each address (None when there is none or no answer): the form the sender
    inventory (``mimawari.dmarc.sources``) takes."""
    return {address: result.name for address, result in results.items()}
