"""The ``mimawari`` command. Each command is a small function over the library API.

Exit codes: 0 done; 1 a score under --fail-under; 2 bad input (domain, nameserver, zone file, flag);
3 the set-up cannot work (nameserver unreachable, lab cannot listen); 130 interrupted. Errors are one
line on stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from mimawari import __version__
from mimawari.cli_console import err, out, user_errors
from mimawari.cli_deliverability import deliverability_app
from mimawari.cli_diff import diff
from mimawari.cli_dmarc import dmarc_app
from mimawari.cli_gateway import gateway_app
from mimawari.cli_gateway_milter import register as register_gateway_service
from mimawari.cli_message import (
    EnvelopeFromOption,
    MessageOption,
    SendingIpOption,
    message_app,
    samples_for_scan,
)
from mimawari.cli_monitor import alerts, monitor, portfolio_command
from mimawari.cli_options import (
    AllOption,
    AllowPrivateOption,
    AttemptsOption,
    CaFileOption,
    CategoryOption,
    FailUnderOption,
    FormatOption,
    IntrusiveOption,
    LabOption,
    LangOption,
    Language,
    NameserverOption,
    OutputFormat,
    OutputOption,
    PortMapOption,
    ProbeRecipientOption,
    ProbeTimeoutOption,
    SelectorOption,
    TimeoutOption,
    TrustAnchorOption,
    checks_of,
    dns_client,
    lang_of,
    network_from,
)
from mimawari.cli_org import DatabaseOption, history, opened, org_app
from mimawari.cli_output import Emitted, check_fail_under, destination, emit, render_document
from mimawari.cli_requirements import requirements
from mimawari.cli_whatif import whatif
from mimawari.config import CONFIG_ENV
from mimawari.dmarc.feed import enriched
from mimawari.errors import InputError
from mimawari.lab import demo_lab, demo_targets, load_lab_files
from mimawari.lab.demo_senders import with_demo_senders
from mimawari.model import Target
from mimawari.observations.spf_eval import SpfEvaluation, parse_client_ip, parse_sender, spf_plan
from mimawari.observe import Network, run_plan
from mimawari.options import read_trust_anchors
from mimawari.scan import iter_scans
from mimawari.serial import to_json
from mimawari.store.recording import stored

app = typer.Typer(
    help="mimawari (見回り): outside-in security posture ratings you can explain.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
lab_app = typer.Typer(help="The lab: simulated organisations on loopback.", no_args_is_help=True)
app.add_typer(lab_app, name="lab")
app.add_typer(org_app, name="org")
app.add_typer(dmarc_app, name="dmarc")
app.add_typer(gateway_app, name="gateway")
register_gateway_service(gateway_app)  # milter, quarantine, policy
app.add_typer(message_app, name="message")
app.add_typer(deliverability_app, name="deliverability")
app.command()(whatif)
app.command()(history)
app.command()(monitor)
app.command()(alerts)
app.command("portfolio")(portfolio_command)
app.command()(diff)
app.command()(requirements)


def _version(value: bool) -> None:
    if value:
        out.print(f"mimawari {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Configuration file (database, schedules, alerts). Default: $MIMAWARI_CONFIG, "
            "else ~/.config/mimawari/config.yaml when it exists.",
        ),
    ] = None,
) -> None:
    """mimawari (見回り): outside-in security posture ratings you can explain."""
    if config is not None:
        # Every command reads the configuration through load_config(); the option is that for this run.
        os.environ[CONFIG_ENV] = str(config)


def intrusive_recipients(domains: list[str], intrusive: bool, recipient: str | None) -> dict[str, str]:
    """``--intrusive`` needs a recipient the user names, in a domain being scanned (never a relay test)."""
    if recipient is None:
        if intrusive:
            raise InputError("--intrusive sends test messages: name their recipient with --probe-recipient")
        return {}
    if not intrusive:
        raise InputError("--probe-recipient is only used with --intrusive")
    local, _, domain = recipient.rpartition("@")
    domain = domain.rstrip(".").lower()
    if not local or domain not in {d.rstrip(".").lower() for d in domains}:
        raise InputError(f"--probe-recipient {recipient} is not an address in a scanned domain")
    return {d: recipient for d in domains if d.rstrip(".").lower() == domain}


@app.command()
def scan(
    domains: Annotated[
        list[str] | None,
        typer.Argument(help="Domains to scan (with --org: the organisation's).", show_default=False),
    ] = None,
    nameserver: NameserverOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    lang: LangOption = Language.EN,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    dkim_selector: SelectorOption = None,
    trust_anchor: TrustAnchorOption = None,
    ca_file: CaFileOption = None,
    port_map: PortMapOption = None,
    allow_private: AllowPrivateOption = False,
    lab: LabOption = None,
    show_all: AllOption = False,
    probe_timeout: ProbeTimeoutOption = 10.0,
    intrusive: IntrusiveOption = False,
    probe_recipient: ProbeRecipientOption = None,
    category: CategoryOption = None,
    output: OutputOption = None,
    fail_under: FailUnderOption = None,
    org: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Scan this organisation's domains and store the result (history)."),
    ] = None,
    database: DatabaseOption = None,
    message: MessageOption = None,
    sending_ip: SendingIpOption = None,
    envelope_from: EnvelopeFromOption = None,
) -> None:
    """Scan domains and print their findings."""
    with user_errors():
        store = opened(database) if org is not None else None
        if store is not None and org is not None and not domains:
            domains = list(store.get_organisation(org).domains)
        if not domains:
            raise InputError("name the domains to scan, or an organisation with --org")
        anchors = read_trust_anchors(trust_anchor) if trust_anchor else ()
        recipients = intrusive_recipients(domains, intrusive, probe_recipient)
        samples = samples_for_scan(domains, message, sending_ip, envelope_from)
        network, lab_anchors = network_from(
            nameserver, timeout, attempts, ca_file, port_map, allow_private, lab, probe_timeout
        )
        anchors = anchors or lab_anchors
        targets = [
            Target(
                d,
                tuple(dkim_selector or ()),
                anchors,
                smuggling_recipient=recipients.get(d, ""),
                sample_message=samples.get(d),
            )
            for d in domains
        ]
        if store is not None:  # what the organisation's stored DMARC and TLS reports tell the scan
            now = datetime.now(UTC)
            targets = [enriched(t, store, now) for t in targets]
        reports = iter_scans(targets, network, checks_of(category))
        if store is not None:
            reports = stored(reports, store, org)
        try:
            emitted = asyncio.run(
                emit(
                    reports,
                    len(set(domains)),
                    output_format,
                    lang_of(lang),
                    show_passing=show_all,
                    output=output,
                )
            )
        finally:
            if store is not None:
                store.close()
    check_fail_under(emitted.scores, fail_under)


@app.command()
def demo(
    output_format: FormatOption = OutputFormat.TEXT,
    lang: LangOption = Language.EN,
    show_all: AllOption = False,
    output: OutputOption = None,
    html: Annotated[
        str | None,
        typer.Option(help="Where to write the HTML report. Default: a file in the temp directory."),
    ] = None,
) -> None:
    """Start the lab with the demo organisation, scan it, print the result and write the HTML report."""

    async def run() -> Emitted:
        async with demo_lab() as lab:
            if output_format is OutputFormat.TEXT and output is None:
                out.print(f"demo: Kuroneko Trading (黒猫商事), lab DNS on {lab.nameserver}", style="dim")
            anchors = lab.connection().trust_anchors
            today = datetime.now(UTC).date()
            targets = [with_demo_senders(Target(d, trust_anchors=anchors), today) for d in demo_targets()]
            reports = iter_scans(targets, lab.network(timeout=1.0, attempts=1))
            return await emit(
                reports,
                len(targets),
                output_format,
                lang_of(lang),
                show_passing=show_all,
                output=output,
                keep=True,
            )

    with user_errors():
        emitted = asyncio.run(run())
        path = html or str(Path(tempfile.gettempdir()) / "mimawari-demo-report.html")
        with destination(path) as handle:
            handle.write(render_document(emitted.reports, OutputFormat.HTML, lang_of(lang)))
        console = out if output_format is OutputFormat.TEXT and output is None else err
        console.print(f"HTML report: {path}", markup=False, soft_wrap=True)


@lab_app.command("up")
def lab_up(
    zone: Annotated[
        list[str] | None, typer.Option(help="Zone file or lab YAML to serve; repeatable. Default: the demo.")
    ] = None,
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port for UDP and TCP; 0 picks a free one.", min=0, max=65535)
    ] = 0,
) -> None:
    """Serve lab zones (DNS), sites (HTTPS) and mail servers (SMTP, IMAP, POP3) until interrupted."""

    async def run() -> None:
        lab = load_lab_files(zone, host=host, dns_port=port) if zone else demo_lab(host=host, dns_port=port)
        async with lab:
            connection_file = Path(tempfile.gettempdir()) / f"mimawari-lab-{lab.nameserver.port}.json"
            connection_file.write_text(to_json(lab.connection(), indent=2), encoding="utf-8")
            try:
                out.print(f"nameserver {lab.nameserver}")
                out.print(f"https 127.0.0.1:{lab.https_port} (CA: {lab.ca_file})", style="dim")
                out.print(f"zones: {', '.join(lab.zones.origins)}", style="dim")
                example = next(
                    (o for o in lab.zones.origins if "." in o and not o.endswith(".arpa")), "DOMAIN"
                )
                out.print(f"try: mimawari scan {example} --lab {connection_file}", style="dim")
                await lab.dns.serve_forever()
            finally:
                connection_file.unlink(missing_ok=True)

    try:
        with user_errors():
            asyncio.run(run())
    except typer.Exit as stop:
        if stop.exit_code != 130:
            raise
        err.print("lab stopped")


spf_app = typer.Typer(help="SPF (RFC 7208): evaluate a sender the way a receiver does.", no_args_is_help=True)
app.add_typer(spf_app, name="spf")


@spf_app.command("check")
def spf_check(
    ip: Annotated[str, typer.Option("--ip", help="The SMTP client's IP address.", show_default=False)],
    sender: Annotated[
        str,
        typer.Option(
            "--sender", help="MAIL FROM address; '' (a bounce) checks the HELO name.", show_default=False
        ),
    ],
    helo: Annotated[
        str, typer.Option("--helo", help="The HELO/EHLO name the client gave.", show_default=False)
    ],
    nameserver: NameserverOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"result": ..., "explanation": ...}.')
    ] = False,
) -> None:
    """Evaluate SPF (check_host()) for a client IP, sender and HELO name. Exit code 0 whatever the result."""

    async def run() -> SpfEvaluation:
        dns = dns_client(nameserver)
        await dns.ensure_reachable()
        plan = spf_plan(
            str(parse_client_ip(ip)), parse_sender(sender), helo.strip(), timestamp=int(time.time())
        )
        return await run_plan(plan, Network(dns))

    with user_errors():
        parse_client_ip(ip)
        parse_sender(sender)
        evaluation = asyncio.run(run())
        if as_json:
            out.out(json.dumps({"result": evaluation.result.value, "explanation": evaluation.summary()}))
        else:
            out.print(f"{evaluation.result.value}: {evaluation.summary()}", markup=False)


def main() -> None:
    app(prog_name="mimawari")
