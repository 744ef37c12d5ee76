"""The SPF ``check_host()`` function of RFC 7208 §4, written as a lookup plan.

``spf_plan(ip, sender, helo)`` picks the identity (MAIL FROM, or HELO when the reverse path is empty,
§2.3–§2.4) and evaluates it; ``check_host(ip, domain, sender)`` is the function itself. Both are pure
generators that yield the DNS queries (TXT, A, AAAA, MX, PTR) they need, so they run against the
network (``observe.run_plan``) or a recorded snapshot (``lookup.replay``) alike.

Limits (§4.6.4) are counted across the whole evaluation, includes and redirects included: at most 10
terms that cost a DNS lookup, at most 2 void lookups, at most 10 MX names per ``mx`` (else permerror)
and the first 10 PTR names per ``ptr`` or ``%{p}``. DNS timeouts and errors are temperror except where
§5.5 says a ``ptr`` lookup simply fails to match. Where RFC 7208 leaves a choice, this evaluator takes
the one the openspf test suite prefers: a target name that cannot be a DNS name (empty label, label
over 63 octets) is treated as not existing, and an ``mx`` with more than 10 names is a permerror
before any address lookup.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Generator
from dataclasses import dataclass, field

from mimawari.lookup import DnsAnswer, Need, Query, Response, ask, ask_one, txt_value
from mimawari.model import Status
from mimawari.observations.spf_result import (
    RESULT_OF,
    InvalidSpfInputError,
    IPAddress,
    SpfEvaluation,
    SpfResult,
    SpfStep,
    parse_client_ip,
    parse_sender,
)
from mimawari.parse.mx import parse_mx
from mimawari.parse.spf import Mechanism, Modifier, parse_spf, select_spf_records
from mimawari.parse.spf_macro import MacroString, MacroValues, expand, parse_macro_string, target_name

__all__ = [
    "InvalidSpfInputError",
    "SpfEvaluation",
    "SpfResult",
    "SpfStep",
    "check_host",
    "parse_client_ip",
    "parse_sender",
    "spf_plan",
]

MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2
MAX_NAMES = 10


class _Abort(Exception):
    """permerror or temperror: ends the whole evaluation, whatever include depth it happens at."""

    def __init__(self, result: SpfResult, problem: str) -> None:
        super().__init__(problem)
        self.result = result
        self.problem = problem


@dataclass(frozen=True)
class _Outcome:
    result: SpfResult
    domain: str
    explanation: str = ""
    mechanism: str = ""


@dataclass
class _State:
    """The evaluation's mutable bookkeeping (limits are per check_host() call, §4.6.4)."""

    ip: IPAddress
    sender: str
    helo: str
    receiver: str
    timestamp: int
    default_explanation: str
    lookups: int = 0
    voids: int = 0
    trace: list[SpfStep] = field(default_factory=list)

    @property
    def address_type(self) -> str:
        return "A" if self.ip.version == 4 else "AAAA"

    def values(self, domain: str, validated: str = "unknown") -> MacroValues:
        return MacroValues(
            self.sender, domain, str(self.ip), self.helo, validated, self.receiver, self.timestamp
        )

    def count_lookup(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _Abort(SpfResult.PERMERROR, f"more than {MAX_LOOKUPS} DNS-lookup terms (at {term})")

    def count_void(self, answer: DnsAnswer) -> None:
        self.voids += 1
        if self.voids > MAX_VOID_LOOKUPS:
            raise _Abort(
                SpfResult.PERMERROR, f"more than {MAX_VOID_LOOKUPS} void lookups (at {answer.query})"
            )


def spf_plan(
    ip: str,
    sender: str,
    helo: str,
    *,
    receiver: str = "unknown",
    timestamp: int = 0,
    default_explanation: str = "",
) -> Generator[Need, tuple[Response, ...], SpfEvaluation]:
    """Evaluate the MAIL FROM identity, or the HELO identity when ``sender`` is empty (§2.4)."""
    if sender:
        local, at, domain = sender.rpartition("@")
        if not at:
            domain = sender
    else:
        local, domain = "", helo
    # §4.3: a sender without local-part is treated as postmaster@domain.
    mailbox = f"{local or 'postmaster'}@{domain}"
    return (
        yield from check_host(
            ip,
            domain,
            mailbox,
            helo,
            receiver=receiver,
            timestamp=timestamp,
            default_explanation=default_explanation,
        )
    )


def check_host(
    ip: str,
    domain: str,
    sender: str,
    helo: str = "",
    *,
    receiver: str = "unknown",
    timestamp: int = 0,
    default_explanation: str = "",
) -> Generator[Need, tuple[Response, ...], SpfEvaluation]:
    state = _State(parse_client_ip(ip), sender, helo, receiver, timestamp, default_explanation)
    try:
        outcome = yield from _check_host(state, domain, 0)
    except _Abort as abort:
        state.trace.append(SpfStep(0, domain, "", f"{abort.result.value}: {abort.problem}"))
        return SpfEvaluation(
            abort.result, domain, "", abort.problem, "", state.lookups, state.voids, tuple(state.trace)
        )
    return SpfEvaluation(
        outcome.result,
        outcome.domain,
        outcome.explanation,
        "",
        outcome.mechanism,
        state.lookups,
        state.voids,
        tuple(state.trace),
    )


def valid_domain(name: str) -> bool:
    """A name check_host() can look up (§4.3): ASCII, two labels or more, none empty or over 63."""
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    return (
        name.isascii()
        and name.isprintable()
        and " " not in name
        and not name.startswith("[")
        and len(name) <= 253
        and len(labels) >= 2
        and all(0 < len(label) <= 63 for label in labels)
    )


def _queryable(name: str) -> bool:
    labels = name.split(".")
    return bool(name) and name.isascii() and all(0 < len(label) <= 63 for label in labels)


def _check_host(state: _State, domain: str, depth: int) -> Generator[Need, tuple[Response, ...], _Outcome]:
    domain = domain[:-1] if domain.endswith(".") else domain
    if not valid_domain(domain):
        state.trace.append(SpfStep(depth, domain, "", "none: not a valid domain name (§4.3)"))
        return _Outcome(SpfResult.NONE, domain)
    answer = yield from ask_one(Query.of(domain, "TXT"))
    if not answer.status.answered:
        raise _Abort(SpfResult.TEMPERROR, f"TXT lookup for {domain}: {answer.outcome}")
    records = select_spf_records([txt_value(r) for r in answer.records])
    if not records:
        state.trace.append(SpfStep(depth, domain, "", f"none: no SPF record ({answer.outcome})"))
        return _Outcome(SpfResult.NONE, domain)
    if len(records) > 1:
        raise _Abort(SpfResult.PERMERROR, f"{len(records)} SPF records at {domain} (§4.5)")
    record = parse_spf(records[0])
    state.trace.append(SpfStep(depth, domain, "", records[0]))
    if record.problems:
        raise _Abort(SpfResult.PERMERROR, f"syntax error in the SPF record of {domain}: {record.problems[0]}")
    for mechanism in record.mechanisms:
        matched = yield from _evaluate(state, mechanism, domain, depth)
        state.trace.append(SpfStep(depth, domain, mechanism.text, "match" if matched else "no match"))
        if matched:
            result = RESULT_OF[mechanism.qualifier]
            explanation = ""
            if result is SpfResult.FAIL:
                explanation = yield from _explanation(state, record.modifier("exp"), domain)
            return _Outcome(result, domain, explanation, mechanism.text)
    redirect = record.redirect
    if redirect is None:
        return _Outcome(SpfResult.NEUTRAL, domain)
    state.count_lookup(redirect.text)
    target = yield from _target(state, redirect.value, domain)
    outcome = yield from _check_host(state, target, depth + 1)
    if outcome.result is SpfResult.NONE:
        raise _Abort(SpfResult.PERMERROR, f"{redirect.text}: {target} has no SPF record (§6.1)")
    return outcome


def _evaluate(
    state: _State, mechanism: Mechanism, domain: str, depth: int
) -> Generator[Need, tuple[Response, ...], bool]:
    name = mechanism.name
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        network = ipaddress.ip_network(mechanism.network)
        return network.version == state.ip.version and state.ip in network
    state.count_lookup(mechanism.text)
    target = domain
    if mechanism.domain_spec is not None:
        target = yield from _target(state, mechanism.domain_spec, domain)
    if name == "include":
        return (yield from _include(state, mechanism, target, depth))
    if not _queryable(target):
        return False  # not a name DNS can hold: treated as not existing (see the module docstring)
    if name == "a":
        addresses = yield from _addresses(state, target, void=True)
        return _in_any(state.ip, addresses, mechanism)
    if name == "mx":
        return (yield from _mx(state, mechanism, target))
    if name == "ptr":
        validated = yield from _validated_names(state, void=True)
        target = target.lower()
        return any(n == target or n.endswith("." + target) for n in validated)
    answer = yield from ask_one(Query.of(target, "A"))  # exists: always A, even for IPv6 (§5.7)
    _raise_on_failure(answer)
    if answer.status is not Status.PRESENT:
        state.count_void(answer)
    return answer.status is Status.PRESENT


def _include(
    state: _State, mechanism: Mechanism, target: str, depth: int
) -> Generator[Need, tuple[Response, ...], bool]:
    outcome = yield from _check_host(state, target, depth + 1)
    if outcome.result is SpfResult.NONE:
        raise _Abort(SpfResult.PERMERROR, f"{mechanism.text}: {target} has no SPF record (§5.2)")
    return outcome.result is SpfResult.PASS  # fail, softfail and neutral just do not match (§5.2)


def _mx(state: _State, mechanism: Mechanism, target: str) -> Generator[Need, tuple[Response, ...], bool]:
    answer = yield from ask_one(Query.of(target, "MX"))
    _raise_on_failure(answer)
    if answer.status is not Status.PRESENT:
        state.count_void(answer)
        return False
    # A Null MX (RFC 7505) names the root: it counts toward the limit but is not a name to look up.
    exchanges = sorted(mx for mx in map(parse_mx, answer.records) if mx is not None)
    if len(exchanges) > MAX_NAMES:
        raise _Abort(
            SpfResult.PERMERROR,
            f"{mechanism.text}: {len(exchanges)} MX names, more than {MAX_NAMES} (§4.6.4)",
        )
    names = [name for _, name in exchanges if _queryable(name)]
    answers = yield from ask(*(Query.of(name, state.address_type) for name in names))
    # Answers are read in MX preference order, as if asked one by one: the first error or match decides.
    for address_answer in answers:
        _raise_on_failure(address_answer)
        if _in_any(state.ip, _ips(address_answer), mechanism):
            return True
    return False


def _addresses(
    state: _State, name: str, *, void: bool
) -> Generator[Need, tuple[Response, ...], list[IPAddress]]:
    answer = yield from ask_one(Query.of(name, state.address_type))
    _raise_on_failure(answer)
    if answer.status is not Status.PRESENT and void:
        state.count_void(answer)
    return _ips(answer)


def _ips(answer: DnsAnswer) -> list[IPAddress]:
    addresses = []
    for record in answer.records:
        try:
            addresses.append(ipaddress.ip_address(record))
        except ValueError:
            continue
    return addresses


def _in_any(ip: IPAddress, addresses: list[IPAddress], mechanism: Mechanism) -> bool:
    prefix = mechanism.cidr4 if ip.version == 4 else mechanism.cidr6
    return any(
        a.version == ip.version and ip in ipaddress.ip_network(f"{a}/{prefix}", strict=False)
        for a in addresses
    )


def _raise_on_failure(answer: DnsAnswer) -> None:
    if not answer.status.answered:
        raise _Abort(SpfResult.TEMPERROR, f"{answer.query}: {answer.outcome}")


def _validated_names(state: _State, *, void: bool) -> Generator[Need, tuple[Response, ...], list[str]]:
    """Names of the client that resolve back to it (§5.5); DNS errors just leave names out."""
    answer = yield from ask_one(Query.of(state.ip.reverse_pointer, "PTR"))
    if answer.status is Status.ABSENT and void:
        state.count_void(answer)
    if answer.status is not Status.PRESENT:
        return []
    names = [r.rstrip(".").lower() for r in answer.records][:MAX_NAMES]
    names = [name for name in names if _queryable(name)]
    answers = yield from ask(*(Query.of(name, state.address_type) for name in names))
    return [name for name, a in zip(names, answers, strict=True) if state.ip in _ips(a)]


def _target(state: _State, spec: MacroString, domain: str) -> Generator[Need, tuple[Response, ...], str]:
    validated = "unknown"
    if "p" in spec.letters:
        validated = yield from _p_macro(state, domain)
    return target_name(expand(spec, state.values(domain, validated)))


def _p_macro(state: _State, domain: str) -> Generator[Need, tuple[Response, ...], str]:
    """%{p} (§7.3): the domain itself if validated, else a validated subdomain, else any, else unknown."""
    names = yield from _validated_names(state, void=False)
    domain = domain.lower()
    for candidate in (
        [n for n in names if n == domain],
        [n for n in names if n.endswith("." + domain)],
        names,
    ):
        if candidate:
            return candidate[0]
    return "unknown"


def _explanation(
    state: _State, exp: Modifier | None, domain: str
) -> Generator[Need, tuple[Response, ...], str]:
    """The exp= text for a fail (§6.2); any problem at all means the default explanation instead."""
    if exp is None:
        return state.default_explanation
    target = yield from _target(state, exp.value, domain)
    if not _queryable(target):
        return state.default_explanation
    answer = yield from ask_one(Query.of(target, "TXT"))  # neither a lookup term nor a void (§4.6.4)
    if answer.status is not Status.PRESENT or len(answer.records) != 1:
        return state.default_explanation
    text = parse_macro_string(txt_value(answer.records[0]), explanation=True)
    if isinstance(text, str):
        return state.default_explanation
    validated = "unknown"
    if "p" in text.letters:
        validated = yield from _p_macro(state, domain)
    return expand(text, state.values(domain, validated))
