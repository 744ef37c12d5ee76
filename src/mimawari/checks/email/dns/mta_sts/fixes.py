"""What the MTA-STS checks share: evidence of the lookups and fetch, and the record and policy to publish."""

from __future__ import annotations

from mimawari.model import Evidence, Reference
from mimawari.observations.mta_sts import MtaStsObservation
from mimawari.parse.mta_sts import MAX_AGE_RECOMMENDED, StsMode, StsPolicy

STARTER_ID = "1"
"""The policy id of a first record; RFC 8461 §3.1 only asks that it change whenever the policy does."""
STARTER_MAX_AGE = 604_800
"""One week: RFC 8461 §3.2 recommends weeks; long enough for senders to cache across outages."""
MAX_EVIDENCE_BODY = 1000

REFERENCES = (
    Reference("RFC 8461 §3", "https://www.rfc-editor.org/rfc/rfc8461#section-3"),
    Reference("RFC 8461 §4.1", "https://www.rfc-editor.org/rfc/rfc8461#section-4.1"),
)


def zone_line(owner: str, value: str) -> str:
    return f'{owner}. IN TXT "{value}"'


def evidence(observation: MtaStsObservation, *, policy: bool = False) -> tuple[Evidence, ...]:
    """The TXT lookup, and with ``policy`` the host lookups, the fetches and the policy text, verbatim."""
    found = [Evidence(str(observation.txt_lookup.query), observation.txt_lookup.describe())]
    fetched = observation.policy_fetch
    if policy and fetched is not None:
        found += [Evidence(str(a.query), a.describe()) for a in fetched.lookups]
        found += [Evidence(str(r.request), r.describe()) for r in fetched.responses]
        if fetched.problem:
            found.append(Evidence(fetched.url, fetched.problem))
        if fetched.body:
            found.append(Evidence("policy", fetched.body[:MAX_EVIDENCE_BODY]))
    return tuple(found)


def mx_evidence(observation: MtaStsObservation) -> tuple[Evidence, ...]:
    lookup = observation.mx_lookup
    return (Evidence(str(lookup.query), lookup.describe()),) if lookup is not None else ()


def covering_patterns(observation: MtaStsObservation, current: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``current`` plus a pattern for every MX host it does not cover yet."""
    policy = StsPolicy(mx=current)
    missing = tuple(host for host in observation.mx_hosts if not policy.covers(host))
    return current + missing if (current or missing) else (f"mail.{observation.domain}",)


def fixed_policy(observation: MtaStsObservation, mode: StsMode | None = None) -> StsPolicy:
    """The published policy made valid: its good fields kept, every MX host covered, max_age ≥ a day."""
    current = observation.policy or StsPolicy()
    max_age = current.max_age
    if max_age is None or max_age < MAX_AGE_RECOMMENDED:
        max_age = STARTER_MAX_AGE
    return StsPolicy(
        version="STSv1",
        mode=mode or current.mode or StsMode.TESTING,
        max_age=max_age,
        mx=covering_patterns(observation, current.mx),
    )


def policy_snippet(observation: MtaStsObservation, policy: StsPolicy) -> str:
    return f"# {observation.policy_url} (Content-Type: text/plain)\n{policy.to_text()}"


def starter_snippet(observation: MtaStsObservation) -> str:
    """Everything a domain without MTA-STS publishes: the TXT record, and the policy file and its host."""
    record = zone_line(f"_mta-sts.{observation.domain}", f"v=STSv1; id={STARTER_ID}")
    policy = StsPolicy("STSv1", StsMode.TESTING, STARTER_MAX_AGE, covering_patterns(observation))
    return (
        f"{record}\n"
        f"# {observation.policy_host} must resolve to an HTTPS server with a certificate valid for it.\n"
        f"{policy_snippet(observation, policy)}"
    )
