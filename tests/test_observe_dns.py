"""DNS observation against the lab: every outcome is a value, a timeout is never 'absent'."""

from __future__ import annotations

import asyncio
import socket

import dns.flags
import dns.message
import pytest

from mimawari.errors import InvalidNameserverError, NameserverUnreachableError
from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lookup import Query, txt_value
from mimawari.model import Status
from mimawari.observe import DnsClient, Nameserver


async def test_records(client: DnsClient) -> None:
    answer = await client.query(Query.of("example.test", "MX"))
    assert answer.status is Status.PRESENT
    assert answer.records == ("10 mx.example.test.",)
    assert answer.outcome == "records"
    assert answer.ttl == 300


async def test_nxdomain(client: DnsClient) -> None:
    answer = await client.query(Query.of("nope.example.test", "A"))
    assert (answer.status, answer.outcome) == (Status.ABSENT, "NXDOMAIN")


async def test_nodata(client: DnsClient) -> None:
    answer = await client.query(Query.of("www.example.test", "TXT"))
    assert (answer.status, answer.outcome) == (Status.ABSENT, "NODATA")


async def test_empty_non_terminal_is_nodata(client: DnsClient) -> None:
    answer = await client.query(Query.of("empty.example.test", "A"))
    assert answer.outcome == "NODATA"


async def test_wildcard(client: DnsClient) -> None:
    answer = await client.query(Query.of("anything.wild.example.test", "TXT"))
    assert answer.records == ('"wildcard"',)


async def test_cname_chain_is_followed_across_zones(client: DnsClient) -> None:
    answer = await client.query(Query.of("far.example.test", "A"))
    assert answer.records == ("127.0.0.90",)
    assert answer.cname_chain == ("target.other.test",)


async def test_unanswered_query_is_a_timeout_not_absent(lab: DnsLab) -> None:
    client = DnsClient([lab.nameserver], timeout=0.2, attempts=2)
    answer = await client.query(Query.of("slow.example.test", "A"))
    assert answer.status is Status.TIMEOUT
    assert answer.outcome == "timeout"
    assert client.queries_sent == 2  # both attempts went out


async def test_servfail_is_an_error(client: DnsClient) -> None:
    answer = await client.query(Query.of("broken.example.test", "A"))
    assert (answer.status, answer.rcode) == (Status.ERROR, "SERVFAIL")


async def test_outside_lab_zones_is_refused_error(client: DnsClient) -> None:
    answer = await client.query(Query.of("example.org", "A"))
    assert (answer.status, answer.rcode) == (Status.ERROR, "REFUSED")


async def test_truncated_answer_is_retried_over_tcp(client: DnsClient) -> None:
    answer = await client.query(Query.of("big.example.test", "TXT"))
    assert answer.status is Status.PRESENT
    assert answer.via_tcp
    assert len(answer.records) == 8
    assert txt_value(answer.records[0]).startswith("x" * 200)


async def test_small_answer_stays_on_udp(client: DnsClient) -> None:
    answer = await client.query(Query.of("example.test", "TXT"))
    assert not answer.via_tcp


async def test_cache_sends_each_query_once(lab: DnsLab) -> None:
    client = DnsClient([lab.nameserver], timeout=0.5)
    query = Query.of("www.example.test", "A")
    answers = await asyncio.gather(*(client.query(query) for _ in range(20)))
    assert {a.records for a in answers} == {("127.0.0.80",)}
    assert client.queries_sent == 1
    assert lab.queries_received == 1


async def test_concurrency_is_bounded(lab: DnsLab) -> None:
    client = DnsClient([lab.nameserver], timeout=0.5, concurrency=3)
    names = [Query.of(f"n{i}.example.test", "A") for i in range(30)]
    answers = await asyncio.gather(*(client.query(q) for q in names))
    assert {a.outcome for a in answers} == {"NXDOMAIN"}


async def test_second_nameserver_is_used_when_first_is_silent(lab: DnsLab) -> None:
    silent = Nameserver("127.0.0.1", _unused_udp_port())
    client = DnsClient([silent, lab.nameserver], timeout=0.2, attempts=1)
    answer = await client.query(Query.of("www.example.test", "A"))
    assert answer.status is Status.PRESENT
    assert answer.nameserver == str(lab.nameserver)


async def test_unreachable_nameserver_is_reported() -> None:
    client = DnsClient([Nameserver("127.0.0.1", _unused_udp_port())], timeout=0.2, attempts=1)
    with pytest.raises(NameserverUnreachableError, match=r"127\.0\.0\.1"):
        await client.ensure_reachable()
    answer = await client.query(Query.of("example.test", "A"))
    assert answer.status in (Status.TIMEOUT, Status.ERROR)


async def test_invalid_query_name_is_an_error_value(client: DnsClient) -> None:
    answer = await client.query(Query.of("a" * 70 + ".example.test", "A"))
    assert answer.status is Status.ERROR
    assert "cannot ask" in answer.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]:5353", Nameserver("::1", 5353)),
    ],
)
def test_nameserver_parse(text: str, expected: Nameserver) -> None:
    assert Nameserver.parse(text) == expected
    assert Nameserver.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", "[::1", ""])
def test_nameserver_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidNameserverError):
        Nameserver.parse(text)


async def test_ipv6_loopback_lab(lab: DnsLab) -> None:
    async with DnsLab(lab.zones, host="::1") as lab6:
        client = DnsClient([lab6.nameserver], timeout=0.5)
        answer = await client.query(Query.of("www.example.test", "A"))
    assert answer.records == ("127.0.0.80",)


def _unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


SIGNED_YAML = """
zones:
  signed.test:
    dnssec: {}
    records:
      www: {A: 192.0.2.80}
      big: {TXT: [BIG]}
  plain.test:
    records:
      www: {A: 192.0.2.81}
""".replace("BIG", ", ".join(f"'{'y' * 200}-{i}'" for i in range(8)))


async def test_dnssec_query_carries_rrsigs_and_denial() -> None:
    async with DnsLab(zones_from_yaml(SIGNED_YAML)) as lab:
        client = DnsClient([lab.nameserver], timeout=1.0)
        plain = await client.query(Query.of("www.signed.test", "A"))
        signed = await client.query(Query.of("www.signed.test", "A", dnssec=True))
        nodata = await client.query(Query.of("www.signed.test", "TXT", dnssec=True))
        nxdomain = await client.query(Query.of("nope.signed.test", "A", dnssec=True))
        unsigned = await client.query(Query.of("www.plain.test", "A", dnssec=True))
    assert (plain.signatures, plain.denial) == ((), ())
    assert signed.records == plain.records
    (rrsig,) = signed.signatures
    assert rrsig.startswith("A 13 3 300 ") and " signed.test. " in rrsig
    assert nodata.outcome == "NODATA"
    assert any(" IN NSEC " in line for line in nodata.denial)
    assert any(" IN RRSIG NSEC " in line for line in nodata.denial)
    assert nxdomain.outcome == "NXDOMAIN" and len(nxdomain.denial) >= 2
    assert unsigned.records == ("192.0.2.81",) and unsigned.signatures == ()
    assert str(signed.query) == "www.signed.test A +dnssec"


async def test_dnssec_answer_truncated_over_udp_is_retried_over_tcp() -> None:
    async with DnsLab(zones_from_yaml(SIGNED_YAML)) as lab:
        answer = await DnsClient([lab.nameserver], timeout=1.0).query(
            Query.of("big.signed.test", "TXT", dnssec=True)
        )
    assert answer.via_tcp and len(answer.records) == 8 and answer.signatures


async def test_dnssec_query_sets_do_and_cd() -> None:
    seen: list[tuple[bool, bool]] = []

    class Spy(DnsLab):
        def respond(self, request: dns.message.Message) -> dns.message.Message | None:
            seen.append((bool(request.ednsflags & dns.flags.DO), bool(request.flags & dns.flags.CD)))
            return super().respond(request)

    async with Spy(zones_from_yaml(SIGNED_YAML)) as lab:
        client = DnsClient([lab.nameserver], timeout=1.0)
        await client.query(Query.of("www.signed.test", "A"))
        await client.query(Query.of("www.signed.test", "A", dnssec=True))
    assert seen == [(False, False), (True, True)]
