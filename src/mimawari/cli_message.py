"""``mimawari message check FILE``: a sample message analysed as receivers do, and the ``--message``
options of ``mimawari scan``.

The command is a scan of the From domain with only the message checks: the same observation, plan and
report as ``scan DOMAIN --message FILE`` gives, against live DNS or the ``--nameserver`` named (a lab).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mimawari.check import Check
from mimawari.checks.email import other
from mimawari.cli_console import user_errors
from mimawari.cli_options import (
    AttemptsOption,
    LangOption,
    Language,
    NameserverOption,
    OutputFormat,
    TimeoutOption,
    dns_client,
    lang_of,
)
from mimawari.cli_output import emit
from mimawari.errors import InputError
from mimawari.model import SampleMessage, Target
from mimawari.observations.message import MESSAGE
from mimawari.observations.sender_posture import SENDER_POSTURE
from mimawari.observations.spf_eval import parse_client_ip, parse_sender
from mimawari.observe import Network
from mimawari.parse.message import MAX_MESSAGE_BYTES, parse_message
from mimawari.parse.names import organizational_domain
from mimawari.scan import DomainReport, scan_target

MESSAGE_CHECKS: dict[str, Check[Any]] = {
    check.id: check for check in other.CHECKS if check.observer in (MESSAGE, SENDER_POSTURE)
}
"""The checks that read the sample message, and the sender-requirement matrix, which reads it with the From
domain's SPF, DKIM and DMARC (the Other category also holds the spam-rate check)."""


class MessageFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


MessageOption = Annotated[
    str | None,
    typer.Option(
        "--message",
        metavar="FILE",
        help="A message the domain sent, as received (.eml with headers): DKIM, SPF, DMARC alignment, "
        "unsubscribe, format, TLS.",
    ),
]
SendingIpOption = Annotated[
    str | None,
    typer.Option(
        "--sending-ip",
        metavar="IP",
        help="With --message: the address it was sent from. Default: guessed from its Received fields.",
    ),
]
EnvelopeFromOption = Annotated[
    str | None,
    typer.Option(
        "--envelope-from",
        metavar="ADDRESS",
        help="With --message: the SMTP MAIL FROM. Default: its Return-Path field.",
    ),
]
HeloOption = Annotated[
    str | None,
    typer.Option("--helo", metavar="NAME", help="The HELO/EHLO name. Default: guessed from Received."),
]

message_app = typer.Typer(
    help="A sample message, analysed as receivers do: DKIM, SPF, DMARC, unsubscribe, format, TLS.",
    no_args_is_help=True,
)


def read_sample(
    path: str, sending_ip: str | None = None, envelope_from: str | None = None, helo: str | None = None
) -> SampleMessage:
    """The file as a sample message, its given SMTP facts checked; ``InputError`` in one line otherwise."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_MESSAGE_BYTES:
            raise InputError(
                f"{path}: {size:,} bytes is larger than a message can be here ({MAX_MESSAGE_BYTES:,})"
            )
        raw = file.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the message {path}: {error.strerror or error}") from None
    if not raw.strip():
        raise InputError(f"{path} is empty: expected a message with its headers (.eml)")
    given = {
        "sending_ip": str(parse_client_ip(sending_ip)) if sending_ip else "",
        "envelope_from": parse_sender(envelope_from.strip("<>")) if envelope_from is not None else "",
        "helo": (helo or "").strip(),
    }
    return SampleMessage.of(file.name, raw, **given)


def samples_for_scan(
    domains: list[str], message: str | None, sending_ip: str | None, envelope_from: str | None
) -> dict[str, SampleMessage]:
    """``scan``'s ``--message`` options: the sample message for each domain it belongs to.

    With one domain, the message is that domain's; with several, it goes to those in the organisational
    domain of its From domain, so no domain is graded on another's mail.
    """
    if message is None:
        if sending_ip is not None or envelope_from is not None:
            raise InputError("--sending-ip and --envelope-from describe a sample message: add --message FILE")
        return {}
    sample = read_sample(message, sending_ip, envelope_from)
    if len(set(domains)) == 1:
        return {domains[0]: sample}
    from_domain = parse_message(sample.raw()).from_domain
    owners = [
        d for d in domains if from_domain and organizational_domain(d) == organizational_domain(from_domain)
    ]
    if not owners:
        raise InputError(
            f"{message}: its From domain ({from_domain or 'none'}) is not in any domain scanned; "
            "scan its domain alone with --message"
        )
    return dict.fromkeys(owners, sample)


@message_app.command("check")
def message_check(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="The message, as received (.eml).", show_default=False)
    ],
    sending_ip: SendingIpOption = None,
    envelope_from: EnvelopeFromOption = None,
    helo: HeloOption = None,
    nameserver: NameserverOption = None,
    output_format: Annotated[MessageFormat, typer.Option("--format", "-f", help="Output format.")] = (
        MessageFormat.TEXT
    ),
    lang: LangOption = Language.EN,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
) -> None:
    """Verify a message's DKIM signatures, SPF, DMARC alignment, unsubscribe fields, format and TLS hop.
    The domain is the From domain."""
    with user_errors():
        sample = read_sample(file, sending_ip, envelope_from, helo)
        domain = parse_message(sample.raw()).from_domain
        if not domain:
            raise InputError(
                f"{file} has no From field with exactly one address and a domain: "
                "name the domain with mimawari scan DOMAIN --message FILE"
            )
        target = Target(domain, sample_message=sample)

        async def reports() -> AsyncIterator[DomainReport]:
            dns = dns_client(nameserver, timeout, attempts)
            await dns.ensure_reachable()
            yield await scan_target(target, Network(dns), MESSAGE_CHECKS)

        formats = {MessageFormat.TEXT: OutputFormat.TEXT, MessageFormat.JSON: OutputFormat.JSON}
        asyncio.run(emit(reports(), 1, formats[output_format], lang_of(lang), show_passing=True))
