"""What the BIMI checks share: evidence of the record lookups and of the HTTPS fetches, and references."""

from __future__ import annotations

from mimawari.model import Evidence, Reference
from mimawari.observations.bimi import BimiObservation
from mimawari.observations.mta_sts import HttpsFetch

REFERENCES = (
    Reference(
        "draft-brand-indicators-for-message-identification",
        "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    ),
    Reference("BIMI Group implementation guide", "https://bimigroup.org/implementation-guide/"),
)


def record_evidence(observation: BimiObservation) -> tuple[Evidence, ...]:
    return tuple(Evidence(str(answer.query), answer.describe()) for answer in observation.lookups)


def fetch_evidence(fetched: HttpsFetch | None) -> tuple[Evidence, ...]:
    if fetched is None:
        return ()
    found = [Evidence(str(a.query), a.describe()) for a in fetched.lookups]
    found += [Evidence(str(r.request), r.describe()) for r in fetched.responses]
    if fetched.problem:
        found.append(Evidence(fetched.url, fetched.problem))
    return tuple(found)


def zone_line(owner: str, value: str) -> str:
    return f'{owner}. IN TXT "{value}"'
