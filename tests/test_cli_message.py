"""``mimawari message check`` and ``scan --message`` as a user meets them: real processes against the lab
DNS, JSON and text output, exit codes and one-line errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mimawari.cli_message import MESSAGE_CHECKS
from mimawari.lab import DnsLab, zones_from_yaml
from tests.cli_runner import assert_one_line_error, run
from tests.message_samples import (
    ESP,
    ESP_IP,
    ESP_SELECTOR,
    NO_PTR_IP,
    SHOP,
    signed_message,
    signing_key,
    world_yaml,
)

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(world_yaml())) as server:
        yield server


def grades(document: dict[str, Any]) -> dict[str, str]:
    (domain,) = document["domains"]
    return {f["check_id"]: f["grade"] for f in domain["findings"] if f["check_id"] in MESSAGE_CHECKS}


async def test_message_check_json_and_text(lab: DnsLab, tmp_path: Path) -> None:
    sample = tmp_path / "news.eml"
    sample.write_bytes(signed_message())
    code, out, err = await run("message", "check", str(sample), "-n", str(lab.nameserver), "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["domains"][0]["domain"] == SHOP
    assert grades(document) == {
        "email.other.message_dkim": "A",
        "email.other.message_alignment": "A",
        "email.other.message_format": "A",
        "email.other.message_unsubscribe": "A",
        "email.other.dkim_replay": "A",
        "email.other.message_tls": "A",
        "email.other.message_arc": "N/A",
        "email.other.sender_requirements": "A",  # the matrix reads the message too
    }
    observation = document["domains"][0]["observations"]["message"]
    assert observation["sending_ip_source"] == "guessed from Received #1"
    assert observation["dmarc_outcome"]["result"] == "pass"

    misaligned = tmp_path / "esp.eml"
    misaligned.write_bytes(
        signed_message(signing_key(2048, "esp"), ESP, ESP_SELECTOR, ip=None, return_path=f"b@bounce.{ESP}")
    )
    args = ("message", "check", str(misaligned), "-n", str(lab.nameserver), "--sending-ip", ESP_IP)
    code, out, err = await run(*args, "--lang", "ja")
    assert (code, err) == (0, "")
    assert "メッセージは DMARC に不合格です" in out
    assert f"bounce.{SHOP}. IN CNAME" in out


async def test_scan_with_a_message(lab: DnsLab, tmp_path: Path) -> None:
    sample = tmp_path / "news.eml"
    sample.write_bytes(signed_message(l=True))
    code, out, err = await run(
        "scan", SHOP, "-n", str(lab.nameserver), "--message", str(sample), "--sending-ip", NO_PTR_IP,
        "--envelope-from", f"bounce@{SHOP}", "--category", "email-other", "--format", "json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    document = json.loads(out)
    found = grades(document)
    assert found["email.other.dkim_replay"] == "D"
    assert found["email.other.message_alignment"] == "A"
    observation = document["domains"][0]["observations"]["message"]
    assert (observation["sending_ip"], observation["sending_ip_source"]) == (NO_PTR_IP, "given")
    assert observation["envelope_source"] == "given"
    # With several domains, the message goes to its From domain's only.
    code, out, err = await run(
        "scan", SHOP, ESP, "-n", str(lab.nameserver), "--message", str(sample), "--category", "email-other",
        "--format", "json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    by_domain = {d["domain"]: d for d in json.loads(out)["domains"]}
    assert by_domain[SHOP]["observations"]["message"]["status"] == "present"
    assert by_domain[ESP]["observations"]["message"]["status"] == "not-applicable"
    code, _, err = await run("scan", ESP, "other.test", "-n", str(lab.nameserver), "--message", str(sample))
    assert code == 2
    assert_one_line_error(err, f"its From domain ({SHOP}) is not in any domain scanned")
    # Without --message, the message checks say what they need.
    code, out, _ = await run(
        "scan", SHOP, "-n", str(lab.nameserver), "--category", "email-other", "--format", "json"
    )
    assert code == 0
    found = grades(json.loads(out))
    assert found.pop("email.other.sender_requirements") == "A"  # from DNS alone: SPF, DKIM key, DMARC
    assert set(found.values()) == {"N/A"}


async def test_bad_input_is_one_line(lab: DnsLab, tmp_path: Path) -> None:
    ns = ("-n", str(lab.nameserver))
    code, _, err = await run("message", "check", str(tmp_path / "missing.eml"), *ns)
    assert code == 2
    assert_one_line_error(err, "cannot read the message")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"\r\n")
    code, _, err = await run("message", "check", str(empty), *ns)
    assert code == 2
    assert_one_line_error(err, "is empty")
    no_from = tmp_path / "nofrom.eml"
    no_from.write_bytes(b"Subject: hello\r\n\r\nbody\r\n")
    code, _, err = await run("message", "check", str(no_from), *ns)
    assert code == 2
    assert_one_line_error(err, "no From field with exactly one address")
    sample = tmp_path / "news.eml"
    sample.write_bytes(signed_message())
    code, _, err = await run("message", "check", str(sample), "--sending-ip", "300.1.1.1", *ns)
    assert code == 2
    assert_one_line_error(err, "not an IP address")
    code, _, err = await run("scan", SHOP, "--sending-ip", "192.0.2.1", *ns)
    assert code == 2
    assert_one_line_error(err, "add --message FILE")
    code, _, err = await run("scan", SHOP, "--message", str(tmp_path), *ns)
    assert code == 2
    assert_one_line_error(err, "cannot read the message")
