"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the policy fetched over HTTPS, and the MX hosts.

The plan asks the TXT record and the domain's MX together; only when a ``v=STSv1`` record exists does it
resolve ``mta-sts.<domain>`` and fetch the policy from an address it found (``fetch_https``, shared with
BIMI). A lookup or fetch that times out leaves the retrieval *unknown*, never failed.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from mimawari.lookup import (
    DnsAnswer,
    HttpRequest,
    HttpResponse,
    Need,
    Plan,
    Query,
    Response,
    ask,
    fetch,
    txt_value,
)
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.observations.hosts import ask_addresses
from mimawari.parse.mta_sts import StsPolicy, StsRecord, is_sts_record, parse_sts_policy, parse_sts_record
from mimawari.parse.mx import mx_exchanges

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_ADDRESSES_TRIED = 3


class Retrieval(StrEnum):
    """How a fetch over HTTPS ended, from a sender's point of view."""

    NOT_TRIED = "not-tried"
    RETRIEVED = "retrieved"
    FAILED = "failed"
    """Senders cannot use it: no address, refused, certificate, redirect, HTTP status, content type."""
    UNKNOWN = "unknown"
    """A lookup or the fetch timed out or failed in a way a new scan may not repeat."""


@dataclass(frozen=True)
class HttpsFetch:
    """One document fetched over HTTPS the way a sender would: resolve the host, GET, no redirects."""

    url: str
    retrieval: Retrieval
    lookups: tuple[DnsAnswer, ...] = ()
    responses: tuple[HttpResponse, ...] = ()
    problem: str = ""

    @property
    def response(self) -> HttpResponse | None:
        return self.responses[-1] if self.responses else None

    @property
    def body(self) -> str:
        """The body of a 200 answer (even one with the wrong content type), else empty."""
        response = self.response
        return response.body if response is not None and response.http_status == 200 else ""


def _addresses(answers: tuple[DnsAnswer, ...]) -> list[str]:
    # A CNAME chain puts the CNAME records first in some answers; keep only the addresses.
    return [
        r for a in answers if a.status is Status.PRESENT for r in a.records if r[:1].isdigit() or ":" in r
    ]


def fetch_https(
    url: str, content_type: str | None = None
) -> Generator[Need, tuple[Response, ...], HttpsFetch]:
    """Resolve the URL's host (A, AAAA), fetch from its addresses in turn until one answers, and judge.

    ``content_type``: the media type the answer must have (parameters such as ``charset`` ignored).
    """
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme != "https" or not host:
        return HttpsFetch(url, Retrieval.FAILED, problem=f"{url} is not an https:// URL")
    lookups = yield from ask_addresses([host])
    addresses = _addresses(lookups)
    if not addresses:
        failed = next((a for a in lookups if not a.status.answered), None)
        if failed is not None:
            return HttpsFetch(url, Retrieval.UNKNOWN, lookups, problem=f"{failed.query}: {failed.describe()}")
        return HttpsFetch(url, Retrieval.FAILED, lookups, problem=f"{host} has no address (A or AAAA)")
    responses: list[HttpResponse] = []
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        (response,) = yield from fetch(HttpRequest(url, address))
        responses.append(response)
        if response.status is Status.PRESENT:
            break
    retrieval, problem = _judge(responses[-1], content_type)
    return HttpsFetch(url, retrieval, lookups, tuple(responses), problem)


def _judge(response: HttpResponse, content_type: str | None) -> tuple[Retrieval, str]:
    if response.status is Status.TIMEOUT:
        return Retrieval.UNKNOWN, f"{response.request}: {response.describe()}"
    if response.status is not Status.PRESENT:
        return Retrieval.FAILED, response.detail or response.status.value
    if response.redirect or (response.http_status or 0) // 100 == 3:
        return (
            Retrieval.FAILED,
            f"HTTP {response.http_status} redirect to {response.redirect or '?'} (not followed)",
        )
    if response.http_status != 200:
        return Retrieval.FAILED, f"HTTP {response.http_status}"
    served = response.content_type.split(";", 1)[0].strip().lower()
    if content_type is not None and served != content_type:
        return Retrieval.FAILED, f"served as {served or 'no content type'}, not {content_type}"
    return Retrieval.RETRIEVED, ""


def mx_hosts_of(answer: DnsAnswer) -> tuple[str, ...]:
    """MX hosts by preference; a Null MX (RFC 7505, ``0 .``) contributes none."""
    return mx_exchanges(answer.records) if answer.status is Status.PRESENT else ()


@dataclass(frozen=True)
class MtaStsObservation:
    """``status`` is that of the TXT lookup: PRESENT when v=STSv1 records exist (more than one means
    senders ignore them all, RFC 8461 §3.1), ABSENT when none, TIMEOUT or ERROR when it failed."""

    domain: str
    status: Status
    txt_lookup: DnsAnswer
    records: tuple[str, ...] = ()
    record: StsRecord | None = None
    """The parsed record when there is exactly one."""
    mx_lookup: DnsAnswer | None = None
    mx_hosts: tuple[str, ...] = ()
    policy_fetch: HttpsFetch | None = None
    policy: StsPolicy | None = None
    """The policy parsed from a 200 answer; graded only when ``policy_fetch`` retrieved it."""

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"

    @property
    def policy_url(self) -> str:
        return f"https://{self.policy_host}{POLICY_PATH}"

    @property
    def retrieval(self) -> Retrieval:
        return self.policy_fetch.retrieval if self.policy_fetch is not None else Retrieval.NOT_TRIED

    @property
    def receives_mail(self) -> bool | None:
        """False for a Null MX or no MX at all; None when the MX lookup failed."""
        if self.mx_lookup is None or not self.mx_lookup.status.answered:
            return None
        return bool(self.mx_hosts)


def mta_sts_plan(target: Target) -> Plan[MtaStsObservation]:
    domain = target.domain
    txt, mx = yield from ask(Query.of(f"_mta-sts.{domain}", "TXT"), Query.of(domain, "MX"))
    base = MtaStsObservation(domain, txt.status, txt, mx_lookup=mx, mx_hosts=mx_hosts_of(mx))
    if not txt.status.answered:
        return base
    records = tuple(value for value in map(txt_value, txt.records) if is_sts_record(value))
    if not records:
        return MtaStsObservation(domain, Status.ABSENT, txt, mx_lookup=mx, mx_hosts=base.mx_hosts)
    record = parse_sts_record(records[0]) if len(records) == 1 else None
    policy_fetch = yield from fetch_https(base.policy_url, "text/plain")
    answered = policy_fetch.response is not None and policy_fetch.response.http_status == 200
    policy = parse_sts_policy(policy_fetch.body) if answered else None
    return MtaStsObservation(
        domain, Status.PRESENT, txt, records, record, mx, base.mx_hosts, policy_fetch, policy
    )


MTA_STS = Observer("mta_sts", mta_sts_plan)
