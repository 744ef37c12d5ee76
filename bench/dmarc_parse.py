"""DMARC report parsing benchmark: ``mimawari dmarc parse`` against parsedmarc on a generated corpus.

    .venv/bin/python bench/dmarc_parse.py [--size N] [--seed S] [--peer/--no-peer] [--keep DIR]

The corpus (``bench/dmarc_corpus.py``: N aggregate reports as .xml, .xml.gz, .zip, .eml, and a few broken
files) is written afresh for each run, and the generator's truth says what a parser must find. Each tool
runs as its own process on the same folder and is measured alone: wall time from start to exit
(interpreter start-up included, for both), CPU time and peak RSS from ``wait4()`` of that one child, and
the summed RSS of its process tree sampled from ``/proc``. parsedmarc is installed from PyPI into
``bench/.venv-parsedmarc`` on first use and only ever run as a program. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.dmarc_corpus import Corpus, generate  # noqa: E402
from bench.dmarc_results import Verdict, check, read_mimawari, read_parsedmarc  # noqa: E402
from bench.email_dns import LAUNCHER, MIMAWARI, BenchError, ensure_mimawari, run_bench  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-parsedmarc"
PEER_SPEC = "parsedmarc==11.1.0"
PEER_ARGS = ("--offline", "--silent")
"""No DNS or geolocation queries online; only errors on stderr (without it, parsedmarc also prints every
report as JSON to stdout)."""
TARGET_RATIO = 20.0
TARGET_PEAK_MB = 200.0
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Run:
    tool: str
    wall: float
    cpu: float
    peak_rss_kb: int
    """The largest process of the run (``ru_maxrss`` from ``wait4()``)."""
    tree_peak_kb: int
    """The largest sum of the RSS of every process of the run, sampled every 50 ms."""
    exit_code: int
    startup: float
    """Wall time of the same program doing nothing (``--help``): its interpreter and imports."""
    verdict: Verdict

    @property
    def records_per_second(self) -> float:
        return self.verdict.records / self.wall

    @property
    def reports_per_second(self) -> float:
        return self.verdict.reports / self.wall

    @property
    def peak_mb(self) -> float:
        return max(self.peak_rss_kb, self.tree_peak_kb) / 1024


# --- measuring one process ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    peak_rss_kb: int
    tree_peak_kb: int
    exit_code: int


def _tree_rss_kb(root: int) -> int:
    """The summed RSS of ``root``'s descendants (the launcher itself left out), from ``/proc``."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            pending.append(int(child))
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            found = re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)
            total += int(found.group(1)) if found else 0
    return total


def measure(argv: Sequence[str], stdout: Path, stderr: Path) -> Measured:
    """Run ``argv`` to completion through the small launcher of ``bench/email_dns.py`` (Linux counts the
    memory a process had before ``exec()`` in its peak RSS: the tool must not start as a copy of this
    process), sampling the tool's process tree's RSS meanwhile."""
    report = stdout.with_suffix(".rusage")
    peak = 0
    with stdout.open("wb") as out, stderr.open("wb") as err:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv], stdout=out, stderr=err
        )
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(SAMPLE_SECONDS):
                peak = max(peak, _tree_rss_kb(launcher.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            launcher.wait()
        finally:
            done.set()
            sampler.join()
    try:
        usage = json.loads(report.read_text())
    except (OSError, ValueError):
        raise BenchError(f"could not start {argv[0]} (exit {launcher.returncode}); see {stderr}") from None
    return Measured(usage["wall"], usage["cpu"], usage["maxrss"], peak, usage["exit"])


def _last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def startup(argv: Sequence[str], work: Path) -> float:
    measured = measure(argv, work / "startup.out", work / "startup.err")
    if measured.exit_code != 0:
        raise BenchError(
            f"{' '.join(argv)} failed (exit {measured.exit_code}): {_last_line(work / 'startup.err')}"
        )
    return measured.wall


# --- the two tools --------------------------------------------------------------------------------------


def run_mimawari(corpus: Corpus, work: Path) -> Run:
    """``mimawari dmarc parse DIR --format json``: one JSON object a line per report (or rejected file)."""
    argv = [str(MIMAWARI), "dmarc", "parse", str(corpus.directory), "--format", "json"]
    output, errors = work / "mimawari.jsonl", work / "mimawari.err"
    measured = measure(argv, output, errors)
    with output.open(encoding="utf-8") as lines:
        try:
            found, failed = read_mimawari(lines, corpus)
        except ValueError as exc:
            raise BenchError(
                f"mimawari dmarc parse printed no usable JSON lines ({exc}); see {output}"
            ) from None
    # A non-zero exit may only say that some files were rejected; with no line at all it is a failure.
    if measured.exit_code != 0 and not found and not failed:
        raise BenchError(f"mimawari dmarc parse failed (exit {measured.exit_code}): {_last_line(errors)}")
    start = startup([*argv[:3], "--help"], work)
    return _run("mimawari", measured, start, check(corpus, found, failed))


def ensure_parsedmarc() -> Path:
    """The peer venv's ``parsedmarc`` program, creating the venv and installing it from PyPI if needed."""
    program = PEER_VENV / "bin" / "parsedmarc"
    if (
        program.exists()
        and subprocess.run([program, "--version"], check=False, capture_output=True).returncode == 0
    ):
        return program
    print(f"installing {PEER_SPEC} into {PEER_VENV.relative_to(ROOT)} …", file=sys.stderr)
    by_hand = f"python3 -m venv {PEER_VENV} && {PEER_VENV}/bin/pip install {PEER_SPEC}"
    for step in (
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [
            str(PEER_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PEER_SPEC,
        ],
    ):
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise BenchError(
                f"cannot install {PEER_SPEC} ({lines[-1] if lines else '?'}); install it by hand: {by_hand}"
            )
    return program


def run_parsedmarc(program: Path, corpus: Corpus, work: Path) -> Run:
    """``parsedmarc --offline --silent -o OUT DIR``; its records are the rows of ``OUT/aggregate.csv``
    (one a record), the files it rejected its ``Failed to parse FILE - why`` lines on stderr."""
    out = work / "parsedmarc-out"
    shutil.rmtree(out, ignore_errors=True)
    argv = [str(program), *PEER_ARGS, "-o", str(out), str(corpus.directory)]
    output, errors = work / "parsedmarc.out", work / "parsedmarc.err"
    measured = measure(argv, output, errors)
    table = out / "aggregate.csv"
    if measured.exit_code != 0 or not table.is_file():
        raise BenchError(f"parsedmarc failed (exit {measured.exit_code}): {_last_line(errors)}")
    with (
        table.open(encoding="utf-8", newline="") as rows,
        errors.open(encoding="utf-8", errors="replace") as log,
    ):
        found, failed = read_parsedmarc(csv.DictReader(rows), log, corpus)
    start = startup([str(program), "--help"], work)
    return _run("parsedmarc", measured, start, check(corpus, found, failed))


def _run(tool: str, measured: Measured, start: float, verdict: Verdict) -> Run:
    m = measured
    return Run(tool, m.wall, m.cpu, m.peak_rss_kb, m.tree_peak_kb, m.exit_code, start, verdict)


# --- the report -----------------------------------------------------------------------------------------


def describe(corpus: Corpus) -> list[str]:
    flaws = Counter(b.flaw for b in corpus.broken)
    forms = ", ".join(f"{form} {n}" for form, n in corpus.files.items() if form != "broken")
    in_bundles = sum(1 for r in corpus.reports if r.file.startswith("dmarc-reports-"))
    return [
        f"corpus: {len(corpus.reports)} aggregate reports, {corpus.records} records, {corpus.messages} messages"
        f" in {sum(corpus.files.values())} files ({corpus.size_bytes / 2**20:.1f} MB), seed {corpus.seed}",
        f"  files: {forms} (the several-report zips hold {in_bundles} reports)",
        f"  broken: {', '.join(f'{flaw} ×{n}' for flaw, n in flaws.items())}",
    ]


def report(corpus: Corpus, runs: list[Run]) -> list[str]:
    lines = [
        f"mimawari DMARC parse benchmark, {os.cpu_count()} CPUs",
        *describe(corpus),
        "mimawari: mimawari dmarc parse DIR --format json (this tree, .venv)",
    ]
    if any(run.tool == "parsedmarc" for run in runs):
        lines.append(f"parsedmarc: {PEER_SPEC} (Apache-2.0, its own venv) {' '.join(PEER_ARGS)} -o OUT DIR")
    lines += [
        "",
        f"{'tool':<11} {'reports':>7} {'records':>8} {'wall s':>7} {'records/s':>10} {'reports/s':>9}"
        f" {'CPU s':>6} {'RSS MB':>7} {'tree MB':>7} {'start s':>7} {'exit':>4}",
    ]
    for run in runs:
        lines.append(
            f"{run.tool:<11} {run.verdict.reports:>7} {run.verdict.records:>8} {run.wall:>7.2f}"
            f" {run.records_per_second:>10.0f} {run.reports_per_second:>9.1f} {run.cpu:>6.2f}"
            f" {run.peak_rss_kb / 1024:>7.1f} {run.tree_peak_kb / 1024:>7.1f} {run.startup:>7.2f} {run.exit_code:>4}"
        )
    by_tool = {run.tool: run for run in runs}
    if "mimawari" in by_tool:
        ours = by_tool["mimawari"]
        memory = "meets" if ours.peak_mb < TARGET_PEAK_MB else "misses"
        lines += [
            "",
            f"mimawari peak memory {ours.peak_mb:.0f} MB ({memory} the < {TARGET_PEAK_MB:g} MB target)",
        ]
        if "parsedmarc" in by_tool:
            ratio = ours.records_per_second / by_tool["parsedmarc"].records_per_second
            speed = "meets" if ratio >= TARGET_RATIO else "misses"
            theirs = by_tool["parsedmarc"]
            on_cpu = (ours.verdict.records / ours.cpu) / (theirs.verdict.records / theirs.cpu)
            lines += [
                f"ratio mimawari ÷ parsedmarc (records/s, whole processes): {ratio:.1f}× ({speed} the"
                f" ≥ {TARGET_RATIO:g}× target)",
                f"  per CPU second instead of wall time: {on_cpu:.1f}× (less sensitive to a busy machine)",
            ]
    lines += ["", "against the generator's truth:"]
    for run in runs:
        lines += verdict_lines(run.tool, run.verdict, corpus)
    return lines


def verdict_lines(tool: str, verdict: Verdict, corpus: Corpus, shown: int = 5) -> list[str]:
    head = (
        f"{tool}: {'exact' if verdict.exact else 'NOT exact'} — reports {verdict.reports}/{len(corpus.reports)},"
        f" records {verdict.records}/{corpus.records}, messages {verdict.messages}/{corpus.messages},"
        f" broken files rejected {len(verdict.rejected)}/{len(corpus.broken)}"
    )
    lines = [head]
    for what, items in verdict.problems().items():
        if items:
            more = f" (+{len(items) - shown} more)" if len(items) > shown else ""
            lines.append(f"  {what} ({len(items)}): {'; '.join(items[:shown])}{more}")
    return lines


# --- main -----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark mimawari dmarc parse against parsedmarc.")
    parser.add_argument("--size", type=int, default=2000, help="aggregate reports to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated corpus (default 1)")
    parser.add_argument(
        "--peer", action=argparse.BooleanOptionalAction, default=True, help="run parsedmarc too"
    )
    parser.add_argument("--keep", type=Path, help="keep the corpus and both tools' outputs in this folder")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    return run_bench(lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    ensure_mimawari("dmarc", "parse")
    program = ensure_parsedmarc() if args.peer else None
    work = args.keep or Path(tempfile.mkdtemp(prefix="mimawari-bench-dmarc-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        corpus_dir = work / "corpus"
        if corpus_dir.exists():  # a kept folder from an earlier run: the corpus is written afresh
            shutil.rmtree(corpus_dir)
        print(f"bench: writing {args.size} reports into {corpus_dir} …", file=sys.stderr)
        started = time.perf_counter()
        corpus = generate(corpus_dir, args.size, args.seed)
        print(f"bench: corpus written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print("bench: mimawari dmarc parse …", file=sys.stderr)
        runs = [run_mimawari(corpus, work)]
        if program is not None:
            print("bench: parsedmarc …", file=sys.stderr)
            runs.append(run_parsedmarc(program, corpus, work))
        print("\n".join(report(corpus, runs)))
        return 0 if runs[0].verdict.exact else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
