"""The gateway benchmark (bench/gateway.py): how it reads both tools' outputs and scores them against the
corpus manifest, and a smoke run of its mimawari half on 20 messages (clamscan is not run here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.gateway import SIGNATURE, main, read_clamscan, read_mimawari, score

from mimawari.gateway.verdict import Verdict
from mimawari.lab.mail_corpus import CorpusManifest, build_corpus


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> CorpusManifest:
    return build_corpus(tmp_path_factory.mktemp("gateway") / "corpus", 30, seed=5)


def test_a_perfect_answer_scores_one(manifest: CorpusManifest) -> None:
    positive = [m.file for m in manifest.messages if m.verdict is Verdict.ENCRYPTED]
    result = score(manifest, positive)
    assert (result.recall, result.precision) == (1.0, 1.0)
    assert len(result.true_positive) == manifest.encrypted == 12


def test_misses_and_false_alarms_lower_recall_and_precision(manifest: CorpusManifest) -> None:
    encrypted = [m.file for m in manifest.messages if m.verdict is Verdict.ENCRYPTED]
    clean = [m.file for m in manifest.messages if m.verdict is Verdict.CLEAN]
    result = score(manifest, [*encrypted[3:], *clean[:2], "manifest.json"], undecidable=[clean[5]])
    assert result.false_negative == tuple(sorted(encrypted[:3]))
    assert result.false_positive == tuple(sorted(clean[:2]))
    assert result.recall == pytest.approx(9 / 12)
    assert result.precision == pytest.approx(9 / 11)
    assert result.undecidable == (clean[5],)


def test_mimawari_output_is_read_as_json_lines_or_an_array() -> None:
    objects = [
        {
            "file": "/tmp/c/0001.eml",
            "verdict": "encrypted",
            "parts": [{"part": "2/a.zip", "kind": "zip-aes"}],
        },
        {"file": "/tmp/c/0002.eml", "verdict": "clean", "parts": []},
    ]
    expected = {"0001.eml": "encrypted", "0002.eml": "clean"}
    assert read_mimawari("\n".join(json.dumps(o) for o in objects) + "\n") == expected
    assert read_mimawari(json.dumps(objects)) == expected
    assert read_mimawari("") == {}
    with pytest.raises(ValueError, match="object 1"):
        read_mimawari('{"file": "x"}')
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        read_mimawari("Traceback (most recent call last):")


def test_clamscan_found_lines_are_read() -> None:
    lines = [
        "/tmp/c/0003.eml: Heuristics.Encrypted.Zip FOUND\n",
        "/tmp/c/0004.eml: Heuristics.Encrypted.PDF FOUND\n",
        "/tmp/c/0004.eml: Heuristics.Limits.Exceeded.MaxRecursion FOUND\n",
        "/tmp/c/with: colon.eml: Heuristics.Encrypted.RAR FOUND\n",
        "LibClamAV Warning: something\n",
        "/tmp/c/0005.eml: OK\n",
    ]
    assert read_clamscan(lines) == {
        "0003.eml": ["Heuristics.Encrypted.Zip"],
        "0004.eml": ["Heuristics.Encrypted.PDF", "Heuristics.Limits.Exceeded.MaxRecursion"],
        "with: colon.eml": ["Heuristics.Encrypted.RAR"],
    }


def test_the_own_signature_is_a_valid_ndb_line() -> None:
    name, target, offset, hexsig = SIGNATURE.split(":")
    assert (target, offset) == ("0", "*")
    assert bytes.fromhex(hexsig) == b"mimawari bench marker: matches nothing"
    assert name.startswith("Mimawari.")


def test_the_mimawari_half_scores_a_small_corpus(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--messages", "20", "--no-peer", "--keep", str(tmp_path)]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "corpus: 20 messages" in out
    assert "clamscan: not run (--no-peer)" in out
    row = next(
        line for line in out.splitlines() if line.split()[:1] == ["mimawari"] and line.split()[1][0].isdigit()
    )
    assert row.split()[8:10] == ["1.000", "1.000"]  # recall, precision
    assert (tmp_path / "mimawari.json").stat().st_size > 0
