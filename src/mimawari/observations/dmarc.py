"""DMARC policy discovery, both ways receivers do it, and the authorisation of external report addresses.

* RFC 7489 §6.6.3: the record at the domain, else at its organisational domain from the bundled public
  suffix list. This gives ``status``/``location``/``records``, which the policy checks grade.
* RFC 9989 §4.10: the DNS tree walk (at most eight queries) up to the top-level domain, whose ``psd``
  tags and records decide the organisational domain. Recorded in ``tree_walk``.
* RFC 7489 §7.1: a report address in another organisational domain receives reports only when
  ``<domain>._report._dmarc.<host>`` publishes ``v=DMARC1``. Recorded in ``reports``.

All discovery queries go out at once (one round trip); the algorithms then read the answers in the order
the RFCs give, so a failed lookup is only ever consulted where the RFC would have asked it. A timeout or
error at any step the result depends on makes that result TIMEOUT or ERROR, never absent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mimawari.lookup import DnsAnswer, Plan, Query, ask, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.parse.dmarc import DmarcRecord, is_dmarc_record, looks_like_dmarc, parse_dmarc
from mimawari.parse.names import organizational_domain

MAX_WALK_QUERIES = 8
"""RFC 9989 §4.10: a tree walk never makes more than eight queries."""


@dataclass(frozen=True)
class TreeWalk:
    """The RFC 9989 §4.10 DNS tree walk from the scanned domain towards the root.

    ``status`` is PRESENT when a policy record applies (at ``policy_domain``), ABSENT when the walk
    finished without one, TIMEOUT or ERROR when a lookup it needed failed. ``org_domain`` is None when a
    failed lookup leaves it undecided (§4.10.2 needs every record up to where the walk stops).
    """

    status: Status
    names: tuple[str, ...]
    """The domains whose ``_dmarc`` name the walk queried, in walk order (at most eight)."""
    found: tuple[str, ...] = ()
    """The domains that hold exactly one valid DMARC record."""
    policy_domain: str | None = None
    org_domain: str | None = None
    psd: str | None = None
    """Where the walk stopped on a ``psd=y``/``psd=n`` record: "<domain> psd=y"; None otherwise."""
    lookups: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class ReportDestination:
    """One ``rua``/``ruf`` address and whether its host agreed to receive reports (RFC 7489 §7.1).

    ``status``: NOT_APPLICABLE when the host is in the policy's own organisational domain (no check
    needed), PRESENT when ``query`` holds a v=DMARC1 record (authorised), ABSENT when it holds none
    (receivers send no reports there), TIMEOUT or ERROR when the lookup failed (unknown).
    """

    tag: str
    uri: str
    host: str
    status: Status
    query: str = ""
    answer: DnsAnswer | None = None


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
    record: DmarcRecord | None = None
    """The parsed record when exactly one was found (its tags, in order, and its problems)."""
    ignored: tuple[tuple[str, str], ...] = ()
    """(name, TXT value) at the queried names meant as DMARC but discarded by receivers (bad ``v=``)."""
    tree_walk: TreeWalk | None = None
    reports: tuple[ReportDestination, ...] = ()

    @property
    def inherited(self) -> bool:
        """True when the policy comes from the organisational domain's record."""
        return self.location is not None and self.location != f"_dmarc.{self.domain}"

    @property
    def policy_domain(self) -> str | None:
        """The domain whose record applies (``location`` without ``_dmarc.``)."""
        return self.location.removeprefix("_dmarc.") if self.location else None

    @property
    def discovery_agrees(self) -> bool | None:
        """Whether RFC 7489 and RFC 9989 discovery find the same record and organisational domain;
        None when either could not finish."""
        walk = self.tree_walk
        if walk is None or not walk.status.answered or walk.org_domain is None or not self.status.answered:
            return None
        return walk.policy_domain == self.policy_domain and walk.org_domain == self.org_domain

    def with_record(self, text: str, location: str | None = None) -> DmarcObservation:
        """This observation as if ``text`` were the one record (at ``location``, default the current
        one or the organisational domain): how checks grade a fix."""
        where = location or self.location or f"_dmarc.{self.org_domain}"
        return replace(self, status=Status.PRESENT, location=where, records=(text,), record=parse_dmarc(text))


def walk_names(domain: str) -> tuple[str, ...]:
    """The domains an RFC 9989 §4.10 tree walk queries: the domain, then its parents — jumping to the
    last seven labels first when the domain has more than eight — down to the top-level domain."""
    labels = domain.split(".")
    start = labels[1:] if len(labels) <= MAX_WALK_QUERIES else labels[-(MAX_WALK_QUERIES - 1) :]
    return (domain, *(".".join(start[i:]) for i in range(len(start))))


def dmarc_records(answer: DnsAnswer) -> tuple[str, ...]:
    """The TXT values of ``answer`` that receivers keep as DMARC records (RFC 7489 §6.6.3 step 3)."""
    return tuple(value for value in map(txt_value, answer.records) if is_dmarc_record(value))


def tree_walk(domain: str, answers: dict[str, DnsAnswer]) -> TreeWalk:
    """Run the RFC 9989 tree walk over answers for ``_dmarc.<name>`` (keyed by name)."""
    names = walk_names(domain)
    found: dict[str, DmarcRecord] = {}
    consumed: list[DnsAnswer] = []
    failure: DnsAnswer | None = None
    psd: str | None = None
    for name in names:
        answer = answers[name]
        consumed.append(answer)
        if not answer.status.answered:
            failure = answer
            break
        records = dmarc_records(answer)
        if len(records) == 1:  # §4.10 step 2: several records at one name are all discarded
            found[name] = parse_dmarc(records[0])
            if found[name].psd in ("y", "n"):
                psd = f"{name} psd={found[name].psd}"
                break
    queried = tuple(a.query.name.removeprefix("_dmarc.") for a in consumed)
    lookups = tuple(consumed)
    if failure is not None:
        # The domain's own record still applies (§4.10.1), but the organisational domain is undecided.
        if domain in found:
            return TreeWalk(Status.PRESENT, queried, tuple(found), domain, None, psd, lookups)
        return TreeWalk(failure.status, queried, tuple(found), lookups=lookups)
    org = _organizational_domain(domain, names, found)
    policy_domain = next(
        (d for d in (domain, org) if d in found),
        next((d for d, r in found.items() if r.psd == "y" and d != domain), None),
    )
    status = Status.PRESENT if policy_domain is not None else Status.ABSENT
    return TreeWalk(status, queried, tuple(found), policy_domain, org, psd, lookups)


def _organizational_domain(domain: str, names: tuple[str, ...], found: dict[str, DmarcRecord]) -> str:
    """RFC 9989 §4.10.2: from the longest name to the shortest, psd=n is the organisational domain,
    psd=y (not at the start) makes the name one label below it one, else the shortest name with a record."""
    for name in names:
        record = found.get(name)
        if record is None:
            continue
        if record.psd == "n":
            return name
        if record.psd == "y" and name != domain:
            return ".".join(domain.split(".")[-(name.count(".") + 2) :])
    return min(found, key=lambda d: d.count("."), default=domain)


def dmarc_plan(target: Target) -> Plan[DmarcObservation]:
    domain = target.domain
    org_domain = organizational_domain(domain)
    names = list(dict.fromkeys((*walk_names(domain), org_domain)))
    answers = yield from ask(*(Query.of(f"_dmarc.{name}", "TXT") for name in names))
    by_name = dict(zip(names, answers, strict=True))
    walk = tree_walk(domain, by_name)
    observation = _rfc7489_discovery(domain, org_domain, by_name, walk)
    if observation.record is None:
        return observation
    destinations = _report_destinations(observation.record, observation.policy_domain or domain)
    queries = tuple(dict.fromkeys(Query.of(d.query, "TXT") for d in destinations if d.query))
    if not queries:
        return replace(observation, reports=destinations)
    answered = dict(zip(queries, (yield from ask(*queries)), strict=True))
    reports = tuple(
        _authorised(d, answered[Query.of(d.query, "TXT")]) if d.query else d for d in destinations
    )
    return replace(observation, reports=reports)


def _rfc7489_discovery(
    domain: str, org_domain: str, answers: dict[str, DnsAnswer], walk: TreeWalk
) -> DmarcObservation:
    lookups: list[DnsAnswer] = []
    ignored: list[tuple[str, str]] = []
    for name in dict.fromkeys((domain, org_domain)):
        answer = answers[name]
        lookups.append(answer)
        if not answer.status.answered:
            return DmarcObservation(domain, org_domain, answer.status, lookups=tuple(lookups), tree_walk=walk)
        ignored.extend((f"_dmarc.{name}", v) for v in map(txt_value, answer.records) if looks_like_dmarc(v))
        records = dmarc_records(answer)
        if records:
            record = parse_dmarc(records[0]) if len(records) == 1 else None
            return DmarcObservation(
                domain, org_domain, Status.PRESENT, f"_dmarc.{name}", records, tuple(lookups), record,
                tuple(ignored), walk,
            )  # fmt: skip
    return DmarcObservation(
        domain, org_domain, Status.ABSENT, lookups=tuple(lookups), ignored=tuple(ignored), tree_walk=walk
    )


def _report_destinations(record: DmarcRecord, policy_domain: str) -> tuple[ReportDestination, ...]:
    """Every valid mailto: URI of ``rua`` and ``ruf``; those outside the policy domain's organisational
    domain get the ``<policy domain>._report._dmarc.<host>`` query of RFC 7489 §7.1."""
    own = organizational_domain(policy_domain)
    destinations = []
    for tag in ("rua", "ruf"):
        for uri in record.report_uris(tag):
            if not uri.valid or uri.scheme != "mailto":
                continue
            if organizational_domain(uri.host) == own:
                destinations.append(ReportDestination(tag, uri.text, uri.host, Status.NOT_APPLICABLE))
            else:
                query = f"{policy_domain}._report._dmarc.{uri.host}"
                destinations.append(ReportDestination(tag, uri.text, uri.host, Status.ERROR, query))
    return tuple(destinations)


def _authorised(destination: ReportDestination, answer: DnsAnswer) -> ReportDestination:
    if not answer.status.answered:
        status = answer.status
    else:
        status = Status.PRESENT if dmarc_records(answer) else Status.ABSENT
    return replace(destination, status=status, answer=answer)


DMARC = Observer("dmarc", dmarc_plan)
