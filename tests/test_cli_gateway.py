"""``mimawari gateway scan`` as a user meets it: files, directories, mbox; JSON lines; exit codes."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from mimawari.lab import attachments_archives as archives
from mimawari.lab.attachments_rar import rar4, rar5
from tests.cli_runner import assert_one_line_error, run

pytestmark = pytest.mark.timeout(60)


def message(subject: str, *attachments: tuple[str, bytes]) -> bytes:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = "sender@example.test"
    mail["Subject"] = subject
    mail.set_content("Hello.\n")
    for name, data in attachments:
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return mail.as_bytes()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    (tmp_path / "nested").mkdir()
    (tmp_path / "clean.eml").write_bytes(message("clean", ("plain.zip", archives.plain_zip())))
    (tmp_path / "nested" / "locked.eml").write_bytes(message("locked", ("a.7z", archives.encrypted_7z())))
    (tmp_path / "nested" / "notes.txt").write_bytes(archives.zipcrypto_zip())  # a bare attachment
    (tmp_path / "compressed.rar").write_bytes(rar5(compressed=True))
    return tmp_path


async def test_directory_as_json_lines(mail_dir: Path) -> None:
    code, stdout, stderr = await run("gateway", "scan", "--format", "json", str(mail_dir))
    assert code == 1, stderr
    documents = {Path(d["file"]).name: d for d in map(json.loads, stdout.splitlines())}
    assert set(documents) == {"clean.eml", "locked.eml", "notes.txt", "compressed.rar"}
    assert documents["clean.eml"] == {
        "file": str(mail_dir / "clean.eml"),
        "message": None,
        "verdict": "clean",
        "parts": [],
        "undecided": [],
    }
    assert documents["locked.eml"]["parts"] == [
        {
            "part": "2/a.7z/invoice.txt",
            "section": "2",
            "kind": "7z-aes",
            "depth": 1,
            "detail": "data encrypted",
        }
    ]
    assert documents["notes.txt"]["verdict"] == "encrypted"
    assert documents["notes.txt"]["parts"][0]["part"] == "notes.txt/invoice.txt"
    assert documents["compressed.rar"]["verdict"] == "undecidable"
    assert documents["compressed.rar"]["undecided"] == [
        {
            "part": "compressed.rar/invoice.txt",
            "section": "",
            "reason": "RAR compressed member: contents not inspected",
        }
    ]


async def test_mbox_gives_one_result_per_message(tmp_path: Path) -> None:
    mbox = tmp_path / "inbox"
    mbox.write_bytes(
        b"".join(
            b"From sender@example.test Mon Apr  1 09:00:00 2024\n" + raw.replace(b"\r\n", b"\n") + b"\n"
            for raw in (
                message("one"),
                message("two", ("x.rar", rar4(encrypted=True))),
                message("three", ("d.zip", archives.docx_like())),
            )
        )
    )
    code, stdout, _ = await run("gateway", "scan", "-f", "json", str(mbox))
    assert code == 1
    results = [json.loads(line) for line in stdout.splitlines()]
    assert [(r["message"], r["verdict"]) for r in results] == [(1, "clean"), (2, "encrypted"), (3, "clean")]
    assert results[1]["parts"][0]["kind"] == "rar4-encrypted"


async def test_all_clean_exits_0_with_a_readable_summary(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(message("a", ("p.7z", archives.plain_7z())))
    code, stdout, stderr = await run("gateway", "scan", str(tmp_path / "a.eml"))
    assert (code, stderr) == (0, "")
    lines = stdout.splitlines()
    assert lines[0].startswith("clean") and lines[0].endswith("a.eml")
    assert lines[-1] == "1 message(s): 0 encrypted, 0 undecidable, 1 clean"


async def test_max_depth_zero_leaves_archives_undecided(tmp_path: Path) -> None:
    (tmp_path / "p.zip").write_bytes(archives.plain_zip())
    code, stdout, _ = await run("gateway", "scan", "--max-depth", "0", str(tmp_path / "p.zip"))
    assert code == 1
    assert stdout.startswith("undecidable") and "nested deeper than 0 levels" in stdout


async def test_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    code, stdout, stderr = await run("gateway", "scan", str(tmp_path / "nowhere.eml"))
    assert code == 2 and stdout == ""
    assert_one_line_error(stderr, "no such file or directory")


async def test_unreadable_file_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    (tmp_path / "ok.eml").write_bytes(message("y"))
    if os.geteuid() == 0:  # root reads any file; address 0 of a process's memory cannot be read by anyone
        unreadable = Path("/proc/self/mem")
    else:
        unreadable = tmp_path / "locked.eml"
        unreadable.write_bytes(message("x"))
        unreadable.chmod(0)
    code, stdout, stderr = await run("gateway", "scan", str(unreadable), str(tmp_path / "ok.eml"))
    assert code == 2
    assert_one_line_error(stderr, f"cannot read {unreadable}")
    assert "ok.eml" in stdout
