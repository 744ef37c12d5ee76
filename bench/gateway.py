"""Mail gateway benchmark: ``mimawari gateway scan`` against ClamAV's ``clamscan --alert-encrypted=yes``.

    .venv/bin/python bench/gateway.py [--messages N] [--seed S] [--peer/--no-peer] [--keep DIR]

The corpus (``mimawari.lab.mail_corpus``: N .eml files, about 40 % carrying encrypted archives or
documents of every kind, nested, disguised and forwarded, the rest clean decoys) is written afresh for
each run, with the verdict each message must get. Both tools scan the same folder, each as its own
process measured alone (wall time from start to exit, start-up and ClamAV's signature loading included;
CPU time and peak RSS from ``wait4()``), and both are scored against the manifest: recall and precision
of "this message holds something encrypted".

ClamAV is Debian's (``apt-get install clamav``). It refuses to start without a signature database, and
``freshclam`` needs the internet, so the bench writes its own: one harmless ``.ndb`` signature that
matches nothing in the corpus, passed with ``-d``. What is measured is ClamAV's parsing and its
``Heuristics.Encrypted.*`` alerts (``--alert-encrypted`` is both ``--alert-encrypted-archive`` and
``--alert-encrypted-doc``), not its signature matching. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.dmarc_parse import Measured, measure  # noqa: E402
from bench.email_dns import MIMAWARI, BenchError, ensure_mimawari, run_bench  # noqa: E402
from mimawari.gateway.verdict import Kind, Verdict  # noqa: E402
from mimawari.lab.mail_corpus import MANIFEST, CorpusManifest, build_corpus  # noqa: E402

CLAMSCAN = "clamscan"
CLAM_ARGS = ("--no-summary", "--infected", "--alert-encrypted=yes")
SIGNATURE = "Mimawari.Bench.Marker-0:0:*:" + b"mimawari bench marker: matches nothing".hex()
"""An extended (``.ndb``) signature: any file type, any offset, a byte string no corpus file holds."""
CLAM_FOUND = re.compile(r"^(?P<file>.+): (?P<name>\S+) FOUND$")
ENCRYPTED_ALERT = "Heuristics.Encrypted."


@dataclass(frozen=True)
class Score:
    """One tool's verdicts against the manifest; positive is "holds something encrypted"."""

    true_positive: tuple[str, ...]
    false_negative: tuple[str, ...]
    false_positive: tuple[str, ...]
    undecidable: tuple[str, ...] = ()
    """Files the tool could not decide (mimawari only): not counted as positive."""

    @property
    def recall(self) -> float:
        found = len(self.true_positive)
        return found / (found + len(self.false_negative)) if found or self.false_negative else 1.0

    @property
    def precision(self) -> float:
        found = len(self.true_positive)
        return found / (found + len(self.false_positive)) if found or self.false_positive else 1.0


@dataclass(frozen=True)
class Run:
    tool: str
    measured: Measured
    score: Score
    detected: frozenset[str]
    startup: float
    """Wall time of the same program with nothing to scan: interpreter and imports, or ClamAV's engine
    and signature loading."""

    def rate(self, messages: int) -> float:
        return messages / self.measured.wall

    def rate_after_startup(self, messages: int) -> float:
        return messages / max(self.measured.wall - self.startup, 1e-3)


def score(manifest: CorpusManifest, positive: Iterable[str], undecidable: Iterable[str] = ()) -> Score:
    """``positive``: the corpus file names a tool called encrypted (other names are ignored)."""
    said = set(positive)
    expected = {m.file for m in manifest.messages if m.verdict is Verdict.ENCRYPTED}
    files = {m.file for m in manifest.messages}
    return Score(
        tuple(sorted(said & expected)),
        tuple(sorted(expected - said)),
        tuple(sorted((said & files) - expected)),
        tuple(sorted(set(undecidable) & files)),
    )


# --- the two tools' outputs -----------------------------------------------------------------------------


def read_mimawari(text: str) -> dict[str, str]:
    """File name → verdict from ``gateway scan --format json``: JSON lines, or one JSON array."""
    stripped = text.strip()
    if not stripped:
        return {}
    objects = (
        json.loads(stripped)
        if stripped.startswith("[")
        else [json.loads(line) for line in stripped.splitlines()]
    )
    verdicts: dict[str, str] = {}
    for index, item in enumerate(objects, 1):
        if not isinstance(item, dict) or "file" not in item or "verdict" not in item:
            raise ValueError(f"object {index} has no file and verdict: {str(item)[:120]}")
        verdicts[Path(str(item["file"])).name] = str(item["verdict"])
    return verdicts


def read_clamscan(lines: Iterable[str]) -> dict[str, list[str]]:
    """File name → the alerts clamscan printed for it (``PATH: NAME FOUND``)."""
    alerts: dict[str, list[str]] = {}
    for line in lines:
        found = CLAM_FOUND.match(line.rstrip("\n"))
        if found:
            alerts.setdefault(Path(found.group("file")).name, []).append(found.group("name"))
    return alerts


# --- running them ---------------------------------------------------------------------------------------


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


def run_mimawari(manifest: CorpusManifest, work: Path) -> Run:
    argv = [str(MIMAWARI), "gateway", "scan", str(manifest.directory), "--format", "json"]
    output, errors = work / "mimawari.json", work / "mimawari.err"
    measured = measure(argv, output, errors)
    try:
        verdicts = read_mimawari(output.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BenchError(f"mimawari gateway scan printed no usable JSON ({exc}); see {output}") from None
    if not verdicts:
        raise BenchError(f"mimawari gateway scan failed (exit {measured.exit_code}): {_last_line(errors)}")
    positive = {name for name, verdict in verdicts.items() if verdict == Verdict.ENCRYPTED}
    undecided = {name for name, verdict in verdicts.items() if verdict == Verdict.UNDECIDABLE}
    start = startup([*argv[:3], "--help"], work)
    return Run("mimawari", measured, score(manifest, positive, undecided), frozenset(positive), start)


def clamscan_program() -> str | None:
    return shutil.which(CLAMSCAN)


def run_clamscan(program: str, manifest: CorpusManifest, work: Path) -> Run:
    database = work / "clamav-db"
    database.mkdir(exist_ok=True)
    (database / "mimawari-bench.ndb").write_text(SIGNATURE + "\n")
    argv = [program, *CLAM_ARGS, "-d", str(database), str(manifest.directory)]
    output, errors = work / "clamscan.out", work / "clamscan.err"
    measured = measure(argv, output, errors)
    if measured.exit_code not in (0, 1):  # 0: nothing found, 1: something found, 2: an error
        raise BenchError(f"clamscan failed (exit {measured.exit_code}): {_last_line(errors)}")
    with output.open(encoding="utf-8", errors="replace") as lines:
        alerts = read_clamscan(lines)
    positive = {name for name, names in alerts.items() if any(n.startswith(ENCRYPTED_ALERT) for n in names)}
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    start = startup([*argv[:-1], str(empty)], work)
    return Run("clamscan", measured, score(manifest, positive), frozenset(positive), start)


# --- the report -----------------------------------------------------------------------------------------


def describe(manifest: CorpusManifest) -> list[str]:
    files = [manifest.directory / m.file for m in manifest.messages]
    size = sum(path.stat().st_size for path in files)
    kinds = len(manifest.kinds)
    return [
        f"corpus: {len(manifest.messages)} messages ({size / 2**20:.1f} MB), {manifest.encrypted} with"
        f" encrypted content ({kinds} of {len(Kind)} kinds), seed {manifest.seed}",
    ]


def report(manifest: CorpusManifest, runs: list[Run], clam_note: str) -> list[str]:
    messages = len(manifest.messages)
    lines = [f"mimawari gateway benchmark, {os.cpu_count()} CPUs", *describe(manifest)]
    lines += [
        "mimawari: mimawari gateway scan DIR --format json (this tree, .venv)",
        f"clamscan: {clam_note}",
        "msgs/s: messages ÷ wall time of the whole process; start s: the program with nothing to scan;"
        " after: messages ÷ (wall − start)",
        "",
        f"{'tool':<9} {'wall s':>7} {'msgs/s':>8} {'start s':>7} {'after':>8} {'CPU s':>6} {'RSS MB':>7} {'exit':>4}"
        f" {'recall':>7} {'precision':>9} {'missed':>6} {'false+':>6} {'undecided':>9}",
    ]
    for run in runs:
        m, s = run.measured, run.score
        lines.append(
            f"{run.tool:<9} {m.wall:>7.2f} {run.rate(messages):>8.1f} {run.startup:>7.2f}"
            f" {run.rate_after_startup(messages):>8.1f} {m.cpu:>6.2f} {m.peak_rss_kb / 1024:>7.1f}"
            f" {m.exit_code:>4} {s.recall:>7.3f} {s.precision:>9.3f} {len(s.false_negative):>6}"
            f" {len(s.false_positive):>6} {len(s.undecidable):>9}"
        )
    by_tool = {run.tool: run for run in runs}
    if "mimawari" in by_tool and "clamscan" in by_tool:
        ratio = by_tool["mimawari"].rate(messages) / by_tool["clamscan"].rate(messages)
        verdict = "meets" if ratio >= 1 else "misses"
        lines += [
            "",
            f"ratio mimawari ÷ clamscan (messages/s, whole processes): {ratio:.2f}× ({verdict} the ≥ 1× target)",
        ]
    lines += ["", "recall by kind (messages holding it, found by each tool):"]
    for kind in Kind:
        holding = [m.file for m in manifest.messages if kind in m.kinds]
        if holding:
            found = "  ".join(f"{run.tool} {sum(f in run.detected for f in holding):>3}" for run in runs)
            lines.append(f"  {kind:<34} {len(holding):>3}  {found}")
    for run in runs:
        for what, files in (
            ("missed", run.score.false_negative),
            ("false positives", run.score.false_positive),
        ):
            if files:
                shapes = {m.file: m.shape for m in manifest.messages}
                shown = ", ".join(f"{f} ({shapes[f]})" for f in files[:6])
                more = f" (+{len(files) - 6} more)" if len(files) > 6 else ""
                lines.append(f"{run.tool} {what}: {shown}{more}")
    return lines


# --- main -----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark mimawari gateway scan against ClamAV's clamscan.")
    parser.add_argument("--messages", type=int, default=500, help="messages to generate (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated corpus (default 1)")
    parser.add_argument(
        "--peer", action=argparse.BooleanOptionalAction, default=True, help="run clamscan too"
    )
    parser.add_argument("--keep", type=Path, help="keep the corpus and both tools' outputs in this folder")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    return run_bench(lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    ensure_mimawari("gateway", "scan")
    program = clamscan_program() if args.peer else None
    if not args.peer:
        clam_note = "not run (--no-peer)"
    elif program is None:
        clam_note = "not installed (apt-get install clamav): ClamAV not measured"
        print(f"bench: clamscan {clam_note}", file=sys.stderr)
    else:
        clam_note = f"{program} {' '.join(CLAM_ARGS)} -d OWN-DB DIR (one harmless .ndb signature)"
    work = args.keep or Path(tempfile.mkdtemp(prefix="mimawari-bench-gateway-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        corpus_dir = work / "corpus"
        if corpus_dir.exists():  # a kept folder from an earlier run: the corpus is written afresh
            shutil.rmtree(corpus_dir)
        print(f"bench: writing {args.messages} messages into {corpus_dir} …", file=sys.stderr)
        started = time.perf_counter()
        manifest = build_corpus(corpus_dir, args.messages, args.seed)
        print(
            f"bench: corpus written in {time.perf_counter() - started:.1f} s ({MANIFEST} beside)",
            file=sys.stderr,
        )
        print("bench: mimawari gateway scan …", file=sys.stderr)
        runs = [run_mimawari(manifest, work)]
        if program is not None:
            print("bench: clamscan …", file=sys.stderr)
            runs.append(run_clamscan(program, manifest, work))
        print("\n".join(report(manifest, runs, clam_note)))
        ours = runs[0].score
        return 0 if ours.recall == 1.0 and ours.precision == 1.0 else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
