"""``report.sarif``: SARIF 2.1.0 for CI — structure, levels, what is (not) a result, stable fingerprints.

The official SARIF schema is not downloaded (tests never leave loopback); ``SARIF_SUBSET`` below is the
part of SARIF 2.1.0 this module uses, written from the OASIS specification, with its constraints.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mimawari import __version__
from mimawari.checks import ALL_CHECKS
from mimawari.lab import demo_lab, demo_targets
from mimawari.lookup import Snapshot
from mimawari.model import Category, Evidence, Finding, Fix, Grade, Reference, Severity, Target, Text
from mimawari.report.sarif import FINGERPRINT_KEY, fingerprint, render, rule_name
from mimawari.scan import DomainReport, scan_domains
from mimawari.score import RULES_VERSION, prioritise, score

MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "run": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {"driver": {"$ref": "#/$defs/driver"}},
                },
                "language": {"type": "string", "pattern": "^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$"},
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                "properties": {"type": "object"},
            },
        },
        "driver": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "informationUri": {"type": "string", "pattern": "^https://"},
                "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            },
        },
        "rule": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "shortDescription": MESSAGE,
                "help": MESSAGE,
                "helpUri": {"type": "string", "pattern": "^https?://"},
                "properties": {"type": "object"},
            },
        },
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                # §3.27.9: with no ``kind`` the kind is "fail", which allows every level.
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": MESSAGE,
                "locations": {"type": "array", "items": {"$ref": "#/$defs/location"}},
                "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
                "properties": {"type": "object"},
            },
        },
        "location": {
            "type": "object",
            "properties": {
                "logicalLocations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "fullyQualifiedName": {"type": "string"},
                            "kind": {"type": "string"},
                        },
                    },
                }
            },
        },
    },
}
VALIDATOR = Draft202012Validator(SARIF_SUBSET)


def made(check_id: str, grade: Grade, severity: Severity = Severity.MEDIUM, *, domain: str) -> Finding:
    return Finding(
        check_id=check_id,
        target=domain,
        category=Category.EMAIL_DNS,
        grade=grade,
        severity=Severity.INFO if grade.passing else severity,
        title=Text(f"title {check_id}", f"表題 {check_id}"),
        summary=Text(f"summary {check_id}", f"概要 {check_id}"),
        evidence=(Evidence(f"{domain} TXT", "v=spf1 ~all"), Evidence("second", "line")),
        fix=None if grade.passing else Fix(Text("publish this:", "これを公開:"), f"{domain}. TXT x"),
        references=(Reference("RFC 0000", "https://www.rfc-editor.org/rfc/rfc7208"),),
    )


GRADES = {
    "t.a": Grade.A,
    "t.b": Grade.B,
    "t.c": Grade.C,
    "t.d": Grade.D,
    "t.e": Grade.E,
    "t.na": Grade.NA,
    "t.unknown": Grade.UNKNOWN,
}


def report(domain: str = "example.test", grades: dict[str, Grade] = GRADES) -> DomainReport:
    findings = tuple(made(check_id, grade, domain=domain) for check_id, grade in grades.items())
    weights: dict[str, Severity] = {}
    return DomainReport(
        domain,
        Snapshot(Target(domain)),
        findings,
        {},
        score(findings, weights),
        tuple(prioritise(findings, weights)),
    )


def results(log: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = log["runs"][0]["results"]
    return found


def test_structure_of_the_log() -> None:
    log = render([report()])
    assert list(VALIDATOR.iter_errors(log)) == []
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("mimawari", __version__)
    assert [rule["id"] for rule in driver["rules"]] == ["t.b", "t.c", "t.d", "t.e", "t.unknown"]
    for result in run["results"]:
        rule = driver["rules"][result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["name"] == rule_name(result["ruleId"])
        assert rule["shortDescription"] == {"text": f"title {result['ruleId']}"}
        assert rule["help"] == {"text": "publish this:\nexample.test. TXT x"}
        assert rule["helpUri"] == "https://www.rfc-editor.org/rfc/rfc7208"
        assert rule["properties"]["severity"] == "medium"
        assert rule["properties"]["category"] == "email-dns"
        (location,) = result["locations"]
        assert location == {
            "logicalLocations": [
                {"name": "example.test", "fullyQualifiedName": "example.test", "kind": "resource"}
            ]
        }
    json.dumps(log)  # plain JSON data all through


def test_levels_by_grade_and_passing_findings_are_not_results() -> None:
    levels = {r["ruleId"]: r["level"] for r in results(render([report()]))}
    assert levels == {"t.e": "error", "t.d": "error", "t.c": "warning", "t.b": "note", "t.unknown": "note"}


def test_results_follow_the_priorities_then_unknown() -> None:
    rated = report()
    found = results(render([rated]))
    assert [r["ruleId"] for r in found] == [p.finding.check_id for p in rated.priorities] + ["t.unknown"]
    gains = {p.finding.check_id: p.gain for p in rated.priorities}
    for result in found:
        properties = result["properties"]
        assert properties["gain"] == gains.get(result["ruleId"])
        assert properties["rules_version"] == RULES_VERSION
        assert properties["grade"] == GRADES[result["ruleId"]].value
    assert found[-1]["properties"]["gain"] is None
    assert found[0]["properties"]["snippet"] == "example.test. TXT x"


def test_message_is_summary_and_evidence_in_the_chosen_language() -> None:
    (first, *_) = results(render([report()]))
    rule = first["ruleId"]
    assert first["message"]["text"] == f"summary {rule}\nexample.test TXT: v=spf1 ~all\nsecond: line"
    log = render([report()], lang="ja")
    assert results(log)[0]["message"]["text"].startswith(f"概要 {rule}\n")
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"].startswith("表題")
    assert log["runs"][0]["language"] == "ja"


def fingerprints(log: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in results(log)]


def test_fingerprints_are_stable_per_domain_and_check() -> None:
    first = render([report(), report("other.test")])
    again = render([report(), report("other.test")], lang="ja")
    assert sorted(fingerprints(first)) == sorted(fingerprints(again))
    assert len(set(fingerprints(first))) == len(results(first)) == 10
    # The evidence and the grade change between scans; the problem being tracked does not.
    changed = report(grades={**GRADES, "t.c": Grade.D})
    changed = dataclasses.replace(
        changed, findings=tuple(dataclasses.replace(f, evidence=()) for f in changed.findings)
    )
    assert sorted(fingerprints(render([changed]))) == sorted(fingerprints(render([report()])))
    assert fingerprint("example.test", "t.c") == fingerprint("example.test", "t.c")
    assert fingerprint("example.test", "t.c") != fingerprint("other.test", "t.c")


def test_run_properties_carry_each_domain_score() -> None:
    rated, unrated = report(), dataclasses.replace(report("other.test"), score=None, priorities=())
    scores = render([rated, unrated])["runs"][0]["properties"]["scores"]
    assert rated.score is not None
    assert scores[0] == {
        "domain": "example.test",
        "score": rated.score.score,
        "grade": rated.score.grade.value,
        "rules_version": RULES_VERSION,
        "categories": [
            {"category": "email-dns", "score": rated.score.score, "grade": rated.score.grade.value}
        ],
    }
    assert scores[1] == {
        "domain": "other.test",
        "score": None,
        "grade": None,
        "rules_version": None,
        "categories": [],
    }
    # Unrated: no priorities, yet every finding that needs attention is still a result.
    assert len(results(render([unrated]))) == 5


def test_a_registered_check_keeps_its_own_severity_on_its_rule() -> None:
    check = ALL_CHECKS["email.dmarc.policy"]
    finding = dataclasses.replace(
        made(check.id, Grade.C, Severity.LOW, domain="example.test"), severity=Severity.LOW
    )
    log = render([DomainReport("example.test", Snapshot(Target("example.test")), (finding,))])
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["properties"]["severity"] == check.severity.value
    assert results(log)[0]["properties"]["severity"] == "low"


def test_nothing_to_report_is_an_empty_run() -> None:
    log = render([report(grades={"t.a": Grade.A, "t.na": Grade.NA})])
    assert results(log) == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []
    assert list(VALIDATOR.iter_errors(render([]))) == []


@pytest.mark.parametrize("broken", [{"version": "2.0.0"}, {"runs": []}])
def test_the_subset_schema_rejects_what_sarif_rejects(broken: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors({**render([report()]), **broken}))


async def test_demo_scan_as_sarif() -> None:
    async with demo_lab() as lab:
        reports = await scan_domains(demo_targets(), lab.network())
    log = render(reports)
    assert list(VALIDATOR.iter_errors(log)) == []
    needing = [
        (r.domain, f.check_id) for r in reports for f in r.findings if f.grade not in (Grade.A, Grade.NA)
    ]
    found = results(log)
    assert len(found) == len(needing)
    assert {(r["locations"][0]["logicalLocations"][0]["name"], r["ruleId"]) for r in found} == set(needing)
    relay = next(
        r
        for r in found
        if r["ruleId"] == "email.mta.open_relay"
        and r["locations"][0]["logicalLocations"][0]["name"] == "kuroneko.example"
    )
    assert (relay["level"], relay["properties"]["severity"]) == ("error", "critical")
    assert results(log)[0] is relay  # the best next step comes first
    assert json.loads(json.dumps(log, ensure_ascii=False)) == log
