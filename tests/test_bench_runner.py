"""The benchmark runner's use of the lab's connection file (bench/email_dns.py); no lab is started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from bench.email_dns import BenchError, Server, scan_connection

from mimawari.lab.world import LabConnection, read_lab_connection
from mimawari.serial import to_json

ANCHOR = "example. IN DS 12345 13 2 " + "ab" * 32


def _fake_lab(tmp_path: Path, try_lines: list[str]) -> Server:
    """A child that prints what ``mimawari lab up`` prints, then waits to be stopped."""
    script = "import sys, time\n" + "".join(f"print({line!r})\n" for line in try_lines)
    script += "sys.stdout.flush()\ntime.sleep(60)\n"
    return Server("lab", [sys.executable, "-c", script], "nameserver ", tmp_path / "lab.err")


def _connection_file(tmp_path: Path) -> Path:
    path = tmp_path / "mimawari-lab-5353.json"
    connection = LabConnection("127.0.0.1:5353", 8443, "/tmp/ca.pem", {"192.0.2.1": "127.0.0.1"}, (ANCHOR,))
    path.write_text(to_json(connection, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("wrapped", [False, True])
def test_the_scan_uses_the_file_the_try_line_names(tmp_path: Path, wrapped: bool) -> None:
    path = _connection_file(tmp_path)
    try_lines = (
        ["try: mimawari scan 113.0.203.in-addr.arpa --lab", str(path)]
        if wrapped  # Rich wraps long lines at spaces
        else [f"try: mimawari scan x.example --lab {path}"]
    )
    lab = _fake_lab(tmp_path, ["nameserver 127.0.0.1:5353", "zones: a.example, b.example", *try_lines])
    try:
        assert scan_connection(lab, lab.address, tmp_path) == path
    finally:
        lab.stop()


def test_behind_the_proxy_the_scan_gets_a_copy_naming_the_proxy(tmp_path: Path) -> None:
    path = _connection_file(tmp_path)
    lab = _fake_lab(tmp_path, ["nameserver 127.0.0.1:5353", f"try: mimawari scan x.example --lab {path}"])
    try:
        copy = scan_connection(lab, "127.0.0.1:6000", tmp_path)
    finally:
        lab.stop()
    assert copy != path
    connection = read_lab_connection(str(copy))
    assert connection.nameserver == "127.0.0.1:6000"
    assert connection.trust_anchors == (ANCHOR,)  # the DNSSEC anchor goes along
    assert connection.https_port == 8443
    assert read_lab_connection(str(path)).nameserver == "127.0.0.1:5353"  # the lab's own file is untouched


def test_a_lab_that_names_no_file_is_an_error(tmp_path: Path) -> None:
    lab = _fake_lab(
        tmp_path, ["nameserver 127.0.0.1:1", "try: mimawari scan x.example --lab /nonexistent.json"]
    )
    try:
        with pytest.raises(BenchError, match="no connection file"):
            scan_connection(lab, lab.address, tmp_path)
    finally:
        lab.stop()
