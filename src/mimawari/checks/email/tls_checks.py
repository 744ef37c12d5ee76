"""The five TLS checks both server categories make, built from the shared verdicts of ``tls_grading``.

``<prefix>.tls_versions``, ``.tls_ciphers``, ``.tls_key_exchange``, ``.certificate`` and
``.certificate_key``: every endpoint is graded on its own by the NCSC-NL profile and the worst grade
counts (the rules are in ``docs/tls.md``). A category gives each check its title, severity and
references, its own N/A-or-unknown rule for the observation as a whole, and the grade of an untrusted
certificate. The observation hands over every server, not only those whose session reached TLS, so
that one that timed out counts as "could not be examined" (unknown) rather than as "no TLS" (N/A).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mimawari.check import Check
from mimawari.checks.email.tls_grading import (
    certificate_key_verdict,
    certificate_verdict,
    ciphers_verdict,
    key_exchange_verdict,
    versions_verdict,
)
from mimawari.model import Category, Grade, Reference, Severity, Text, Verdict
from mimawari.observations import Observer
from mimawari.probes import TlsEndpoint

NCSC_TLS = Reference(
    "NCSC-NL IT Security Guidelines for TLS 2.1",
    "https://english.ncsc.nl/publications/publications/2021/january/19/it-security-guidelines-for-transport-layer-security-2.1",
)


class TlsServers(Protocol):
    """An observation of servers with TLS: the MTA and the mailbox observations."""

    @property
    def observed_at(self) -> int: ...

    def tls_endpoints(self) -> tuple[TlsEndpoint, ...]: ...


ObsT = TypeVar("ObsT", bound=TlsServers)
TlsVerdict = Callable[[Sequence[TlsEndpoint], int, Grade], Verdict]
"""A shared verdict given the endpoints, the scan's moment and the grade of an untrusted certificate."""

VERDICTS: Mapping[str, TlsVerdict] = {
    "tls_versions": lambda endpoints, _moment, _untrusted: versions_verdict(endpoints),
    "tls_ciphers": lambda endpoints, _moment, _untrusted: ciphers_verdict(endpoints),
    "tls_key_exchange": lambda endpoints, _moment, _untrusted: key_exchange_verdict(endpoints),
    "certificate": lambda endpoints, moment, untrusted: certificate_verdict(
        endpoints, moment, untrusted=untrusted
    ),
    "certificate_key": lambda endpoints, _moment, _untrusted: certificate_key_verdict(endpoints),
}


@dataclass(frozen=True)
class TlsCheck:
    """One of the five checks as a category names it: ``name`` is a key of ``VERDICTS``."""

    name: str
    title: Text
    severity: Severity
    references: tuple[Reference, ...] = (NCSC_TLS,)


def tls_checks(
    prefix: str,
    category: Category,
    observer: Observer[ObsT],
    not_graded: Callable[[ObsT], Verdict | None],
    untrusted: Grade,
    checks: Sequence[TlsCheck],
) -> tuple[Check[ObsT], ...]:
    """The checks, in the order given, with ids ``<prefix>.<name>``."""

    def build(spec: TlsCheck) -> Check[ObsT]:
        verdict = VERDICTS[spec.name]

        def evaluate(observation: ObsT) -> Verdict:
            early = not_graded(observation)
            if early is not None:
                return early
            return verdict(observation.tls_endpoints(), observation.observed_at, untrusted)

        return Check(
            f"{prefix}.{spec.name}", category, spec.severity, spec.title, spec.references, observer, evaluate
        )

    return tuple(build(spec) for spec in checks)
