"""SPF posture of a domain: its record, and the whole include/redirect tree walked level by level.

Where ``spf_eval`` answers "may this IP send for this domain", this observation answers "how well is
the SPF policy kept": every record a receiver may have to read (each level of the tree is asked
concurrently), the DNS-lookup terms and void lookups a receiver spends in the worst case (a sender
that matches nothing, RFC 7208 §4.6.4), and what each include target answered. It also records the
obsolete SPF RR (type 99, §3.1) and the MX answer, which the checks use to propose a first record.

Nothing is concluded from a failed lookup: a node whose TXT lookup timed out has status ``timeout``,
and ``complete`` is False, so the checks grade ``unknown`` instead of reporting a missing record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from mimawari.lookup import DnsAnswer, Plan, Query, ask, txt_value
from mimawari.model import Status, Target
from mimawari.observations import Observer
from mimawari.parse.spf import Mechanism, Term, parse_spf, select_spf_records
from mimawari.parse.spf_macro import MacroString, target_name

MAX_NODES = 60
"""Walk at most this many records: far beyond what a valid tree (10 lookups) can hold."""


class SpfNodeStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NO_RECORD = "no-record"
    MULTIPLE = "multiple"
    TIMEOUT = "timeout"
    ERROR = "error"
    LOOP = "loop"
    NOT_FOLLOWED = "not-followed"
    """The target depends on macros (known only per message), or the walk limit was reached."""

    @property
    def failed(self) -> bool:
        return self in (SpfNodeStatus.TIMEOUT, SpfNodeStatus.ERROR)


@dataclass(frozen=True)
class SpfNode:
    """One record in the tree. ``parent`` indexes ``SpfObservation.tree``; ``via`` is the term that
    led here (``include:…`` or ``redirect=…``), empty for the domain's own record."""

    domain: str
    status: SpfNodeStatus
    parent: int | None = None
    via: str = ""
    depth: int = 0
    record: str = ""
    records: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    lookup_terms: int = 0
    void_lookups: tuple[str, ...] = ()
    """Lookups of this record's a/mx/exists targets that came back NXDOMAIN or NODATA."""
    failed_lookups: tuple[str, ...] = ()
    """Those lookups that timed out or failed: the void count is then not known."""
    uses_ptr: bool = False
    txt_lookup: DnsAnswer | None = None
    answer_bytes: int = 0
    """Size of the TXT answer in a plain DNS reply (no EDNS): over 512 bytes it is truncated on UDP."""
    longest_string: int = 0


@dataclass(frozen=True)
class SpfObservation:
    domain: str
    status: Status
    """PRESENT when the domain has v=spf1 records, ABSENT when it has none, TIMEOUT/ERROR when unknown."""
    records: tuple[str, ...] = ()
    tree: tuple[SpfNode, ...] = ()
    lookup_count: int = 0
    """DNS-lookup terms over the whole tree (§4.6.4), as a receiver spends them for a non-matching IP."""
    void_lookup_count: int = 0
    include_loop: bool = False
    complete: bool = True
    """Every record of the tree was read and every void-count lookup answered."""
    spf_rr: DnsAnswer | None = None
    mx: DnsAnswer | None = None

    @property
    def tree_read(self) -> bool:
        """Every record of the tree was read (void-count lookups aside)."""
        return not any(n.status.failed for n in self.tree)

    @property
    def root(self) -> SpfNode | None:
        return self.tree[0] if self.tree else None

    def children(self, index: int) -> list[tuple[int, SpfNode]]:
        return [(i, node) for i, node in enumerate(self.tree) if node.parent == index]


@dataclass
class _Pending:
    domain: str
    parent: int | None
    via: str
    depth: int
    ancestors: tuple[str, ...]
    status: SpfNodeStatus | None = None
    void_queries: list[Query] = field(default_factory=list)


def spf_posture_plan(target: Target) -> Plan[SpfObservation]:
    domain = target.domain
    root_txt, spf_rr, mx = yield from ask(
        Query.of(domain, "TXT"), Query.of(domain, "SPF"), Query.of(domain, "MX")
    )
    answers: dict[Query, DnsAnswer] = {root_txt.query: root_txt}
    pending = [_Pending(domain, None, "", 0, ())]
    done: list[tuple[_Pending, SpfNode]] = []
    void_queue: list[Query] = []
    while pending or void_queue:
        wanted = [Query.of(p.domain, "TXT") for p in pending if p.status is None]
        batch = [q for q in dict.fromkeys([*wanted, *void_queue]) if q not in answers]
        if batch:
            for answer in (yield from ask(*batch)):
                answers[answer.query] = answer
        void_queue = []
        following: list[_Pending] = []
        for item in pending:
            node, children = _read(item, answers, len(done) + len(following) + len(pending))
            index = len(done)
            done.append((item, node))
            void_queue += item.void_queries
            for child in children:
                child.parent = index
                following.append(child)
        pending = following
    return _observation(domain, spf_rr, mx, done, answers)


def _read(item: _Pending, answers: dict[Query, DnsAnswer], walked: int) -> tuple[SpfNode, list[_Pending]]:
    """The node for a pending record, and the include/redirect targets to read next."""
    if item.status is not None:
        return SpfNode(item.domain, item.status, item.parent, item.via, item.depth), []
    answer = answers[Query.of(item.domain, "TXT")]
    base = SpfNode(
        item.domain,
        SpfNodeStatus.NO_RECORD,
        item.parent,
        item.via,
        item.depth,
        txt_lookup=answer,
        answer_bytes=_answer_bytes(answer),
        longest_string=_longest_string(answer),
    )
    if not answer.status.answered:
        status = SpfNodeStatus.TIMEOUT if answer.status is Status.TIMEOUT else SpfNodeStatus.ERROR
        return replace(base, status=status), []
    records = select_spf_records([txt_value(r) for r in answer.records])
    if not records:
        return base, []
    record = parse_spf(records[0])
    node = replace(
        base,
        status=SpfNodeStatus.VALID,
        record=records[0],
        records=records,
        problems=record.problems,
        lookup_terms=record.lookup_terms,
        uses_ptr=any(m.name == "ptr" for m in record.mechanisms)
        or any("p" in _spec_letters(t) for t in record.terms),
    )
    if len(records) > 1:
        return replace(node, status=SpfNodeStatus.MULTIPLE), []
    if record.problems:
        return replace(node, status=SpfNodeStatus.INVALID), []
    children: list[_Pending] = []
    ancestors = (*item.ancestors, item.domain)
    for mechanism in record.evaluated_mechanisms:
        void_query = _void_query(mechanism, item.domain)
        if void_query is not None:
            item.void_queries.append(void_query)
        if mechanism.name == "include" and mechanism.domain_spec is not None:
            children.append(
                _child(mechanism.text, mechanism.domain_spec, item, ancestors, walked + len(children))
            )
    redirect = record.redirect
    if redirect is not None:
        children.append(_child(redirect.text, redirect.value, item, ancestors, walked + len(children)))
    return node, children


def _child(via: str, spec: MacroString, item: _Pending, ancestors: tuple[str, ...], walked: int) -> _Pending:
    name = target_name(spec.text).lower() if not spec.has_macros else spec.text
    child = _Pending(name, None, via, item.depth + 1, ancestors)
    if spec.has_macros or walked >= MAX_NODES:
        child.status = SpfNodeStatus.NOT_FOLLOWED
    elif name in ancestors:
        child.status = SpfNodeStatus.LOOP
    return child


def _void_query(mechanism: Mechanism, domain: str) -> Query | None:
    """The lookup whose empty answer makes ``mechanism`` a void lookup, for an IPv4 sender."""
    spec = mechanism.domain_spec
    if mechanism.name not in ("a", "mx", "exists") or (spec is not None and spec.has_macros):
        return None
    name = target_name(spec.text) if spec is not None else domain
    return Query.of(name, "MX" if mechanism.name == "mx" else "A")


def _spec_letters(term: Term) -> frozenset[str]:
    spec = term.domain_spec if isinstance(term, Mechanism) else term.value
    return spec.letters if spec is not None else frozenset()


def _observation(
    domain: str,
    spf_rr: DnsAnswer,
    mx: DnsAnswer,
    done: list[tuple[_Pending, SpfNode]],
    answers: dict[Query, DnsAnswer],
) -> SpfObservation:
    nodes = []
    for item, node in done:
        void_answers = [answers[q] for q in item.void_queries]
        nodes.append(
            replace(
                node,
                void_lookups=tuple(
                    f"{a.query}: {a.outcome}" for a in void_answers if a.status is Status.ABSENT
                ),
                failed_lookups=tuple(
                    f"{a.query}: {a.outcome}" for a in void_answers if not a.status.answered
                ),
            )
        )
    root = nodes[0]
    if root.status.failed:
        assert root.txt_lookup is not None
        status = root.txt_lookup.status
    else:
        status = Status.ABSENT if root.status is SpfNodeStatus.NO_RECORD else Status.PRESENT
    return SpfObservation(
        domain=domain,
        status=status,
        records=root.records,
        tree=tuple(nodes),
        lookup_count=sum(n.lookup_terms for n in nodes if n.status is SpfNodeStatus.VALID),
        void_lookup_count=sum(len(n.void_lookups) for n in nodes),
        include_loop=any(n.status is SpfNodeStatus.LOOP for n in nodes),
        complete=not any(n.status.failed or n.failed_lookups for n in nodes),
        spf_rr=spf_rr,
        mx=mx,
    )


def _strings(record: str) -> list[bytes]:
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, record)
    except dns.exception.DNSException:
        return [record.encode()]
    assert isinstance(rdata, dns.rdtypes.ANY.TXT.TXT)
    return list(rdata.strings)


def _answer_bytes(answer: DnsAnswer) -> int:
    """Header, question and answer records of the reply on the wire, without EDNS (RFC 1035 §4.1)."""
    if answer.status is not Status.PRESENT:
        return 0
    question = len(answer.query.name) + 2 + 4
    # Each answer record: compressed owner name (2), type, class, TTL, length (10), then the strings.
    rdata = sum(2 + 10 + sum(1 + len(s) for s in _strings(r)) for r in answer.records)
    return 12 + question + rdata


def _longest_string(answer: DnsAnswer) -> int:
    return max((len(s) for r in answer.records for s in _strings(r)), default=0)


SPF = Observer("spf", spf_posture_plan)


def with_root_record(observation: SpfObservation, record: str) -> SpfObservation:
    """The observation as it would be with ``record`` published instead (what-if for after-fix grades).

    The root node is re-derived from the record; included records the new one no longer names are
    dropped with their subtrees; records it newly names are not known and are left out.
    """
    parsed = parse_spf(record)
    root = observation.tree[0] if observation.tree else SpfNode(observation.domain, SpfNodeStatus.NO_RECORD)
    terms = {t.text for t in parsed.evaluated_mechanisms}
    if parsed.redirect is not None:
        terms.add(parsed.redirect.text)
    queries = {str(q) for m in parsed.evaluated_mechanisms if (q := _void_query(m, observation.domain))}
    new_root = replace(
        root,
        status=SpfNodeStatus.VALID if parsed.valid else SpfNodeStatus.INVALID,
        record=record,
        records=(record,),
        problems=parsed.problems,
        lookup_terms=parsed.lookup_terms,
        uses_ptr=any(m.name == "ptr" for m in parsed.mechanisms)
        or any("p" in _spec_letters(t) for t in parsed.terms),
        void_lookups=tuple(v for v in root.void_lookups if v.split(":")[0] in queries),
        failed_lookups=tuple(v for v in root.failed_lookups if v.split(":")[0] in queries),
    )
    kept: dict[int, int] = {0: 0}
    nodes = [new_root]
    for index, node in enumerate(observation.tree[1:], start=1):
        if node.parent is None or node.parent not in kept or (node.parent == 0 and node.via not in terms):
            continue
        kept[index] = len(nodes)
        nodes.append(replace(node, parent=kept[node.parent]))
    valid = [n for n in nodes if n.status is SpfNodeStatus.VALID]
    return replace(
        observation,
        status=Status.PRESENT,
        records=(record,),
        tree=tuple(nodes),
        lookup_count=sum(n.lookup_terms for n in valid),
        void_lookup_count=sum(len(n.void_lookups) for n in nodes),
        include_loop=any(n.status is SpfNodeStatus.LOOP for n in nodes),
        complete=not any(n.status.failed or n.failed_lookups for n in nodes),
    )
