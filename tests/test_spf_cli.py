"""``mimawari spf check`` as a user meets it: real processes against the lab, exit codes, one-line errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from mimawari.lab import DnsLab, zones_from_yaml
from tests.cli_runner import assert_one_line_error, run

pytestmark = pytest.mark.timeout(60)

LAB = """
zones:
  cli.test:
    records:
      "@":
        TXT: v=spf1 ip4:192.0.2.0/24 -all exp=why.cli.test
      why: {TXT: "%{i} may not send for %{d}"}
"""


@pytest.fixture
async def spf_lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB)) as server:
        yield server


async def test_json_result_and_explanation(spf_lab: DnsLab) -> None:
    args = (
        "spf",
        "check",
        "--sender",
        "a@cli.test",
        "--helo",
        "mail.cli.test",
        "-n",
        str(spf_lab.nameserver),
    )
    code, out, err = await run(*args, "--ip", "198.51.100.9", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"result": "fail", "explanation": "198.51.100.9 may not send for cli.test"}
    code, out, _ = await run(*args, "--ip", "192.0.2.9", "--json")
    assert code == 0 and json.loads(out)["result"] == "pass"
    code, out, _ = await run(*args, "--ip", "192.0.2.9")
    assert code == 0 and out.startswith("pass: ip4:192.0.2.0/24")


async def test_bad_input_and_unreachable_nameserver(spf_lab: DnsLab) -> None:
    base = ("spf", "check", "--helo", "mail.cli.test", "-n", str(spf_lab.nameserver))
    code, _, err = await run(*base, "--ip", "192.0.2.300", "--sender", "a@cli.test")
    assert code == 2
    assert_one_line_error(err, "not an IP address")
    code, _, err = await run(*base, "--ip", "192.0.2.1", "--sender", "a b@cli.test")
    assert code == 2
    assert_one_line_error(err, "not a mail address")
    code, _, err = await run(
        "spf",
        "check",
        "--ip",
        "192.0.2.1",
        "--sender",
        "a@cli.test",
        "--helo",
        "h.cli.test",
        "-n",
        "127.0.0.1:1",
    )
    assert code == 3
    assert_one_line_error(err, "nameserver unreachable")
