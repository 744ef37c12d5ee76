"""The Thunderbird autoconfig document (``config-v1.1.xml``): which servers a mail client is told to use.

Only the facts the mailbox checks need are read: for every ``incomingServer`` and ``outgoingServer`` of
the ``emailProvider``, its ``type`` (imap, pop3, smtp), ``hostname``, ``port`` and ``socketType`` (SSL
for implicit TLS, STARTTLS, or plain). The document comes from the scanned domain's web server, so it is
hostile input: a document that declares a DOCTYPE or entities is refused outright (no entity is ever
expanded — the "billion laughs" and external-entity attacks need a DOCTYPE), and nothing here raises.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_SERVERS = 16
"""Servers read from one document; a real one lists a handful."""
MAX_CHARACTERS = 256 * 1024
SERVER_TYPES = ("imap", "pop3", "smtp")
SOCKET_TYPES = ("SSL", "STARTTLS", "plain")

_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class AutoconfigServer:
    """One server entry, as given (``socket_type`` normalised to SSL, STARTTLS or plain)."""

    direction: str
    """``incoming`` or ``outgoing``."""
    server_type: str
    """``imap``, ``pop3`` or ``smtp``."""
    hostname: str
    port: int | None = None
    socket_type: str = ""


@dataclass(frozen=True)
class AutoconfigDocument:
    servers: tuple[AutoconfigServer, ...] = ()
    problems: tuple[str, ...] = ()
    """Why the document, or an entry of it, was not used."""


def host_name(text: str, domain: str) -> str | None:
    """The entry's host name, lower case without the trailing dot, ``%EMAILDOMAIN%`` replaced by the
    domain (the placeholder the format defines); None for anything that is not a DNS host name,
    including IP literals (a plan contacts only names it resolved itself)."""
    name = text.strip().replace("%EMAILDOMAIN%", domain).rstrip(".").lower()
    if not name or len(name) > 253 or "%" in name:
        return None
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    labels = name.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(_LABEL.match(label) for label in labels):
        return None
    return name


def _local(tag: str) -> str:
    """The tag without a namespace (``{urn:x}incomingServer`` → ``incomingServer``)."""
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ET.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _socket_type(text: str) -> str:
    for known in SOCKET_TYPES:
        if text.lower() == known.lower():
            return known
    return ""


def _server(element: ET.Element, domain: str) -> AutoconfigServer | str:
    direction = "incoming" if _local(element.tag) == "incomingServer" else "outgoing"
    server_type = element.get("type", "").strip().lower()
    if server_type not in SERVER_TYPES:
        return f"{direction} server of type {server_type or '(none)'!r} ignored"
    raw_name = _child_text(element, "hostname")
    hostname = host_name(raw_name, domain)
    if hostname is None:
        return f"{direction} {server_type} server: {raw_name[:80]!r} is not a host name"
    port_text = _child_text(element, "port")
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else None
    return AutoconfigServer(
        direction, server_type, hostname, port, _socket_type(_child_text(element, "socketType"))
    )


def parse_autoconfig(text: str, domain: str) -> AutoconfigDocument:
    """The servers of an autoconfig document, or why there are none."""
    if len(text) > MAX_CHARACTERS:
        return AutoconfigDocument(problems=(f"document larger than {MAX_CHARACTERS} characters",))
    if _DECLARATION.search(text):
        return AutoconfigDocument(
            problems=("document declares a DOCTYPE or entities: refused, not expanded",)
        )
    try:
        # A str is handed to expat as UTF-8 whatever the XML declaration says, so the check above saw
        # exactly the characters the parser reads.
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError) as exc:
        return AutoconfigDocument(problems=(f"not well-formed XML: {exc}",))
    if _local(root.tag) != "clientConfig":
        return AutoconfigDocument(problems=(f"root element is {_local(root.tag)!r}, not clientConfig",))
    servers: list[AutoconfigServer] = []
    problems: list[str] = []
    entries = (e for e in root.iter() if _local(e.tag) in ("incomingServer", "outgoingServer"))
    for element in entries:
        if len(servers) >= MAX_SERVERS:
            problems.append(f"more than {MAX_SERVERS} servers: the rest ignored")
            break
        parsed = _server(element, domain)
        if isinstance(parsed, str):
            problems.append(parsed)
        else:
            servers.append(parsed)
    return AutoconfigDocument(tuple(dict.fromkeys(servers)), tuple(problems))
