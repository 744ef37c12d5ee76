"""The reverse DNS stage against the lab's authoritative server on loopback: PTR names for IPv4 and IPv6,
no PTR, a timeout and a SERVFAIL kept apart, the shared cache, and the token bucket on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mimawari.errors import InputError
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.model import Status
from mimawari.observe import DnsClient
from mimawari.observe.rdns import ReverseCache, ReverseName, TokenBucket, ptr_names, reverse_names

PTR_LAB = """
zones:
  2.0.192.in-addr.arpa:
    records:
      "10": {PTR: mail1.kuroneko.example.}
      "11": {PTR: [Mail2.Kuroneko.Example., alias.kuroneko.example.]}
      "12": {PTR: slow.kuroneko.example.}
      "13": {PTR: broken.kuroneko.example.}
  8.b.d.0.1.0.0.2.ip6.arpa:
    records:
      0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: {PTR: mail6.kuroneko.example.}
behaviour:
  12.2.0.192.in-addr.arpa: drop
  13.2.0.192.in-addr.arpa: servfail
"""


@pytest.fixture
async def ptr_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(PTR_LAB)) as server:
        yield server


def client_for(lab: DnsLab) -> DnsClient:
    # One short attempt: the dropped name must end as a timeout without slowing the suite.
    return DnsClient([lab.nameserver], timeout=0.3, attempts=1)


async def test_reverse_names_tells_names_absence_timeout_and_error_apart(ptr_lab: DnsLab) -> None:
    ips = ["192.0.2.10", "192.0.2.11", "2001:db8::10", "192.0.2.99", "192.0.2.12", "192.0.2.13", "nonsense"]
    found = await reverse_names([*ips, "192.0.2.10"], client_for(ptr_lab))

    assert list(found) == ips  # each address once, in the order given
    assert found["192.0.2.10"] == ReverseName("192.0.2.10", Status.PRESENT, ("mail1.kuroneko.example",))
    assert found["192.0.2.11"].names == ("alias.kuroneko.example", "mail2.kuroneko.example")
    assert found["2001:db8::10"].name == "mail6.kuroneko.example"
    assert found["192.0.2.99"].status is Status.ABSENT
    assert found["192.0.2.99"].detail == "NXDOMAIN"
    assert found["192.0.2.12"].status is Status.TIMEOUT  # never "no PTR"
    assert found["192.0.2.13"].status is Status.ERROR
    assert found["nonsense"].status is Status.NOT_APPLICABLE
    assert ptr_names(found) == {
        "192.0.2.10": "mail1.kuroneko.example",
        "192.0.2.11": "alias.kuroneko.example",
        "2001:db8::10": "mail6.kuroneko.example",
        "192.0.2.99": None,
        "192.0.2.12": None,
        "192.0.2.13": None,
        "nonsense": None,
    }


async def test_shared_cache_keeps_answers_and_asks_failures_again(ptr_lab: DnsLab) -> None:
    cache = ReverseCache()
    ips = ["192.0.2.10", "192.0.2.99", "192.0.2.13"]
    first = await reverse_names(ips, client_for(ptr_lab), cache=cache)
    asked = ptr_lab.queries_received
    assert asked == 3
    assert len(cache) == 2  # the SERVFAIL is not kept

    # A new client (no DNS-level cache): only the SERVFAIL goes out again.
    second = await reverse_names(ips, client_for(ptr_lab), cache=cache)
    assert ptr_lab.queries_received == asked + 1
    assert second == first


def test_cache_evicts_the_least_recently_used() -> None:
    cache = ReverseCache(max_entries=2)
    for last in (1, 2, 3):
        cache.put(ReverseName(f"192.0.2.{last}", Status.ABSENT))
    assert cache.get("192.0.2.1") is None
    assert cache.get("192.0.2.3") == ReverseName("192.0.2.3", Status.ABSENT)
    cache.put(ReverseName("192.0.2.4", Status.TIMEOUT))
    assert len(cache) == 2


async def test_token_bucket_spaces_lookups_beyond_the_burst() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10.0, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await bucket.take()
    assert slept == pytest.approx([0.1, 0.1, 0.1])  # two from the burst, then one per 1/rate seconds

    now[0] += 5.0  # idle: the bucket refills to its burst, not beyond
    for _ in range(3):
        await bucket.take()
    assert slept == pytest.approx([0.1, 0.1, 0.1, 0.1])


async def test_bad_limits_are_input_errors(ptr_lab: DnsLab) -> None:
    with pytest.raises(InputError, match="rate must be above 0"):
        await reverse_names(["192.0.2.10"], client_for(ptr_lab), rate=0)
    with pytest.raises(InputError, match="concurrency must be at least 1"):
        await reverse_names(["192.0.2.10"], client_for(ptr_lab), concurrency=0)
    assert ptr_lab.queries_received == 0
