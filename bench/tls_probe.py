"""TLS probing benchmark: lab SMTP endpoints probed per second, mimawari and sslyze in the same run.

    .venv/bin/python bench/tls_probe.py [--endpoints N] [--repeat K] [--no-sslyze] [--sessions] [--json]

The lab (``Lab.from_yaml``: N SMTP servers with STARTTLS in a mix of TLS configurations, on loopback
ephemeral ports) runs in a child process of this script, so the probing side shares neither an event loop
nor a CPU with the servers' handshakes, and both tools meet the same lab; it counts the connections it
accepts. mimawari probes in this process with ``ProbeClient.probe(TlsScanRequest(...))``, as a scan
does. sslyze runs from its own venv (``bench/.venv-sslyze``, installed on first use; it is AGPL, so it is
only ever run as a program, never imported) on the same endpoints in one invocation. Both tools must
find the same accepted versions and suites, or the run fails. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.email_dns import BenchError, Server, measure  # noqa: E402
from bench.tls_agreement import Endpoint, agreement, agreement_lines  # noqa: E402
from mimawari.lab.world import Lab, LabScope  # noqa: E402
from mimawari.model import Status, Target  # noqa: E402
from mimawari.observations.mta import smtp_request  # noqa: E402
from mimawari.observe import ProbeClient  # noqa: E402
from mimawari.probes import ServiceSession, StartTls, TlsScan, TlsScanRequest  # noqa: E402

DOMAIN = "tlsbench.example"
PEER_VENV = ROOT / "bench" / ".venv-sslyze"
PEER_SPEC = "sslyze==6.3.1"
SSLYZE_COMMANDS = ("--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves")
"""sslyze's scan commands that do a TlsScan's work: versions, their cipher suites, EC curves."""
PROFILES = {
    "modern": "{}",
    "legacy": '{tls: [TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3], ciphers: "DEFAULT:@SECLEVEL=0"}',
    "tls13-only": "{tls: [TLSv1.3]}",
    "rsa2048": "{key: rsa2048}",
    "restricted": '{tls: [TLSv1.2], ciphers: "ECDHE+AESGCM"}',
    "legacy-rsa": (
        '{key: rsa2048, tls: [TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3], ciphers: "ALL:!aNULL:@SECLEVEL=0"}'
    ),
}
"""Lab ``smtp:`` settings, given to the endpoints in turn: Python's defaults (TLS 1.2 and 1.3, ECDSA
P-256); an old server's TLS 1.0 to 1.3 at OpenSSL security level 0; TLS 1.3 only; an RSA 2048 key;
TLS 1.2 with ECDHE AES-GCM only; TLS 1.0 to 1.3 with every suite OpenSSL has (RSA key exchange,
CAMELLIA, ARIA, CCM …) and an RSA key."""
MIMAWARI_DOES = (
    "versions SSLv3–TLS 1.3 with its own ClientHellos, every suite of its table per accepted version by"
    " elimination (a connection per accepted suite), the server's suite order, key exchange groups (EC,"
    " FFDHE, X25519MLKEM768) at the highest version; never completes a handshake"
)
SSLYZE_DOES = (
    "a connectivity test, then each suite its OpenSSL builds know alone in a full handshake, per version;"
    " EC curves one at a time at the highest version; no server order, no FFDHE groups"
)


@dataclass(frozen=True)
class Run:
    tool: str
    endpoints: int
    wall: float
    cpu: float
    peak_rss_kb: int
    lab_cpu: float
    connections: int
    """Connections the lab accepted during the run (sslyze does not count its own; the lab counts all)."""

    @property
    def rate(self) -> float:
        return self.endpoints / self.wall


# --- the lab, in a child process ----------------------------------------------------------------------


def lab_endpoints(count: int) -> list[Endpoint]:
    """``mx1 … mxN``, addresses from the documentation prefixes (RFC 5737, then RFC 3849)."""
    addresses = [f"{p}.{i}" for p in ("203.0.113", "198.51.100", "192.0.2") for i in range(1, 255)]
    addresses += [f"2001:db8::{i:x}" for i in range(1, count - len(addresses) + 1)]
    names = list(PROFILES)
    return [Endpoint(f"mx{i + 1}.{DOMAIN}", addresses[i], names[i % len(names)]) for i in range(count)]


def lab_yaml(endpoints: Sequence[Endpoint]) -> str:
    """One zone with an MX and an address per endpoint, and the ``mail:`` servers."""
    lines = ["zones:", f"  {DOMAIN}:", "    records:"]
    lines.append(f'      "@": {{MX: [{", ".join(f"10 {e.host}." for e in endpoints)}]}}')
    for e in endpoints:
        label, rdtype = e.host.removesuffix(f".{DOMAIN}"), "AAAA" if ":" in e.address else "A"
        lines.append(f'      {label}: {{{rdtype}: "{e.address}"}}')
    lines += ["mail:", "  servers:"]
    for e in endpoints:
        lines.append(f'    - {{host: {e.host}, addresses: ["{e.address}"], smtp: {PROFILES[e.profile]}}}')
    return "\n".join(lines) + "\n"


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop whose servers count the connections they accept (a protocol per connection)."""

    accepted = 0

    async def create_server(self, protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
        def counted() -> Any:
            self.accepted += 1
            return protocol_factory()

        return await super().create_server(counted, *args, **kwargs)


def serve_lab(yaml_path: Path) -> int:
    """The lab child: print ``lab-ready FILE`` (endpoint map and CA file in FILE), answer SIGUSR1 with
    ``connections N``, stop on SIGINT."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, CountingLoop)
        async with Lab.from_yaml(yaml_path.read_text(encoding="utf-8")) as lab:
            info = yaml_path.with_suffix(".json")
            info.write_text(json.dumps({"endpoints": lab.mail.endpoints, "ca_file": lab.ca_file}))
            loop.add_signal_handler(signal.SIGUSR1, lambda: print(f"connections {loop.accepted}", flush=True))
            print(f"lab-ready {info}", flush=True)
            await asyncio.Event().wait()

    try:
        with asyncio.Runner(loop_factory=CountingLoop) as runner:
            runner.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


def lab_connections(lab: Server) -> int:
    lab.check_alive()
    os.kill(lab.process.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    try:
        while (line := lab.lines.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
            if line.startswith("connections "):
                return int(line.split()[1])
    except queue.Empty:
        pass
    raise BenchError("the lab did not say how many connections it accepted")


# --- the two tools ------------------------------------------------------------------------------------


async def probe_all(client: ProbeClient, endpoints: Sequence[Endpoint], sessions: bool) -> list[TlsScan]:
    """Every endpoint at once; with ``sessions``, first the SMTP session ``mta_plan`` asks for, and the
    scan after its handshake succeeded."""
    target = Target(DOMAIN)

    async def one(e: Endpoint) -> TlsScan:
        if sessions:
            session = await client.probe(smtp_request(target, e.host, e.address))
            assert isinstance(session, ServiceSession)
            if session.tls is None or session.tls.status is not Status.PRESENT:
                raise BenchError(f"mimawari's SMTP session with {e.host} made no handshake: {session.detail}")
        scan = await client.probe(TlsScanRequest(e.host, e.address, 25, StartTls.SMTP))
        assert isinstance(scan, TlsScan)
        if scan.status is not Status.PRESENT:
            raise BenchError(f"mimawari could not scan {e.host}: {scan.status.value} {scan.detail}")
        return scan

    return list(await asyncio.gather(*(one(e) for e in endpoints)))


def run_mimawari(
    lab: Server, info: dict[str, Any], endpoints: Sequence[Endpoint], timeout: float, sessions: bool
) -> tuple[Run, list[TlsScan]]:
    """In this process, with the client a scan gets for a lab (``LabConnection.network``)."""
    client = ProbeClient(
        scope=LabScope(),
        ca_file=info["ca_file"],
        endpoint_map=info["endpoints"],
        closed_unmapped=True,  # a port the lab does not serve is closed: nothing leaves loopback
        timeout=timeout,
    )
    connections, lab_cpu = lab_connections(lab), lab.cpu_seconds()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    scans = asyncio.run(probe_all(client, endpoints, sessions))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    lab_cpu = lab.cpu_seconds() - lab_cpu
    connections = lab_connections(lab) - connections
    tool = "mimawari session+scan" if sessions else "mimawari"
    return Run(tool, len(endpoints), wall, cpu, after.ru_maxrss, lab_cpu, connections), scans


def ensure_sslyze() -> Path:
    """The peer venv's Python, creating the venv and installing sslyze from PyPI if needed."""
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-m", "sslyze", "--help"]
    if python.exists() and subprocess.run(check, check=False, capture_output=True).returncode == 0:
        return python
    print(f"installing {PEER_SPEC} into {PEER_VENV.relative_to(ROOT)} …", file=sys.stderr)
    by_hand = f"python3 -m venv {PEER_VENV} && {PEER_VENV}/bin/pip install {PEER_SPEC}"
    for step in (
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER_SPEC],
    ):
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            problem = lines[-1] if lines else f"exit {done.returncode}"
            raise BenchError(f"cannot install {PEER_SPEC} ({problem}); install it by hand: {by_hand}")
    return python


def run_sslyze(
    python: Path, lab: Server, info: dict[str, Any], endpoints: Sequence[Endpoint], work: Path, index: int
) -> tuple[Run, Path]:
    """All endpoints in one invocation, which is how sslyze works on several servers at once."""
    ports = {
        key.rsplit(":", 1)[0].strip("[]"): local.rsplit(":", 1)[1] for key, local in info["endpoints"].items()
    }
    # HOST:PORT{IP}: the lab host for SNI and EHLO, the lab's loopback port, and no name resolution.
    targets = [f"{e.host}:{ports[e.address]}{{127.0.0.1}}" for e in endpoints]
    output, stderr = work / f"sslyze-{index}.json", work / f"sslyze-{index}.err"
    argv = [str(python), "-m", "sslyze", "--starttls", "smtp", *SSLYZE_COMMANDS, "--quiet"]
    connections = lab_connections(lab)
    measured = measure([*argv, "--json_out", str(output), *targets], output.with_suffix(".out"), stderr, lab)
    if measured.exit_code != 0 or not output.is_file():
        raise BenchError(f"sslyze failed (exit {measured.exit_code}); see {stderr} (kept with --keep DIR)")
    connections = lab_connections(lab) - connections
    wall, cpu, rss, lab_cpu = measured.wall, measured.cpu, measured.peak_rss_kb, measured.lab_cpu
    return Run("sslyze", len(endpoints), wall, cpu, rss, lab_cpu, connections), output


def startup(argv: Sequence[str], lab: Server, work: Path) -> float:
    """Wall time of a process that only starts: the interpreter and the tool's imports."""
    measured = measure(argv, work / "startup.out", work / "startup.err", lab)
    if measured.exit_code != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {measured.exit_code})")
    return measured.wall


# --- do both tools see the same servers? --------------------------------------------------------------


# --- the report ---------------------------------------------------------------------------------------


def summary(
    endpoints: Sequence[Endpoint],
    runs: dict[str, list[Run]],
    starts: dict[str, float],
    agreement: dict[str, Any] | None,
    repeat: int,
) -> dict[str, Any]:
    # The run of median wall time (the upper one of an even number) stands for each tool.
    medians = {tool: sorted(r, key=lambda run: run.wall)[len(r) // 2] for tool, r in runs.items()}
    document: dict[str, Any] = {
        "endpoints": len(endpoints),
        "profiles": {name: sum(e.profile == name for e in endpoints) for name in PROFILES},
        "repeat": repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "sslyze": {"spec": PEER_SPEC, "argv": ["--starttls", "smtp", *SSLYZE_COMMANDS]},
        "startup_s": starts,
        "runs": {tool: [asdict(r) for r in tool_runs] for tool, tool_runs in runs.items()},
        "median": {tool: {**asdict(r), "rate": r.rate} for tool, r in medians.items()},
    }
    if "sslyze" in medians:
        ours, theirs = medians["mimawari"], medians["sslyze"]
        document["ratio"] = {
            "work": max(1e-6, theirs.wall - starts["sslyze"]) / ours.wall,
            "whole_process": theirs.wall / (ours.wall + starts["mimawari"]),
        }
    if agreement is not None:
        document["agreement"] = agreement
    return document


def report(document: dict[str, Any]) -> list[str]:
    profiles = ", ".join(f"{name} ×{n}" for name, n in document["profiles"].items() if n)
    lines = [
        f"mimawari TLS probe benchmark: {document['endpoints']} lab SMTP endpoints (STARTTLS), the lab in its"
        f" own process, {document['machine']['cpus']} CPUs, median of {document['repeat']} run(s)",
        f"TLS profiles: {profiles}",
        "mimawari: ProbeClient.probe(TlsScanRequest), its defaults (2 connections per address, 32 at once)",
        *textwrap.wrap(MIMAWARI_DOES, 108, initial_indent="  ", subsequent_indent="  "),
    ]
    if "ratio" in document:
        argv = " ".join(document["sslyze"]["argv"])
        lines.append(f"{PEER_SPEC} {argv}, its defaults (5 connections per server, 10 servers at once)")
        lines += textwrap.wrap(SSLYZE_DOES, 108, initial_indent="  ", subsequent_indent="  ")
    lines += [
        "",
        f"{'tool':<22} {'endpoints':>9} {'wall s':>7} {'endpoints/s':>11} {'CPU s':>6} {'RSS MB':>7}"
        f" {'lab CPU':>8} {'connections':>11} {'per endpoint':>12}",
    ]
    for run in document["median"].values():
        wall, connections = run["wall"], run["connections"]
        lines.append(
            f"{run['tool']:<22} {run['endpoints']:>9} {wall:>7.2f} {run['rate']:>11.1f} {run['cpu']:>6.2f}"
            f" {run['peak_rss_kb'] / 1024:>7.1f} {run['lab_cpu'] / wall:>8.0%} {connections:>11}"
            f" {connections / run['endpoints']:>12.1f}"
        )
    if "ratio" in document:
        starts, ratio = document["startup_s"], document["ratio"]
        lines += [
            "",
            f"start-up: sslyze {starts['sslyze']:.2f} s (python -m sslyze --help, in its wall time above),"
            f" mimawari {starts['mimawari']:.2f} s (python -c 'import mimawari.observe.probe', not in it)",
            f"ratio mimawari ÷ sslyze (endpoints/s): {ratio['work']:.1f}× on the probing work (sslyze's"
            f" start-up taken out), {ratio['whole_process']:.1f}× as whole processes (start-up in, for both)",
        ]
    if "agreement" in document:
        lines += ["", *agreement_lines(document["agreement"])]
    return lines


# --- main ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark mimawari's TLS probing against sslyze on lab servers."
    )
    parser.add_argument("--endpoints", type=int, default=20, help="lab SMTP endpoints (default 20)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per tool; the median is shown (default 3)"
    )
    parser.add_argument(
        "--sslyze", action=argparse.BooleanOptionalAction, default=True, help="run sslyze too"
    )
    parser.add_argument("--sessions", action="store_true", help="also time the SMTP session + scan of a scan")
    parser.add_argument("--timeout", type=float, default=10.0, help="mimawari's probe timeout (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.add_argument("--keep", type=Path, help="keep the lab YAML and sslyze's outputs in this folder")
    parser.add_argument("--serve-lab", type=Path, help=argparse.SUPPRESS)  # the lab child
    args = parser.parse_args(argv)
    if args.serve_lab is not None:
        return serve_lab(args.serve_lab)
    if args.endpoints < 1 or args.repeat < 1:
        parser.error("--endpoints and --repeat must be at least 1")
    try:
        document = _bench(args)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(document, indent=2) if args.json else "\n".join(report(document)))
    mismatches = document.get("agreement", {}).get("mismatches", [])
    return 0 if all(m["explained"] for m in mismatches) else 1


def _bench(args: argparse.Namespace) -> dict[str, Any]:
    work = args.keep or Path(tempfile.mkdtemp(prefix="mimawari-bench-tls-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        python = ensure_sslyze() if args.sslyze else None
        endpoints = lab_endpoints(args.endpoints)
        (work / "lab.yaml").write_text(lab_yaml(endpoints), encoding="utf-8")
        print(f"bench: starting a lab of {len(endpoints)} SMTP servers …", file=sys.stderr)
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve-lab", str(work / "lab.yaml")]
        lab = Server("lab", argv, "lab-ready ", work / "lab.err")
        runs: dict[str, list[Run]] = {}
        scans: list[TlsScan] = []
        starts: dict[str, list[float]] = {"sslyze": [], "mimawari": []}
        outputs: list[Path] = []
        try:
            info = json.loads(Path(lab.address).read_text())
            for index in range(args.repeat):
                print(f"bench: run {index + 1} of {args.repeat} …", file=sys.stderr)
                run, scans = run_mimawari(lab, info, endpoints, args.timeout, sessions=False)
                runs.setdefault(run.tool, []).append(run)
                if args.sessions:
                    run, _ = run_mimawari(lab, info, endpoints, args.timeout, sessions=True)
                    runs.setdefault(run.tool, []).append(run)
                if python is not None:
                    run, output = run_sslyze(python, lab, info, endpoints, work, index)
                    runs.setdefault(run.tool, []).append(run)
                    outputs.append(output)
                    starts["sslyze"].append(startup([str(python), "-m", "sslyze", "--help"], lab, work))
                    starts["mimawari"].append(
                        startup([sys.executable, "-c", "import mimawari.observe.probe"], lab, work)
                    )
        finally:
            lab.stop()
        agreed = agreement(endpoints, scans, outputs) if outputs else None
        start = {tool: sorted(s)[len(s) // 2] for tool, s in starts.items() if s}
        return summary(endpoints, runs, start, agreed, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
