"""``--format json`` against its published JSON Schema (docs/report.schema.json).

The demo organisation's scan is written exactly as the CLI writes it and validated; the schema is also
shown to reject broken documents (so a passing validation means something) and checked against the
dataclasses it describes, so a field added to a finding or a score cannot slip past the schema.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mimawari.lab import demo_lab, demo_targets
from mimawari.lookup import DnsAnswer, HttpRequest, HttpResponse, Query, Snapshot
from mimawari.model import (
    AfterFix,
    Category,
    Evidence,
    Finding,
    Fix,
    Grade,
    Reference,
    Severity,
    Status,
    Target,
    Text,
)
from mimawari.probes import MailProtocol, ServiceRequest, ServiceSession, StartTls, TlsScan, TlsScanRequest
from mimawari.report.json import SCHEMA_VERSION, domain_data, write
from mimawari.scan import DomainReport, evaluate_snapshot, scan_domains
from mimawari.score import CategoryScore, Score
from tests.helpers import recorded

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


async def written(reports: Iterable[DomainReport]) -> Any:
    """The document ``report.json.write`` produces for ``reports``, parsed."""

    async def stream() -> Any:
        for report in reports:
            yield report

    out = io.StringIO()
    await write(stream(), out)
    return json.loads(out.getvalue())


def errors(document: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def small_report() -> DomainReport:
    """A report with a C, passing and unknown findings, from recorded DNS only (no network)."""
    snapshot = recorded(
        "example.test",
        {
            "_dmarc.example.test TXT": ["v=DMARC1; p=none; rua=mailto:d@example.test"],
            "example.test TXT": ["v=spf1 -all"],
            "example.test MX": ["10 mx.example.test."],
            "mx.example.test A": ["192.0.2.25"],
        },
    )
    return evaluate_snapshot(snapshot)


def test_schema_is_a_valid_draft_2020_12_schema_for_this_schema_version() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema"] == {**SCHEMA["properties"]["schema"], "const": SCHEMA_VERSION}


async def test_demo_scan_output_validates() -> None:
    async with demo_lab() as lab:
        reports = await scan_domains(demo_targets(), lab.network())
    document = await written(reports)
    assert errors(document) == []
    assert [d["domain"] for d in document["domains"]] == demo_targets()
    # The scan exercised the nullable and enum branches the schema describes, not only the easy ones.
    findings = [f for d in document["domains"] for f in d["findings"]]
    assert {f["grade"] for f in findings} >= {"A", "C", "E", "N/A", "unknown"}
    categories = [c for d in document["domains"] for c in d["score"]["categories"]]
    assert any(c["score"] is None for c in categories)
    assert any(c["cap"] is not None for c in categories)
    assert any(f["fix"] is not None and f["fix"]["snippet"] for f in findings)
    assert all(d["priorities"] for d in document["domains"] if d["score"]["grade"] != "A")
    snapshots = [d["snapshot"] for d in document["domains"]]
    assert all(any(s[kind] for s in snapshots) for kind in ("dns", "http", "services", "tls"))


async def test_empty_and_unrated_documents_validate() -> None:
    assert errors(await written([])) == []
    document = await written([dataclasses.replace(small_report(), score=None, priorities=())])
    assert document["domains"][0]["score"] is None
    assert errors(document) == []


@pytest.mark.parametrize("grade", ["F", "a", "n/a", "", None])
async def test_a_wrong_grade_is_rejected(grade: Any) -> None:
    document = await written([small_report()])
    assert errors(document) == []
    broken = copy.deepcopy(document)
    broken["domains"][0]["findings"][0]["grade"] = grade
    assert any(e.startswith("$.domains[0].findings[0].grade:") for e in errors(broken))
    broken = copy.deepcopy(document)
    broken["domains"][0]["score"]["categories"][0]["grade"] = grade
    assert errors(broken)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Finding)])
async def test_a_finding_without_a_required_field_is_rejected(field: str) -> None:
    document = await written([small_report()])
    del document["domains"][0]["findings"][0][field]
    assert errors(document) == [f"$.domains[0].findings[0]: '{field}' is a required property"]


async def test_stable_parts_are_strict_and_observations_open() -> None:
    document = await written([small_report()])
    domain = document["domains"][0]
    for part in (domain["findings"][0], domain["score"], domain["score"]["categories"][0], domain, document):
        part["surprise"] = 1
        assert errors(document), part
        del part["surprise"]
    domain["priorities"] = [{"check_id": "email.dmarc.policy", "gain": 3.5}]
    assert errors(document) == ["$.domains[0].priorities[0]: 'value' is a required property"]
    domain["priorities"] = []
    domain["observations"]["future_observer"] = {"anything": [1, 2]}
    domain["snapshot"]["dns"][0]["future_field"] = "x"
    assert errors(document) == []
    domain["observations"]["future_observer"] = "not an object"
    assert errors(document)


def schema_properties(name: str) -> set[str]:
    return set(SCHEMA["$defs"][name]["properties"])


def fields(tp: type[Any]) -> set[str]:
    return {f.name for f in dataclasses.fields(tp)}


STRICT = {
    "finding": Finding,
    "evidence": Evidence,
    "fix": Fix,
    "after_fix": AfterFix,
    "reference": Reference,
    "text": Text,
    "score": Score,
    "category_score": CategoryScore,
}


@pytest.mark.parametrize("name", sorted(STRICT))
def test_strict_definitions_list_every_dataclass_field(name: str) -> None:
    definition = SCHEMA["$defs"][name]
    assert definition["additionalProperties"] is False
    assert set(definition["required"]) == schema_properties(name) == fields(STRICT[name])


async def test_domain_definition_lists_what_domain_data_writes() -> None:
    assert set(domain_data(small_report())) == schema_properties("domain")
    priority = (await written([small_report()]))["domains"][0]["priorities"][0]
    assert set(priority) == schema_properties("priority")


def test_snapshot_definitions_name_only_real_fields() -> None:
    snapshot = SCHEMA["$defs"]["snapshot"]["properties"]
    described: list[tuple[dict[str, Any], type[Any]]] = [
        (SCHEMA["$defs"]["snapshot"], Snapshot),
        (snapshot["target"], Target),
        (SCHEMA["$defs"]["dns_answer"], DnsAnswer),
        (SCHEMA["$defs"]["dns_answer"]["properties"]["query"], Query),
        (SCHEMA["$defs"]["http_response"], HttpResponse),
        (SCHEMA["$defs"]["http_response"]["properties"]["request"], HttpRequest),
        (SCHEMA["$defs"]["service_session"], ServiceSession),
        (SCHEMA["$defs"]["service_session"]["properties"]["request"], ServiceRequest),
        (SCHEMA["$defs"]["tls_scan"], TlsScan),
        (SCHEMA["$defs"]["tls_scan"]["properties"]["request"], TlsScanRequest),
    ]
    for definition, tp in described:
        assert set(definition["properties"]) <= fields(tp), tp.__name__
        assert set(definition["required"]) <= set(definition["properties"]), tp.__name__


@pytest.mark.parametrize(
    ("enum_schema", "enum"),
    [
        (SCHEMA["$defs"]["grade"], Grade),
        (SCHEMA["$defs"]["severity"], Severity),
        (SCHEMA["$defs"]["category"], Category),
        (SCHEMA["$defs"]["status"], Status),
        (SCHEMA["$defs"]["service_session"]["properties"]["request"]["properties"]["protocol"], MailProtocol),
        (SCHEMA["$defs"]["tls_scan"]["properties"]["request"]["properties"]["starttls"], StartTls),
    ],
)
def test_enums_match_the_model(enum_schema: dict[str, Any], enum: type[StrEnum]) -> None:
    assert enum_schema["enum"] == [member.value for member in enum]
