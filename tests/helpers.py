"""Helpers that keep check tests short: a recorded snapshot from a compact description."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.lab.zones import quote_txt
from mimawari.lookup import DnsAnswer, Query, Snapshot
from mimawari.model import Finding, Status, Target
from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, Scope
from mimawari.scan import evaluate_snapshot

OUTCOMES = {
    "NXDOMAIN": (Status.ABSENT, "NXDOMAIN"),
    "NODATA": (Status.ABSENT, "NOERROR"),
    "timeout": (Status.TIMEOUT, ""),
    "SERVFAIL": (Status.ERROR, "SERVFAIL"),
}


def lab_network(nameserver: Nameserver, *, timeout: float = 1.0, attempts: int = 2) -> Network:
    """A scan network for the lab: its DNS server, loopback allowed for connections."""
    return Network(
        DnsClient([nameserver], timeout=timeout, attempts=attempts),
        HttpClient(scope=Scope(allow_loopback=True)),
    )


def recorded(target: str, answers: Mapping[str, str | Sequence[str]]) -> Snapshot:
    """``{"_dmarc.example.test TXT": ["v=DMARC1; p=none"]}``; a string value names an outcome
    (NXDOMAIN, NODATA, timeout, SERVFAIL). TXT values are given as plain text."""
    recorded_answers = []
    for key, value in answers.items():
        name, rdtype = key.rsplit(" ", 1)
        query = Query.of(name, rdtype)
        if isinstance(value, str):
            status, rcode = OUTCOMES[value]
            recorded_answers.append(DnsAnswer(query, status, rcode))
        else:
            records = tuple(quote_txt(v) if query.rdtype == "TXT" else v for v in value)
            recorded_answers.append(DnsAnswer(query, Status.PRESENT, "NOERROR", records, 300))
    return Snapshot.of(Target(target), recorded_answers)


def finding(snapshot: Snapshot, check_id: str, checks: Registry = ALL_CHECKS) -> Finding:
    report = evaluate_snapshot(snapshot, {check_id: checks[check_id]})
    (result,) = report.findings
    return result
