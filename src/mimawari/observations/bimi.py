"""BIMI: the assertion record, the DMARC policy it depends on, the logo and the mark certificate.

Discovery follows the BIMI draft: ``default._bimi.<domain>``, else the organisational domain's. Only when
a usable record exists does the plan go on: the DMARC policy (``dmarc_plan``, the same discovery the
DMARC checks use), then the logo (``l=``) and the certificate (``a=``), each resolved and fetched over
HTTPS from an address the plan found. Every failed lookup or fetch stays visible and makes its part
unknown, never missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask_one, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.observations.dmarc import DmarcObservation, dmarc_plan
from mimawari.observations.mta_sts import HttpsFetch, Retrieval, fetch_https
from mimawari.parse.bimi import (
    BimiRecord,
    MarkCertificate,
    SvgLogo,
    analyse_svg,
    is_bimi_record,
    parse_bimi,
    parse_mark_certificate,
)
from mimawari.parse.names import organizational_domain

SELECTOR = "default"


@dataclass(frozen=True)
class BimiObservation:
    """``status``: PRESENT when BIMI records were found at ``location``, ABSENT when neither name has
    one, TIMEOUT or ERROR when a lookup failed (the organisational domain is then not consulted)."""

    domain: str
    status: Status
    location: str | None = None
    lookups: tuple[DnsAnswer, ...] = ()
    records: tuple[str, ...] = ()
    record: BimiRecord | None = None
    """The parsed record when there is exactly one."""
    dmarc: DmarcObservation | None = None
    logo_fetch: HttpsFetch | None = None
    logo: SvgLogo | None = None
    certificate_fetch: HttpsFetch | None = None
    certificate: MarkCertificate | None = None
    observed_at: int = 0
    """When the scan ran (``Target.observed_at``): the moment the certificate's dates are judged at."""

    @property
    def usable(self) -> bool:
        """One valid record that asks for a logo (not a declination): what the other checks look at."""
        return self.record is not None and self.record.valid and not self.record.declined


def bimi_plan(target: Target) -> Plan[BimiObservation]:
    domain = target.domain
    lookups: list[DnsAnswer] = []
    for name in dict.fromkeys((domain, organizational_domain(domain))):
        location = f"{SELECTOR}._bimi.{name}"
        answer = yield from ask_one(Query.of(location, "TXT"))
        lookups.append(answer)
        if not answer.status.answered:
            return BimiObservation(domain, answer.status, lookups=tuple(lookups))
        records = tuple(v for v in map(txt_value, answer.records) if is_bimi_record(v))
        if records:
            break
    else:
        return BimiObservation(domain, Status.ABSENT, lookups=tuple(lookups))
    record = parse_bimi(records[0]) if len(records) == 1 else None
    found = BimiObservation(domain, Status.PRESENT, location, tuple(lookups), records, record)
    if record is None or not found.usable:
        return found
    dmarc = yield from dmarc_plan(target)
    logo_fetch = logo = certificate_fetch = certificate = None
    if record.logo_url:
        logo_fetch = yield from fetch_https(record.logo_url, "image/svg+xml")
        logo = analyse_svg(logo_fetch.body) if logo_fetch.body else None
    if record.authority_url:
        certificate_fetch = yield from fetch_https(record.authority_url)
        if certificate_fetch.retrieval is Retrieval.RETRIEVED:
            certificate = parse_mark_certificate(certificate_fetch.body)
    return BimiObservation(
        domain,
        Status.PRESENT,
        location,
        tuple(lookups),
        records,
        record,
        dmarc,
        logo_fetch,
        logo,
        certificate_fetch,
        certificate,
        target.moment(),
    )


BIMI = Observer("bimi", bimi_plan)
