"""Running the ``mimawari`` command in a subprocess, as a user would, and checking its one-line errors."""

from __future__ import annotations

import asyncio
import os
import sys


async def run(*args: str, columns: int = 200) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimawari",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"},
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def assert_one_line_error(stderr: str, fragment: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mimawari: error: ") and fragment in lines[0], stderr
