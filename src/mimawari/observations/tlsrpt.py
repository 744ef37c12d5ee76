"""SMTP TLS Reporting (RFC 8460): the ``_smtp._tls`` record, and whether MTA-STS or DANE makes it matter.

The plan asks the TLS-RPT record, the MTA-STS record and the MX together. Only when TLS-RPT is missing
or unusable and no MTA-STS record was seen does it ask for TLSA at ``_25._tcp.<mx>`` (RFC 7672 §2.2),
the DANE half of the cross-check; the scan's DNS cache shares those answers with the DANE checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimawari.lookup import DnsAnswer, Plan, Query, ask, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.observations.mta_sts import mx_hosts_of
from mimawari.parse.mta_sts import is_sts_record
from mimawari.parse.tlsrpt import TlsRptRecord, is_tlsrpt_record, parse_tlsrpt

MAX_MX_FOR_DANE = 10


@dataclass(frozen=True)
class TlsRptObservation:
    """``status`` is that of the ``_smtp._tls`` lookup (PRESENT: v=TLSRPTv1 records were found).

    ``mta_sts`` and ``dane_hosts`` say what TLS-RPT would report on; ``cross_check_failures`` are the
    lookups of that cross-check that failed, so a verdict can say what it could not see.
    """

    domain: str
    status: Status
    lookup: DnsAnswer
    records: tuple[str, ...] = ()
    record: TlsRptRecord | None = None
    mta_sts: bool = False
    mx_hosts: tuple[str, ...] = ()
    dane_hosts: tuple[str, ...] = ()
    cross_check: tuple[DnsAnswer, ...] = ()

    @property
    def usable(self) -> bool:
        """Senders send reports: exactly one valid record (RFC 8460 §3)."""
        return self.record is not None and self.record.valid

    @property
    def cross_check_failures(self) -> tuple[DnsAnswer, ...]:
        return tuple(a for a in self.cross_check if not a.status.answered)

    @property
    def receives_mail(self) -> bool | None:
        mx = next((a for a in self.cross_check if a.query.rdtype == "MX"), None)
        if mx is None or not mx.status.answered:
            return None
        return bool(self.mx_hosts)


def tlsrpt_plan(target: Target) -> Plan[TlsRptObservation]:
    domain = target.domain
    lookup, sts, mx = yield from ask(
        Query.of(f"_smtp._tls.{domain}", "TXT"), Query.of(f"_mta-sts.{domain}", "TXT"), Query.of(domain, "MX")
    )
    records = tuple(v for v in map(txt_value, lookup.records) if is_tlsrpt_record(v))
    record = parse_tlsrpt(records[0]) if len(records) == 1 else None
    status = lookup.status if not lookup.status.answered or records else Status.ABSENT
    mx_hosts = mx_hosts_of(mx)
    mta_sts = any(is_sts_record(txt_value(r)) for r in sts.records)
    observation = TlsRptObservation(domain, status, lookup, records, record, mta_sts, mx_hosts, (), (sts, mx))
    if not lookup.status.answered or observation.usable or mta_sts or not mx_hosts:
        return observation
    tlsa = yield from ask(*(Query.of(f"_25._tcp.{host}", "TLSA") for host in mx_hosts[:MAX_MX_FOR_DANE]))
    dane_hosts = tuple(a.query.name.removeprefix("_25._tcp.") for a in tlsa if a.status is Status.PRESENT)
    return TlsRptObservation(
        domain, status, lookup, records, record, mta_sts, mx_hosts, dane_hosts, (sts, mx, *tlsa)
    )


TLSRPT = Observer("tlsrpt", tlsrpt_plan)
