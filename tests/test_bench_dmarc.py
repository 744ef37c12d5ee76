"""The DMARC parse benchmark (bench/dmarc_parse.py): its corpus generator, checked by reading every file
back with the standard library, and how it reads both tools' outputs against the corpus's truth. Neither
tool's full run is timed here; parsedmarc is not run."""

from __future__ import annotations

import email
import gzip
import io
import json
import random
import sys
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bench.dmarc_corpus import Corpus, generate
from bench.dmarc_parse import main, measure
from bench.dmarc_reports import record_counts
from bench.dmarc_results import Verdict, check, corpus_file, read_mimawari, read_parsedmarc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return generate(tmp_path_factory.mktemp("dmarc") / "corpus", 120, seed=4)


def _reports_in(data: bytes) -> list[bytes]:
    """The report XML documents in a file's bytes, opened the way a mail client and gunzip would."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(name) for name in archive.namelist()]
    if data.startswith(b"\x1f\x8b"):
        return [gzip.decompress(data)]
    if data.startswith(b"<"):
        return [data]
    message = email.message_from_bytes(data)
    attachments = [part.get_payload(decode=True) for part in message.walk() if part.get_filename()]
    return [xml for payload in attachments if isinstance(payload, bytes) for xml in _reports_in(payload)]


def _tally(xml: bytes) -> tuple[str, int, int]:
    root = ElementTree.fromstring(xml)
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    report_id = root.findtext(f"{namespace}report_metadata/{namespace}report_id") or ""
    counts = [int(c.text or "") for c in root.iterfind(f"{namespace}record/{namespace}row/{namespace}count")]
    return report_id, len(counts), sum(counts)


def test_every_file_holds_what_the_truth_says(corpus: Corpus) -> None:
    broken = {b.file: b for b in corpus.broken}
    seen: dict[str, tuple[str, int, int]] = {}
    for path in corpus.directory.iterdir():
        if path.name in broken:
            continue
        for xml in _reports_in(path.read_bytes()):
            report_id, records, messages = _tally(xml)
            assert report_id not in seen
            seen[report_id] = (path.name, records, messages)
    assert seen == {r.report_id: (r.file, r.records, r.messages) for r in corpus.reports}
    assert len(corpus.reports) == 120
    assert corpus.records == sum(r.records for r in corpus.reports) == 120 * 87.5
    assert all(n > 0 for n in corpus.files.values()), corpus.files  # every form is there
    assert {r.org_name for r in corpus.reports} >= {"google.com", "Enterprise Outlook", "Yahoo"}
    assert corpus.size_bytes == sum(p.stat().st_size for p in corpus.directory.iterdir())


def test_every_broken_file_is_broken(corpus: Corpus) -> None:
    assert Counter(b.flaw for b in corpus.broken) == dict.fromkeys(
        ("truncated gzip", "truncated XML", "XML with a DTD and an entity", "not a report"), 1
    )
    for flawed in corpus.broken:
        data = (corpus.directory / flawed.file).read_bytes()
        if flawed.flaw == "truncated gzip":
            with pytest.raises(EOFError):
                gzip.decompress(data)
        elif flawed.flaw == "truncated XML":
            with pytest.raises(ElementTree.ParseError):
                ElementTree.fromstring(data)
        elif flawed.flaw == "XML with a DTD and an entity":
            assert b"<!DOCTYPE feedback [<!ENTITY" in data
            assert flawed.report_id.encode() in data
        else:
            assert flawed.report_id == ""
            assert all(b"<feedback" not in part for part in _reports_in(data))


def test_the_seed_decides_every_byte(tmp_path: Path) -> None:
    first, again, other = (
        generate(tmp_path / name, 12, seed) for name, seed in (("a", 9), ("b", 9), ("c", 10))
    )

    def contents(c: Corpus) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in c.directory.iterdir()}

    assert contents(first) == contents(again)
    assert contents(first) != contents(other)
    with pytest.raises(ValueError, match="empty folder"):
        generate(tmp_path / "a", 12, 9)


def test_the_default_size_is_skewed_and_sums_to_175k() -> None:
    counts = sorted(record_counts(random.Random(1), 2000))
    assert sum(counts) == 175_000
    assert counts[1000] <= 5  # most reports are small …
    assert counts[-1] >= 5000  # … and a few hold thousands of records
    assert sum(c >= 1000 for c in counts) >= 10


def _lines(corpus: Corpus) -> list[dict[str, object]]:
    """What a perfect ``mimawari dmarc parse --format json`` prints for the corpus."""
    lines: list[dict[str, object]] = []
    for r in corpus.reports:
        lines.append(
            {
                "file": str(corpus.directory / r.file),
                "kind": "aggregate",
                "ok": True,
                "error": None,
                "report_id": r.report_id,
                "org_name": r.org_name,
                "domain": r.domain,
                "begin": datetime.fromtimestamp(r.begin, UTC).isoformat(),
                "end": r.end,
                "records": r.records,
                "messages": r.messages,
            }
        )
    for b in corpus.broken:
        lines.append({"file": b.file, "kind": "aggregate", "ok": False, "error": "no", "records": 0})
    return lines


def _verdict(corpus: Corpus, lines: list[dict[str, object]]) -> Verdict:
    return check(corpus, *read_mimawari([json.dumps(line) + "\n" for line in lines], corpus))


def test_a_perfect_mimawari_output_is_exact(corpus: Corpus) -> None:
    verdict = _verdict(corpus, _lines(corpus))
    assert verdict.exact
    assert (verdict.reports, verdict.records) == (len(corpus.reports), corpus.records)
    assert len(verdict.rejected) == len(corpus.broken)


def test_each_mistake_of_mimawari_shows(corpus: Corpus) -> None:
    lines = _lines(corpus)
    bundled = max(i for i, line in enumerate(lines) if "dmarc-reports-" in str(line["file"]))
    assert bundled > 5  # not one of the lines changed below
    lines[bundled]["file"] = f"{lines[bundled]['file']}!member.xml"  # a zip member's name: still that file
    dropped = lines.pop(0)
    lines[0]["records"] = int(str(lines[0]["records"])) + 1
    lines[1]["domain"] = "example.invalid"
    lines.append(lines[2])
    lines[3] = {**lines[3], "ok": False}  # a valid file rejected (and its report missing)
    truncated = next(b for b in corpus.broken if b.flaw == "truncated XML")
    lines = [line for line in lines if not str(line["file"]).endswith(truncated.file)]
    lines.append({**lines[4], "file": truncated.file, "report_id": truncated.report_id})
    verdict = _verdict(corpus, lines)
    problems = verdict.problems()
    assert not verdict.exact
    assert problems["valid reports not found"] == (
        f"{dropped['report_id']} ({corpus.reports[0].file})",
        f"{corpus.reports[4].report_id} ({corpus.reports[4].file})",
    )
    assert [p.split(":")[0] for p in problems["reports with other counts or fields"]] == [
        corpus.reports[1].report_id,
        corpus.reports[2].report_id,
    ]
    assert problems["reports found twice"] == (f"{corpus.reports[3].report_id} ({corpus.reports[3].file})",)
    assert problems["valid files rejected"] == (corpus.reports[4].file,)
    assert problems["broken files not rejected"] == (
        f"{truncated.file} (truncated XML): taken as report {truncated.report_id!r},"
        f" {lines[4]['records']} records",
    )


def test_output_that_is_not_json_lines_is_an_error(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="line 2"):
        read_mimawari(['{"ok": false, "file": "x"}\n', "Traceback (most recent call last):\n"], corpus)
    with pytest.raises(ValueError, match="line 1: KeyError"):
        read_mimawari(['{"ok": true, "file": "x", "report_id": "1"}\n'], corpus)


def test_parsedmarc_output_is_read_from_its_table_and_log(corpus: Corpus) -> None:
    rows: list[dict[str, str]] = []
    first_members: dict[str, str] = {}  # several-report zip → the id of the report parsedmarc reads
    for r in corpus.reports:
        if r.file.startswith("dmarc-reports-"):
            if r.file in first_members:
                continue  # parsedmarc reads the first member of a zip only
            first_members[r.file] = r.report_id
        rows += [{"report_id": r.report_id, "domain": r.domain, "count": "1"}] * (r.records - 1)
        rows.append({"report_id": r.report_id, "domain": r.domain, "count": str(r.messages - r.records + 1)})
    broken = corpus.broken[0]
    log = [f"   ERROR:cli.py:3247:Failed to parse {corpus.directory / broken.file} - Invalid archive file\n"]
    found, failed = read_parsedmarc(rows, log, corpus)
    assert failed == [broken.file]
    verdict = check(corpus, found, failed)
    assert verdict.rejected == (broken.file,)
    assert len(verdict.broken_accepted) == len(corpus.broken) - 1
    bundled = {r.report_id for r in corpus.reports if r.file.startswith("dmarc-reports-")}
    assert {m.split()[0] for m in verdict.missing} == bundled - set(first_members.values())
    assert verdict.reports == len(corpus.reports) - len(verdict.missing)
    assert not verdict.wrong  # parsedmarc's rows give no file: none is compared


def test_corpus_file_names_the_file_a_path_points_into(corpus: Corpus) -> None:
    name = corpus.reports[0].file
    assert corpus_file(str(corpus.directory.resolve() / name), corpus) == name
    assert corpus_file(f"{name}/inner.xml", corpus) == name
    assert corpus_file("elsewhere.xml", corpus) == "elsewhere.xml"


def test_measure_reports_the_child_alone(tmp_path: Path) -> None:
    grow = "block = bytearray(80 * 2**20); block[::4096] = b'x' * len(block[::4096])"
    measured = measure([sys.executable, "-c", grow], tmp_path / "out", tmp_path / "err")
    assert measured.exit_code == 0
    assert measured.peak_rss_kb >= 80 * 1024
    failed = measure([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "out", tmp_path / "err")
    assert failed.exit_code == 3


def test_the_mimawari_half_counts_a_small_corpus_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "20", "--no-peer"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "mimawari: exact — reports 20/20" in out
    assert "broken files rejected 4/4" in out
