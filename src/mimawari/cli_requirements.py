"""``mimawari requirements DOMAIN``: will Gmail, Yahoo and Outlook.com accept the domain's mail — on one
screen, one row per requirement, one column per provider and sender tier.

It scans only what the matrix reads (SPF, DKIM, DMARC, the sample message given with ``--message``) and
takes the spam-complaint figures stored for the domain (``mimawari deliverability import``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime

import typer

from mimawari.checks.email.other import sender_requirements
from mimawari.checks.email.other.matrix_judge import judge
from mimawari.cli_console import ListFormat, ListFormatOption, out, user_errors
from mimawari.cli_message import EnvelopeFromOption, HeloOption, MessageOption, SendingIpOption, read_sample
from mimawari.cli_options import (
    AttemptsOption,
    LabOption,
    LangOption,
    Language,
    NameserverOption,
    SelectorOption,
    TimeoutOption,
    lang_of,
    network_from,
)
from mimawari.cli_org import DatabaseOption, opened
from mimawari.cli_requirements_view import matrix_json, render_matrix
from mimawari.dmarc.feed import enriched
from mimawari.errors import InputError
from mimawari.model import Target
from mimawari.observations.sender_posture import SENDER_POSTURE, SenderPosture
from mimawari.scan import as_target, scan_target

CHECKS = {sender_requirements.CHECK.id: sender_requirements.CHECK}


def requirements(
    domain: str = typer.Argument(..., metavar="DOMAIN", help="The sending domain (the From domain)."),
    message: MessageOption = None,
    sending_ip: SendingIpOption = None,
    envelope_from: EnvelopeFromOption = None,
    helo: HeloOption = None,
    dkim_selector: SelectorOption = None,
    nameserver: NameserverOption = None,
    lab: LabOption = None,
    timeout: TimeoutOption = 2.0,
    attempts: AttemptsOption = 2,
    database: DatabaseOption = None,
    output_format: ListFormatOption = ListFormat.TEXT,
    lang: LangOption = Language.EN,
) -> None:
    """Check the domain against Gmail's, Yahoo's and Outlook.com's sender requirements."""
    with user_errors():
        if message is None and (sending_ip or envelope_from or helo):
            raise InputError(
                "--sending-ip, --envelope-from and --helo describe a sample message: add --message FILE"
            )
        sample = read_sample(message, sending_ip, envelope_from, helo) if message is not None else None
        target = as_target(Target(domain, tuple(dkim_selector or ()), sample_message=sample))
        network, anchors = network_from(nameserver, timeout, attempts, None, None, False, lab, 10.0)
        with opened(database) as store:  # the stored spam-rate figures (and DKIM selectors seen in reports)
            target = enriched(replace(target, trust_anchors=anchors), store, datetime.now(UTC))
        report = asyncio.run(scan_target(target, network, CHECKS))
        posture = report.observations[SENDER_POSTURE.name]
        assert isinstance(posture, SenderPosture)
        matrix = judge(posture)
        language = lang_of(lang)
        if output_format is ListFormat.JSON:
            out.print_json(json.dumps(matrix_json(matrix, language), ensure_ascii=False))
        else:
            render_matrix(matrix, out, language)
