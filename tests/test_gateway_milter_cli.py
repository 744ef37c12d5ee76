"""``mimawari gateway milter``, ``gateway quarantine …`` and ``gateway policy check``, run as a user would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from mimawari.gateway import milter_protocol as wire
from mimawari.gateway.quarantine import Quarantine
from tests.cli_runner import assert_one_line_error, run
from tests.gateway_rig import aes_zip, mail
from tests.milter_client import session

POLICY = """
actions: {{encrypted: reject}}
audit_log: {audit}
quarantine: {{directory: {kept}}}
exceptions:
  - sender: partner.example
    approved_by: Sato (CISO)
    reason: NDA drawings
    expires: 2999-12-31
  - recipient: legal@ours.example
    approved_by: Tanaka
    reason: ended
    expires: 2001-01-01
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.format(audit=tmp_path / "audit.jsonl", kept=tmp_path / "kept"), encoding="utf-8")
    return path


async def test_policy_check_summarises_and_warns_about_expired_exceptions(policy_file: Path) -> None:
    code, stdout, stderr = await run("gateway", "policy", "check", str(policy_file))
    assert code == 0, stderr
    assert "encrypted → reject, undecidable → tempfail, error → tempfail" in stdout
    assert "exception: sender partner.example until 2999-12-31 (approved by Sato (CISO)) → accept" in stdout
    assert stderr.strip() == (
        "mimawari: warning: expired exception (ignored): recipient legal@ours.example until 2001-01-01 "
        "(approved by Tanaka)"
    )


async def test_policy_check_of_a_broken_file_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: {encrypted: burn}\n", encoding="utf-8")
    code, _, stderr = await run("gateway", "policy", "check", str(broken))
    assert code == 2
    assert_one_line_error(stderr, f"the policy {broken}: actions.encrypted:")


async def test_quarantine_list_show_and_delete(policy_file: Path, tmp_path: Path) -> None:
    store = Quarantine(tmp_path / "kept")
    raw = mail("kept-1", aes_zip())
    entry_id = store.put(
        raw, {"sender": "a@x.example", "recipients": ["b@y.example"], "verdict": "encrypted"}
    )
    code, stdout, stderr = await run("gateway", "quarantine", "list", "--policy", str(policy_file))
    assert code == 0, stderr
    assert entry_id in stdout and "from <a@x.example> to b@y.example" in stdout and "encrypted" in stdout
    code, stdout, _ = await run(
        "gateway", "quarantine", "list", "--quarantine", str(store.directory), "-f", "json"
    )
    assert json.loads(stdout)["id"] == entry_id
    code, stdout, _ = await run("gateway", "quarantine", "show", entry_id, "--policy", str(policy_file))
    assert code == 0 and "Subject: test kept-1" in stdout and '"sender": "a@x.example"' in stdout
    code, _, stderr = await run("gateway", "quarantine", "show", "nope", "--policy", str(policy_file))
    assert code == 2
    assert_one_line_error(stderr, "'nope' is not a quarantine id")
    code, stdout, _ = await run("gateway", "quarantine", "delete", entry_id, "--policy", str(policy_file))
    assert code == 0 and f"deleted {entry_id}" in stdout
    assert list(store.entries()) == []
    code, _, stderr = await run("gateway", "quarantine", "list")
    assert code == 2
    assert_one_line_error(stderr, "name the quarantine")


async def _start_milter(policy_file: Path) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimawari",
        "gateway",
        "milter",
        "--listen",
        "127.0.0.1:0",
        "--policy",
        str(policy_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert line.startswith("milter listening on 127.0.0.1:"), line
    return process, int(line.split()[3].rsplit(":", 1)[1])


@pytest.mark.parametrize(("stop", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
async def test_the_milter_serves_until_stopped(
    policy_file: Path, tmp_path: Path, stop: signal.Signals, exit_code: int
) -> None:
    process, port = await _start_milter(policy_file)
    try:
        client = await session("127.0.0.1", port)
        result = await client.message(mail("cli-1", aes_zip()))
        assert result.final == wire.REPLYCODE and result.reply.startswith("550 5.7.1")
        await client.close()
    finally:
        process.send_signal(stop)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr.decode()
    if stop == signal.SIGTERM:
        assert stdout.decode().strip().endswith("stopped after 1 messages")
    else:
        assert stderr.decode().strip().endswith("mimawari: interrupted")
    (record,) = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert record["action"] == "reject"


async def test_the_milter_refuses_a_bad_listen_address(policy_file: Path) -> None:
    code, _, stderr = await run("gateway", "milter", "--listen", "127.0.0.1", "--policy", str(policy_file))
    assert code == 2
    assert_one_line_error(stderr, "--listen '127.0.0.1' is not host:port")
