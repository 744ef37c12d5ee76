"""What the commands share: consoles, the options' types and help, error handling, the scan network."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from mimawari.check import Registry
from mimawari.checks import ALL_CHECKS
from mimawari.errors import InputError
from mimawari.lab import read_lab_connection
from mimawari.model import Category, Lang
from mimawari.observe import DnsClient, HttpClient, Nameserver, Network, ProbeClient, Scope
from mimawari.options import parse_port_map


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
    MARKDOWN = "markdown"
    SARIF = "sarif"


class Language(StrEnum):
    EN = "en"
    JA = "ja"


NameserverOption = Annotated[
    list[str] | None,
    typer.Option(
        "--nameserver",
        "-n",
        metavar="HOST[:PORT]",
        help="Resolver to ask, HOST[:PORT]; repeatable. Default: the system's.",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
LangOption = Annotated[Language, typer.Option("--lang", help="Language of the texts.")]
TimeoutOption = Annotated[
    float, typer.Option(metavar="SECONDS", help="Seconds to wait for each DNS reply.", min=0.05)
]
AttemptsOption = Annotated[
    int, typer.Option(metavar="N", help="Tries per nameserver before a query is a timeout.", min=1)
]
SelectorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--dkim-selector",
        metavar="SELECTOR",
        help="DKIM selector to try besides the built-in list; repeatable.",
    ),
]
TrustAnchorOption = Annotated[
    str | None,
    typer.Option(
        metavar="FILE",
        help="File of DNSSEC trust anchors (DS or DNSKEY records). Default: the bundled root keys.",
    ),
]
CaFileOption = Annotated[
    str | None,
    typer.Option(
        metavar="PEM", help="PEM file of CAs to trust for HTTPS. Default: the system's (SSL_CERT_FILE)."
    ),
]
PortMapOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="PORT=PORT",
        help="Connect to PORT=OTHER instead of PORT (a lab on unprivileged ports); repeatable.",
    ),
]
LabOption = Annotated[
    str | None,
    typer.Option(
        "--lab", metavar="FILE", help="Scan a running lab: the connection file 'mimawari lab up' printed."
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Show passing and not-applicable checks in full too.")]
ProbeTimeoutOption = Annotated[
    float,
    typer.Option(
        metavar="SECONDS",
        help="Seconds to wait for each step of a mail-server conversation or TLS probe.",
        min=0.05,
    ),
]
IntrusiveOption = Annotated[
    bool,
    typer.Option(
        help="Also run probes that send mail (the SMTP smuggling test, with DATA) to --probe-recipient."
    ),
]
ProbeRecipientOption = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        help="With --intrusive: the address (in a scanned domain) that may receive test messages.",
    ),
]
CategoryOption = Annotated[
    list[Category] | None,
    typer.Option(
        "--category",
        metavar="CATEGORY",
        help="Only the checks of this category (email-dns, email-mta, email-mailbox); repeatable. "
        "Default: all.",
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout."),
]
FailUnderOption = Annotated[
    float | None,
    typer.Option(
        metavar="SCORE",
        help="Exit 1 when a domain scores under this (0-100), or has no score: for CI.",
        min=0,
        max=100,
    ),
]
AllowPrivateOption = Annotated[
    bool,
    typer.Option(
        help="Allow connections to loopback and private addresses (for the lab or an internal scan)."
    ),
]


def lang_of(lang: Language) -> Lang:
    return "ja" if lang is Language.JA else "en"


def checks_of(categories: list[Category] | None) -> Registry:
    """The checks of the chosen categories (all when none is chosen)."""
    chosen = set(categories or Category)
    return {key: check for key, check in ALL_CHECKS.items() if check.category in chosen}


def dns_client(nameserver: list[str] | None, timeout: float = 2.0, attempts: int = 2) -> DnsClient:
    """The resolver the ``--nameserver`` options name (the system's when none)."""
    return DnsClient(
        [Nameserver.parse(text) for text in nameserver or []] or None, timeout=timeout, attempts=attempts
    )


def network_from(
    nameserver: list[str] | None,
    timeout: float,
    attempts: int,
    ca_file: str | None,
    port_map: list[str] | None,
    allow_private: bool,
    lab: str | None,
    probe_timeout: float,
) -> tuple[Network, tuple[str, ...]]:
    """The scan network the options describe, and the lab's trust anchors when ``--lab`` is given."""
    if lab is not None:
        if nameserver or ca_file or port_map:
            raise InputError("--lab already says which nameserver, CA and ports to use")
        connection = read_lab_connection(lab)
        network = connection.network(timeout=timeout, attempts=attempts, probe_timeout=probe_timeout)
        return network, connection.trust_anchors
    scope = Scope(allow_loopback=allow_private, allow_private=allow_private)
    ports = parse_port_map(port_map or [])
    network = Network(
        dns_client(nameserver, timeout, attempts),
        HttpClient(scope=scope, ca_file=ca_file, port_map=ports),
        ProbeClient(scope=scope, ca_file=ca_file, port_map=ports, timeout=probe_timeout),
    )
    return network, ()
