"""Email-DNS benchmark: ``mimawari scan`` against checkdmarc on N generated lab domains.

    .venv/bin/python bench/email_dns.py [--domains N] [--peer/--no-peer] [--seed S] [--keep DIR]

The lab runs in its own process (``mimawari lab up``), so each tool's process is measured alone: wall
time from start to exit (interpreter start-up included, for both), peak RSS and CPU time from
``wait4()`` of that one child, the lab's CPU time during the run from ``/proc``. checkdmarc is installed
from PyPI into ``bench/.venv-checkdmarc`` on first use, never into the project's venv. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.lab_domains import LabDomains, generate  # noqa: E402
from mimawari.checks import ALL_CHECKS  # noqa: E402  (what `mimawari scan` evaluates in this tree)
from mimawari.lab.world import LabConnection  # noqa: E402
from mimawari.serial import from_json, to_json  # noqa: E402

MIMAWARI = ROOT / ".venv" / "bin" / "mimawari"
CATEGORY = ("--category", "email-dns")
"""checkdmarc looks at DNS (and MTA-STS/BIMI over HTTPS) only: the comparison runs the same category."""
PEER_VENV = ROOT / "bench" / ".venv-checkdmarc"
PEER_SPEC = "checkdmarc==6.0.4"
PEER_SCRIPT = ROOT / "bench" / "checkdmarc_peer.py"
PROXY_SCRIPT = ROOT / "bench" / "latency_proxy.py"
LAB_START_SECONDS = 180
SECURE_CHECKS = ("dns.dnssec.", "email.dane.")
TARGET_RATIO = 10.0
# What checkdmarc.check_domains() looks at for each domain (checkdmarc 6.0, MX TLS probes off by default).
PEER_CHECKS = (
    "SPF, DMARC (+ rua authorisation), MX (+ addresses, PTR), NS, SOA, DNSSEC, MTA-STS, TLS-RPT, BIMI"
)


class BenchError(Exception):
    """The benchmark cannot go on; the message is the one line to print."""


def run_bench(bench: Callable[[], int]) -> int:
    """Run a benchmark: its exit code, or 1 with its one-line error, or 130 when interrupted."""
    try:
        return bench()
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


def ensure_mimawari(*command: str) -> None:
    """This tree's ``mimawari`` is installed and has ``command`` (``dmarc parse``); BenchError if not."""
    if not MIMAWARI.exists():
        raise BenchError(f"{MIMAWARI} not found: run `make` or `pip install -e .` in {ROOT} first")
    if command:
        done = subprocess.run([MIMAWARI, *command, "--help"], check=False, capture_output=True)
        if done.returncode != 0:
            shown = " ".join(command)
            raise BenchError(f"this mimawari has no `{shown}` command (`mimawari {shown} --help` failed)")


@dataclass(frozen=True)
class Run:
    tool: str
    domains: int
    wall: float
    peak_rss_kb: int
    cpu: float
    lab_cpu: float
    queries: int
    output_bytes: int
    records_seen: tuple[int, int]
    grades: Counter[str]
    secure_grades: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    """Grades of the DNSSEC and DANE checks, by check id: proof they were evaluated, not ``unknown``."""

    @property
    def rate(self) -> float:
        return self.domains / self.wall


# --- the lab ------------------------------------------------------------------------------------------


class Server:
    """A server in a child process (the lab, the latency proxy); ``address`` is the HOST:PORT it printed
    after ``ready`` on its first lines."""

    def __init__(self, name: str, argv: Sequence[str], ready: str, log: Path) -> None:
        self.name, self._log = name, log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
        lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, args=(lines,), daemon=True)
        self._drainer.start()
        started = time.monotonic()
        deadline = started + LAB_START_SECONDS
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise BenchError(f"the {name} printed no address within {LAB_START_SECONDS} s") from None
            if line is None:
                self.process.wait()
                raise BenchError(f"the {name} could not start: {self._last_error()}")
            if line.startswith(ready):
                self.address = line.split()[1]
                self.lines = lines
                self.start_seconds = time.monotonic() - started
                return

    def connection_file(self) -> Path:
        """The lab's connection file, from the ``try: mimawari scan … --lab FILE`` line ``lab up`` prints
        after its address (Rich may wrap it: the path is the word after ``--lab``), or where ``lab up``
        writes it: ``$TMPDIR/mimawari-lab-<port>.json``."""
        words: list[str] = []
        deadline = time.monotonic() + 10
        while "--lab" not in words[:-1] and time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.startswith("try:") or words:
                words += line.split()
        path = (
            Path(words[words.index("--lab") + 1])
            if "--lab" in words[:-1]
            else Path(tempfile.gettempdir()) / f"mimawari-lab-{self.address.rsplit(':', 1)[1]}.json"
        )
        if not path.is_file():
            raise BenchError(f"the {self.name} wrote no connection file ({path})")
        return path

    def _drain(self, lines: queue.Queue[str | None]) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at the end of the output, when the server has stopped
            for line in self.process.stdout:
                lines.put(line.strip())
        lines.put(None)

    def _last_error(self) -> str:
        return _last_message(self._log) or f"exit code {self.process.returncode}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (``/proc/PID/stat`` fields 14 and 15)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"the {self.name} stopped during the benchmark: {self._last_error()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drainer.join(5)


# --- measuring one tool run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    wall: float
    peak_rss_kb: int
    cpu: float
    exit_code: int
    lab_cpu: float


# Linux counts the memory a process had before exec() in its peak RSS (``ru_maxrss``), and a child
# starts as a copy of this benchmark, which holds the previous run's parsed JSON. So a small launcher
# (python -S, ~10 MB) starts each tool and reports what wait4() says about that tool alone.
LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
_, status, usage = os.wait4(os.posix_spawn(argv[0], argv, os.environ), 0)
wall = time.perf_counter() - started
with open(report, "w") as handle:
    json.dump({"wall": wall, "maxrss": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
               "exit": os.waitstatus_to_exitcode(status)}, handle)
"""


def measure(argv: Sequence[str], stdout: Path, stderr: Path, lab: Server) -> Measured:
    """Run ``argv`` to completion: its wall time, peak RSS and CPU time, and the lab's CPU time meanwhile."""
    lab_cpu = lab.cpu_seconds()
    report = stdout.with_suffix(".rusage")
    with stdout.open("wb") as out, stderr.open("wb") as err:
        launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv]
        exit_code = subprocess.run(launcher, stdout=out, stderr=err, check=False).returncode
    lab.check_alive()
    try:
        usage = json.loads(report.read_text())
    except (OSError, ValueError):
        raise BenchError(f"could not start {argv[0]} (exit {exit_code}); see {stderr}") from None
    return Measured(usage["wall"], usage["maxrss"], usage["cpu"], usage["exit"], lab.cpu_seconds() - lab_cpu)


def _last_message(log: Path) -> str:
    """The last error in a tool's stderr, as one line (Rich wraps long lines at 80 columns)."""
    lines = log.read_text(errors="replace").strip().splitlines()
    starts = [i for i, line in enumerate(lines) if "error" in line.lower()] or [len(lines) - 1]
    return " ".join(line.strip() for line in lines[starts[-1] :])[:500]


def _failure(tool: str, measured: Measured, stderr: Path) -> BenchError:
    return BenchError(f"{tool} failed (exit {measured.exit_code}): {_last_message(stderr) or 'no message'}")


def _records_seen(lab: LabDomains, names: Sequence[str], text_by_domain: dict[str, str]) -> tuple[int, int]:
    """How many single, plain DMARC records of the lab appear in the tool's output for their domain:
    the proof that the tool asked the lab, not some other resolver."""
    wanted = set(names)
    sample = [
        d
        for d in lab.domains
        if d.name in wanted and len(d.dmarc) == 1 and not d.behaviour and d.profile["dmarc"] != "cname"
    ]
    seen = sum(1 for d in sample if d.dmarc[0] in text_by_domain.get(d.name, ""))
    return seen, len(sample)


def scan_connection(lab: Server, ask: str, work: Path) -> Path:
    """The connection file for ``mimawari scan --lab``: the lab's own, whose trust anchor is the DS of
    the signed top zone ``example`` (so DNSSEC is validated for real), or, when answers go through the
    latency proxy, a copy whose nameserver is the proxy (``--lab`` cannot be combined with
    ``--nameserver``)."""
    path = lab.connection_file()
    if ask == lab.address:
        return path
    try:
        connection = from_json(LabConnection, path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read the lab's connection file {path}: {exc}") from None
    if not connection.trust_anchors:
        raise BenchError(f"the lab's connection file {path} has no DNSSEC trust anchor")
    copy = work / "lab-via-proxy.json"
    copy.write_text(to_json(dataclasses.replace(connection, nameserver=ask), indent=2), encoding="utf-8")
    return copy


def run_mimawari(
    lab: Server, connection: Path, domains: LabDomains, names: Sequence[str], work: Path, timeout: float
) -> Run:
    argv = [str(MIMAWARI), "scan", *names, "--lab", str(connection), "--format", "json", *CATEGORY]
    argv += ["--timeout", f"{timeout:g}"]
    size = sum(len(a) + 1 for a in argv) + sum(len(k) + len(v) + 2 for k, v in os.environ.items())
    if size > os.sysconf("SC_ARG_MAX") * 3 // 4:
        raise BenchError(
            f"{len(names)} domains need {size} bytes of command line (limit {os.sysconf('SC_ARG_MAX')});"
            " mimawari scan reads no file of domains yet"
        )
    output, errors = work / f"mimawari-{len(names)}.json", work / f"mimawari-{len(names)}.err"
    measured = measure(argv, output, errors, lab)
    if measured.exit_code != 0:
        raise _failure("mimawari scan", measured, errors)
    try:
        reports = json.loads(output.read_text())["domains"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"mimawari scan printed no usable JSON ({exc}); see {output}") from None
    got = [r["domain"] for r in reports]
    if len(got) != len(names) or set(got) != set(names):
        raise BenchError(f"mimawari scan reported {len(got)} domains for {len(names)} asked")
    sent = {(a["query"]["name"], a["query"]["rdtype"]) for r in reports for a in r["snapshot"]["dns"]}
    texts = {r["domain"]: json.dumps(r) for r in reports}
    secure: dict[str, Counter[str]] = {}
    for finding in (f for r in reports for f in r["findings"]):
        if finding["check_id"].startswith(SECURE_CHECKS):
            secure.setdefault(finding["check_id"], Counter())[finding["grade"]] += 1
    return Run(
        "mimawari",
        len(names),
        measured.wall,
        measured.peak_rss_kb,
        measured.cpu,
        measured.lab_cpu,
        len(sent),  # the scan's DNS client asks each (name, type) once, whichever domains need it
        output.stat().st_size,
        _records_seen(domains, names, texts),
        Counter(f["grade"] for r in reports for f in r["findings"]),
        secure,
    )


def ensure_peer() -> Path:
    """The peer venv's Python, creating the venv and installing checkdmarc from PyPI if needed."""
    python = PEER_VENV / "bin" / "python"
    if (
        python.exists()
        and subprocess.run([python, "-c", "import checkdmarc"], check=False, capture_output=True).returncode
        == 0
    ):
        return python
    print(f"installing {PEER_SPEC} into {PEER_VENV.relative_to(ROOT)} …", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER_SPEC],
    ]
    for step in steps:
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise BenchError(f"cannot install {PEER_SPEC} into {PEER_VENV}: {lines[-1] if lines else '?'}")
    return python


def run_checkdmarc(
    python: Path, lab: Server, ask: str, domains: LabDomains, names: Sequence[str], work: Path
) -> Run:
    listing = work / "peer-domains.txt"
    listing.write_text("\n".join(names) + "\n")
    output, summary, errors = work / "checkdmarc.json", work / "checkdmarc.out", work / "checkdmarc.err"
    argv = [str(python), str(PEER_SCRIPT), "--nameserver", ask, "--domains", str(listing)]
    measured = measure([*argv, "--output", str(output)], summary, errors, lab)
    if measured.exit_code != 0:
        raise _failure("checkdmarc", measured, errors)
    try:
        results = json.loads(output.read_text())
        queries = int(json.loads(summary.read_text().strip().splitlines()[-1])["queries"])
    except (ValueError, KeyError, IndexError, OSError) as exc:
        raise BenchError(f"checkdmarc gave no usable output ({exc}); see {errors}") from None
    got = [r["domain"] for r in results]
    if len(got) != len(names) or set(got) != set(names):
        raise BenchError(f"checkdmarc reported {len(got)} domains for {len(names)} asked")
    texts = {r["domain"]: json.dumps(r) for r in results}
    return Run(
        "checkdmarc",
        len(names),
        measured.wall,
        measured.peak_rss_kb,
        measured.cpu,
        measured.lab_cpu,
        queries,
        output.stat().st_size,
        _records_seen(domains, names, texts),
        Counter(),
    )


# --- the report ---------------------------------------------------------------------------------------


def _row(run: Run) -> str:
    seen, of = run.records_seen
    return (
        f"{run.tool:<11} {run.domains:>7} {run.wall:>8.2f} {run.rate:>10.1f} {run.peak_rss_kb / 1024:>9.1f}"
        f" {run.cpu:>7.2f} {run.lab_cpu / run.wall:>8.0%} {run.queries / run.domains:>8.1f} {seen:>6}/{of}"
    )


def report(
    runs: list[Run], peer: Run | None, checks: str, lab: LabDomains, dns: str, lab_start: float
) -> list[str]:
    full = runs[-1]
    lines = [
        f"mimawari email-DNS benchmark: {full.domains} lab domains ({len(lab.zones)} zones,"
        f" {len(lab.signing)} DNSSEC-signed), {dns}, {os.cpu_count()} CPUs",
        f"lab start-up (zones loaded and signed, until it printed its address): {lab_start:.1f} s",
        f"mimawari checks: {checks}",
    ]
    if peer is not None:
        lines.append(f"checkdmarc ({PEER_SPEC}) looks at: {PEER_CHECKS}")
    header = (
        f"{'tool':<11} {'domains':>7} {'wall s':>8} {'domains/s':>10} {'RSS MB':>9} {'CPU s':>7}"
        f" {'lab CPU':>8} {'q/domain':>8} {'records seen'}"
    )
    lines += ["", header, _row(full)]
    if peer is not None:
        lines.append(_row(peer))
        ratio = full.rate / peer.rate
        verdict = "meets" if ratio >= TARGET_RATIO else "misses"
        lines += [
            "",
            f"ratio mimawari ÷ checkdmarc (domains/s): {ratio:.1f}× ({verdict} the ≥ {TARGET_RATIO:g}× target)",
        ]
    busy = [r for r in [full, peer] if r is not None and r.lab_cpu / r.wall > 0.9]
    if busy:
        lines.append(
            f"note: the lab was > 90 % busy during the {', '.join(r.tool for r in busy)} run: "
            "that run measured the lab's speed, not the tool's"
        )
    lines += [
        "",
        "mimawari memory by N (peak RSS of the scan process alone)",
        f"{'domains':>7} {'wall s':>8} {'domains/s':>10} {'RSS MB':>9} {'JSON MB':>8} {'KB/domain over 1':>17}",
    ]
    base = runs[0]
    for run in runs:
        extra = (run.peak_rss_kb - base.peak_rss_kb) / max(1, run.domains - base.domains)
        lines.append(
            f"{run.domains:>7} {run.wall:>8.2f} {run.rate:>10.1f} {run.peak_rss_kb / 1024:>9.1f}"
            f" {run.output_bytes / 2**20:>8.2f} {extra if run is not base else 0:>17.1f}"
        )
    if len(runs) >= 3:
        low, high = runs[1], runs[-1]
        slope = (high.peak_rss_kb - low.peak_rss_kb) / (high.domains - low.domains)
        output = (high.output_bytes - low.output_bytes) / 1024 / (high.domains - low.domains)
        lines.append(
            f"growth from {low.domains} to {high.domains} domains: {slope:.1f} KB RSS per domain,"
            f" for {output:.1f} KB of JSON output per domain"
        )
    grades = ", ".join(f"{g} {n}" for g, n in sorted(full.grades.items()))
    lines += ["", f"mimawari grades over {full.domains} domains: {grades}"]
    for check, counts in sorted(full.secure_grades.items()):
        lines.append(f"  {check:<22} {', '.join(f'{g} {n}' for g, n in sorted(counts.items()))}")
    return lines


def _sizes(count: int) -> list[int]:
    return sorted({1, max(1, count // 4), max(1, count // 2), count})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark mimawari scan against checkdmarc on lab domains.")
    parser.add_argument("--domains", type=int, default=1000, help="how many lab domains (default 1000)")
    parser.add_argument(
        "--peer", action=argparse.BooleanOptionalAction, default=True, help="run checkdmarc too"
    )
    parser.add_argument("--peer-domains", type=int, help="run checkdmarc on the first M domains only")
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated domains (default 3)")
    parser.add_argument("--timeout", type=float, default=2.0, help="DNS timeout for mimawari (default 2)")
    parser.add_argument(
        "--rtt-ms", type=float, default=0, help="delay every DNS answer by this much (default 0: loopback)"
    )
    parser.add_argument("--keep", type=Path, help="keep the lab YAML and the tools' outputs in this folder")
    args = parser.parse_args(argv)
    if args.domains < 1:
        parser.error("--domains must be at least 1")
    return run_bench(lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    ensure_mimawari()
    work = args.keep or Path(tempfile.mkdtemp(prefix="mimawari-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        python = ensure_peer() if args.peer else None
        dns_checks = [k for k, c in ALL_CHECKS.items() if c.category.value == CATEGORY[1]]
        checks = f"{len(dns_checks)} ({', '.join(dns_checks)})"
        lab_domains = generate(args.domains, args.seed)
        zone_file = work / "lab.yaml"
        zone_file.write_text(lab_domains.to_yaml())
        names = lab_domains.names
        print(f"bench: {len(names)} domains in {zone_file}; starting the lab …", file=sys.stderr)
        lab = Server(
            "lab", [str(MIMAWARI), "lab", "up", "--zone", str(zone_file)], "nameserver ", work / "lab.err"
        )
        proxy = None
        try:
            ask = lab.address
            dns = f"lab DNS {lab.address} in its own process (mimawari: --lab, its trust anchor)"
            if args.rtt_ms > 0:
                proxy = Server(
                    "latency proxy",
                    [
                        sys.executable,
                        str(PROXY_SCRIPT),
                        "--upstream",
                        lab.address,
                        "--delay-ms",
                        f"{args.rtt_ms:g}",
                    ],
                    "proxy ",
                    work / "proxy.err",
                )
                ask, dns = proxy.address, f"{dns}, answers delayed {args.rtt_ms:g} ms by a proxy"
            connection = scan_connection(lab, ask, work)
            runs = []
            for size in _sizes(len(names)):
                print(f"bench: mimawari scan on {size} domains …", file=sys.stderr)
                runs.append(run_mimawari(lab, connection, lab_domains, names[:size], work, args.timeout))
            peer = None
            if python is not None:
                count = min(len(names), args.peer_domains or len(names))
                print(f"bench: checkdmarc on {count} domains …", file=sys.stderr)
                peer = run_checkdmarc(python, lab, ask, lab_domains, names[:count], work)
            print("\n".join(report(runs, peer, checks, lab_domains, dns, lab.start_seconds)))
            _require_lab_records([*runs[1:], *([peer] if peer else [])])
        finally:
            if proxy is not None:
                proxy.stop()
            lab.stop()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _require_lab_records(runs: list[Run]) -> None:
    for run in runs:
        seen, of = run.records_seen
        if of and seen < of * 0.9:
            raise BenchError(
                f"{run.tool} reported only {seen} of {of} lab DMARC records: did it ask the lab?"
            )


if __name__ == "__main__":
    sys.exit(main())
