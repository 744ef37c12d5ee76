"""DMARC policy discovery (RFC 7489 §6.6.3): the record at the domain, else at its organisational domain."""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask_one, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.parse.dmarc import is_dmarc_record
from mimawari.parse.names import organizational_domain


@dataclass(frozen=True)
class DmarcObservation:
    """Where a domain's DMARC policy comes from.

    ``status`` is PRESENT when v=DMARC1 records were found at ``location`` (more than one means none
    applies), ABSENT when neither name has one, and TIMEOUT or ERROR when a lookup failed — in which
    case nothing is concluded about the record, and the organisational domain is not consulted.
    """

    domain: str
    org_domain: str
    status: Status
    location: str | None = None
    records: tuple[str, ...] = ()
    lookups: tuple[DnsAnswer, ...] = ()

    @property
    def inherited(self) -> bool:
        """True when the policy comes from the organisational domain's record."""
        return self.location is not None and self.location != f"_dmarc.{self.domain}"


def dmarc_plan(target: Target) -> Plan[DmarcObservation]:
    domain = target.domain
    org_domain = organizational_domain(domain)
    lookups: list[DnsAnswer] = []
    for name in dict.fromkeys((domain, org_domain)):
        answer = yield from ask_one(Query.of(f"_dmarc.{name}", "TXT"))
        lookups.append(answer)
        if not answer.status.answered:
            return DmarcObservation(domain, org_domain, answer.status, lookups=tuple(lookups))
        records = tuple(value for value in map(txt_value, answer.records) if is_dmarc_record(value))
        if records:
            return DmarcObservation(
                domain, org_domain, Status.PRESENT, f"_dmarc.{name}", records, tuple(lookups)
            )
    return DmarcObservation(domain, org_domain, Status.ABSENT, lookups=tuple(lookups))


DMARC = Observer("dmarc", dmarc_plan)
