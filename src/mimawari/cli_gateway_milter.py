"""``mimawari gateway milter``, ``gateway quarantine …`` and ``gateway policy check``: the gateway in service.

``milter`` runs until SIGTERM (exit 0) or Ctrl-C (exit 130) and logs one line per event on stderr (every
decision also goes to the audit log). The quarantine commands find the directory with ``--quarantine
DIR`` or in the policy file (``--policy FILE``); ``release`` hands a message to ``--relay`` or the
policy's ``quarantine.relay``. Exit codes: 0 done, 1 a message could not be released, 2 bad input (a
policy file, an id), 3 the quarantine or the relay cannot be used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from mimawari.cli_console import ListFormat, ListFormatOption, err, out, until_terminated, user_errors
from mimawari.errors import InputError, OperationalError
from mimawari.gateway.audit import AuditLog
from mimawari.gateway.enforce import Gateway
from mimawari.gateway.milter import MilterServer
from mimawari.gateway.policy import expired_exemptions
from mimawari.gateway.policy_config import PolicyFile, load_policy, split_host_port
from mimawari.gateway.quarantine import Entry, Quarantine, QuarantineError

quarantine_app = typer.Typer(
    help="Messages the gateway kept: list, show, release, delete.", no_args_is_help=True
)
policy_app = typer.Typer(help="The gateway's policy file.", no_args_is_help=True)

PolicyOption = Annotated[
    Path | None, typer.Option("--policy", metavar="FILE", help="The policy file (its quarantine settings).")
]
QuarantineOption = Annotated[
    Path | None, typer.Option("--quarantine", metavar="DIR", help="The quarantine directory.")
]


def register(gateway_app: typer.Typer) -> None:
    """Add these commands to ``mimawari gateway``."""
    gateway_app.command("milter")(milter)
    gateway_app.add_typer(quarantine_app, name="quarantine")
    gateway_app.add_typer(policy_app, name="policy")


def _address(value: str, option: str, *, any_port: bool = False) -> tuple[str, int]:
    try:
        return split_host_port(value, any_port=any_port)
    except ValueError as error:
        raise InputError(f"{option} {error}") from None


def milter(
    listen: Annotated[
        str, typer.Option("--listen", metavar="HOST:PORT", help="Where to listen (127.0.0.1:8899).")
    ],
    policy_file: Annotated[Path, typer.Option("--policy", metavar="FILE", help="The policy file.")],
    audit_log: Annotated[
        Path | None,
        typer.Option("--audit-log", metavar="FILE", help="The audit log (overrides the policy's)."),
    ] = None,
    quarantine: QuarantineOption = None,
) -> None:
    """Run the milter for Postfix or Sendmail (smtpd_milters = inet:HOST:PORT) until stopped."""
    with user_errors():
        host, port = _address(listen, "--listen", any_port=True)
        policy = load_policy(policy_file)
        updates: dict[str, object] = {}
        if audit_log is not None:
            updates["audit_log"] = str(audit_log)
        if quarantine is not None:
            updates["quarantine"] = policy.quarantine.model_copy(update={"directory": str(quarantine)})
        policy = policy.model_copy(update=updates)
        for exemption in expired_exemptions(policy):
            err.print(f"mimawari: warning: expired exception ignored: {exemption.describe()}", markup=False)
        if policy.audit_log is None:
            err.print(
                "mimawari: warning: no audit log (audit_log in the policy, or --audit-log)", markup=False
            )
        _log_to_stderr()
        gateway = Gateway(policy, audit=AuditLog(policy.audit_log))
        asyncio.run(_serve(MilterServer(gateway), host, port, policy_file))


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("mimawari.gateway")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


async def _serve(server: MilterServer, host: str, port: int, policy_file: Path) -> None:
    try:
        bound = await server.start(host, port)
    except OSError as error:
        raise OperationalError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    out.print(
        f"milter listening on {bound[0]}:{bound[1]} (policy {policy_file}); Ctrl-C to stop", markup=False
    )
    try:
        await until_terminated(asyncio.Event().wait())
    finally:
        await server.close()
    out.print(f"stopped after {server.completed} messages", markup=False)


def _store(policy_file: Path | None, directory: Path | None) -> tuple[Quarantine, PolicyFile | None]:
    policy = load_policy(policy_file) if policy_file is not None else None
    if directory is None and policy is not None and policy.quarantine.directory:
        directory = Path(policy.quarantine.directory)
    if directory is None:
        raise InputError("name the quarantine: --quarantine DIR, or --policy FILE with quarantine.directory")
    return Quarantine(directory), policy


def _summary(entry: Entry) -> str:
    data = entry.metadata
    parts = ", ".join(f"{p.get('part')} {p.get('kind')}" for p in data.get("parts", ()))
    return (
        f"{entry.id}  {data.get('time', '')}  from <{entry.sender}> to {', '.join(entry.recipients)}  "
        f"{data.get('verdict', '')}  {entry.size} bytes  {parts}"
    )


@quarantine_app.command("list")
def quarantine_list(
    policy_file: PolicyOption = None,
    quarantine: QuarantineOption = None,
    output_format: ListFormatOption = ListFormat.TEXT,
) -> None:
    """The messages kept, oldest first (JSON: one object per line)."""
    with user_errors():
        store, _ = _store(policy_file, quarantine)
        entries = list(store.entries())
        if not entries and output_format is ListFormat.TEXT:
            err.print(f"the quarantine {store.directory} holds no messages", markup=False, soft_wrap=True)
        for entry in entries:
            if output_format is ListFormat.JSON:
                out.print(
                    json.dumps({**entry.metadata, "size": entry.size}, ensure_ascii=False),
                    markup=False,
                    soft_wrap=True,
                )
            else:
                out.print(_summary(entry), markup=False, soft_wrap=True)


@quarantine_app.command("show")
def quarantine_show(
    entry_id: Annotated[str, typer.Argument(metavar="ID")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the message as it arrived, nothing else.")
    ] = False,
    policy_file: PolicyOption = None,
    quarantine: QuarantineOption = None,
) -> None:
    """A kept message's metadata and headers (``--raw``: the whole message)."""
    with user_errors():
        store, _ = _store(policy_file, quarantine)
        entry, message = store.show(entry_id)
        if raw:
            sys.stdout.buffer.write(message)
            sys.stdout.buffer.flush()
            return
        out.print(json.dumps(entry.metadata, ensure_ascii=False, indent=2), markup=False, soft_wrap=True)
        head = message.partition(b"\r\n\r\n")[0] if b"\r\n\r\n" in message else message.partition(b"\n\n")[0]
        out.print(head.decode("utf-8", "replace"), markup=False, soft_wrap=True)


@quarantine_app.command("release")
def quarantine_release(
    entry_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    relay: Annotated[
        str | None,
        typer.Option("--relay", metavar="HOST:PORT", help="The MTA listener to hand it to (no milter)."),
    ] = None,
    policy_file: PolicyOption = None,
    quarantine: QuarantineOption = None,
) -> None:
    """Deliver kept messages: SMTP to the relay with the original envelope, then remove them."""
    failed = False
    with user_errors():
        store, policy = _store(policy_file, quarantine)
        configured = relay or (policy.quarantine.relay if policy is not None else None)
        if configured is None:
            raise InputError("name the relay: --relay HOST:PORT, or --policy FILE with quarantine.relay")
        address = _address(configured, "--relay")
        for entry_id in entry_ids:
            try:
                entry = store.release(entry_id, address)
            except (QuarantineError, InputError) as error:
                err.print(f"mimawari: error: {error}", markup=False, soft_wrap=True)
                failed = True
                continue
            out.print(f"released {entry.id} to {', '.join(entry.recipients)} via {configured}", markup=False)
    if failed:
        raise typer.Exit(1)


@quarantine_app.command("delete")
def quarantine_delete(
    entry_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    policy_file: PolicyOption = None,
    quarantine: QuarantineOption = None,
) -> None:
    """Remove kept messages for good."""
    with user_errors():
        store, _ = _store(policy_file, quarantine)
        for entry_id in entry_ids:
            store.delete(entry_id)
            out.print(f"deleted {entry_id}", markup=False)


@policy_app.command("check")
def policy_check(policy_file: Annotated[Path, typer.Argument(metavar="FILE")]) -> None:
    """Read a policy file and say what it does; warn about expired exceptions."""
    with user_errors():
        policy = load_policy(policy_file)
        today = date.today()
        actions = policy.actions
        out.print(
            f"{policy_file}: encrypted → {actions.encrypted}, undecidable → {actions.undecidable}, "
            f"error → {actions.error}",
            markup=False,
            soft_wrap=True,
        )
        expired = expired_exemptions(policy, today)
        active = [e for e in policy.exceptions if e not in expired]
        for exemption in active:
            out.print(
                f"exception: {exemption.describe()} → {exemption.action}: {exemption.reason}",
                markup=False,
                soft_wrap=True,
            )
        for exemption in expired:
            err.print(
                f"mimawari: warning: expired exception (ignored): {exemption.describe()}",
                markup=False,
                soft_wrap=True,
            )
        out.print(
            f"audit log: {policy.audit_log or 'none'}; quarantine: {policy.quarantine.directory or 'none'}",
            markup=False,
            soft_wrap=True,
        )
