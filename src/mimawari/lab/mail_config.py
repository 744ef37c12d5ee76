"""The ``mail:`` section of a lab document: which mail servers the lab runs, and how they behave.

YAML form, in the same lab document as the zones (the DNS side ignores this key)::

    mail:
      servers:
        - host: mx1.kuroneko.example       # names the certificate, EHLO and the default SMTP banner
          addresses: [203.0.113.10, "2001:db8::10"]   # the zone's addresses for it (at least one)
          smtp:                            # port 25; every key is optional
            port: 25
            banner: mx1.kuroneko.example ESMTP Postfix (Debian/GNU)   # default "<host> ESMTP"
            starttls: true
            cert: valid                    # valid | expired | wrong-name | self-signed
            key: ec                        # ec (P-256) | rsa1024 | rsa2048 | rsa4096
            tls: [TLSv1.2, TLSv1.3]        # accepted versions, one or a contiguous range of TLSv1.0 … TLSv1.3
            ciphers: null                  # OpenSSL cipher string for TLS 1.2 and older; null: default
            curve: null                    # the one key exchange group to accept (X25519, prime256v1 …);
                                           #   null: OpenSSL's list, which includes ffdhe2048
            open_relay: false              # true: RCPT TO any domain is accepted
            vrfy: false                    # false: 502 (Postfix disable_vrfy_command)
            expn: false
            accept_unknown: false          # true: unknown local users accepted at RCPT (accept-then-bounce)
            auth: none                     # none | before-tls | after-tls (default on submission ports)
            local_domains: [kuroneko.example]   # default: the host's parent domain and the host
            users: [info, sales]           # local parts that exist; postmaster always does
            smuggling: false               # true: <LF>.<LF> and <LF>.<CR><LF> end DATA (CVE-2023-51764)
            slow: 0                        # seconds before the greeting
            stall: false                   # true: accept the connection, never say a word (a tarpit)
          submission: {}                   # port 587: the SMTP keys
          submissions: {}                  # port 465, implicit TLS: the SMTP keys but starttls
        - host: imap.kuroneko.example
          addresses: [203.0.113.30]
          imap:                            # port 143; also port, banner, cert, key, tls, ciphers, slow, stall
            starttls: true
            login_before_tls: false        # false: LOGINDISABLED until STARTTLS
            capabilities: [ID, IDLE]       # extra words in CAPABILITY (advertised, not implemented)
          imaps: {}                        # port 993, implicit TLS: capabilities and the common keys
          pop3: {stls: true, user_before_tls: false, capabilities: ["IMPLEMENTATION Dovecot"]}   # 110
          pop3s: {}                        # port 995, implicit TLS

A service given as ``{}`` (or with no value) runs with the defaults. Unknown keys, wrong types and an
(address, port) served twice are ``ZoneError`` naming the key.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mimawari.errors import ZoneError
from mimawari.lab.ca import TLS_VERSIONS, CertMode, KeyType, ServerTls
from mimawari.lab.mailbox import ImapOptions, Pop3Options
from mimawari.lab.smtp_policy import AuthPlacement, SmtpOptions
from mimawari.observe.tcp import endpoint_key

SERVICES: dict[str, tuple[str, int, bool]] = {
    "smtp": ("smtp", 25, False),
    "submission": ("smtp", 587, False),
    "submissions": ("smtp", 465, True),
    "imap": ("imap", 143, False),
    "imaps": ("imap", 993, True),
    "pop3": ("pop3", 110, False),
    "pop3s": ("pop3", 995, True),
}
"""Service key → (protocol, default port, implicit TLS), RFC 8314 §7 and RFC 6409 for the ports."""
COMMON_KEYS = frozenset({"port", "banner", "cert", "key", "tls", "ciphers", "curve", "stall", "slow"})
PROTOCOL_KEYS = {
    "smtp": frozenset(
        {"open_relay", "vrfy", "expn", "accept_unknown", "auth", "local_domains", "users", "smuggling"}
    ),
    "imap": frozenset({"capabilities"}),
    "pop3": frozenset({"capabilities"}),
}
STARTTLS_KEYS = {
    "smtp": {"starttls"},
    "imap": {"starttls", "login_before_tls"},
    "pop3": {"stls", "user_before_tls"},
}
"""Keys that only make sense where the session starts in clear text."""
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


@dataclass(frozen=True)
class MailService:
    """One protocol of a mail host on one port (for each of the host's addresses)."""

    kind: str
    """A ``SERVICES`` key: ``smtp``, ``submission``, ``imaps`` …"""
    port: int
    tls: ServerTls
    options: SmtpOptions | ImapOptions | Pop3Options
    stall: bool = False

    @property
    def uses_tls(self) -> bool:
        options = self.options
        if isinstance(options, Pop3Options):
            return options.implicit_tls or options.stls
        return options.implicit_tls or options.starttls


@dataclass(frozen=True)
class MailServer:
    host: str
    addresses: tuple[str, ...]
    services: tuple[MailService, ...]


@dataclass(frozen=True)
class MailServers:
    servers: tuple[MailServer, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for server in self.servers:
            for address in server.addresses:
                for service in server.services:
                    key = endpoint_key(address, service.port)
                    if key in seen:
                        raise ZoneError(
                            f"lab YAML: mail {key} is served twice ({server.host} {service.kind})"
                        )
                    seen.add(key)

    def __add__(self, other: MailServers) -> MailServers:
        return MailServers(self.servers + other.servers)


class _Field:
    """Typed reads from one YAML mapping; every complaint names the mapping and the key."""

    def __init__(self, where: str, spec: Mapping[str, Any]) -> None:
        self.where = where
        self.spec = spec

    def error(self, key: str, expected: str) -> ZoneError:
        return ZoneError(f"lab YAML: {self.where}: '{key}' must be {expected}")

    def flag(self, key: str, default: bool) -> bool:
        value = self.spec.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "true or false")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
            raise self.error(key, "a number of seconds from 0 to 3600")
        return float(value)

    def text(self, key: str, default: str) -> str:
        value = self.spec.get(key, default)
        if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\0"):
            raise self.error(key, "one line of ASCII text")
        return value.strip()

    def words(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.spec.get(key, list(default))
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise self.error(key, "a list of strings")
        if not all(v.isascii() and not any(c in v for c in "\r\n\0") for v in values):
            raise self.error(key, "a list of one-line ASCII strings")
        return tuple(v.strip() for v in values)

    def choice(
        self, key: str, kind: type[CertMode] | type[KeyType] | type[AuthPlacement], default: str
    ) -> str:
        value = self.spec.get(key, default)
        allowed = [member.value for member in kind]
        if value not in allowed:
            raise self.error(key, "one of " + ", ".join(allowed))
        return str(value)


def _tls(field: _Field) -> ServerTls:
    versions = field.words("tls", ("TLSv1.2", "TLSv1.3"))
    aliases = {"TLSv1": "TLSv1.0", **{name: name for name in TLS_VERSIONS}}
    if not versions or any(v not in aliases for v in versions):
        raise field.error("tls", "a list of " + ", ".join(TLS_VERSIONS))
    names = list(TLS_VERSIONS)
    indices = sorted({names.index(aliases[v]) for v in versions})
    if indices != list(range(indices[0], indices[-1] + 1)):
        raise field.error("tls", "a contiguous range of versions (OpenSSL sets a minimum and a maximum)")
    ciphers = field.spec.get("ciphers")
    if ciphers is not None:
        if not isinstance(ciphers, str) or not ciphers.strip():
            raise field.error("ciphers", "an OpenSSL cipher string or null")
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(ciphers)
        except ssl.SSLError:
            raise field.error(
                "ciphers", "an OpenSSL cipher string that selects at least one cipher"
            ) from None
    curve = field.spec.get("curve")
    if curve is not None:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ecdh_curve(str(curve))
        except (ValueError, ssl.SSLError):
            raise field.error("curve", "a group OpenSSL knows, such as X25519 or prime256v1") from None
    return ServerTls(
        cert=CertMode(field.choice("cert", CertMode, "valid")),
        key=KeyType(field.choice("key", KeyType, "ec")),
        minimum=TLS_VERSIONS[names[indices[0]]],
        maximum=TLS_VERSIONS[names[indices[-1]]],
        ciphers=ciphers,
        curve=None if curve is None else str(curve),
    )


def _service(host: str, kind: str, given: Any) -> MailService:
    protocol, default_port, implicit = SERVICES[kind]
    spec = {} if given is None else given
    where = f"mail server {host} {kind}"
    if not isinstance(spec, Mapping):
        raise ZoneError(f"lab YAML: {where} must be a mapping of settings (or {{}} for the defaults)")
    allowed = COMMON_KEYS | PROTOCOL_KEYS[protocol] | (set() if implicit else STARTTLS_KEYS[protocol])
    unknown = sorted(str(key) for key in set(spec) - allowed)
    if unknown:
        raise ZoneError(f"lab YAML: {where}: unknown keys {unknown} (allowed: {', '.join(sorted(allowed))})")
    field = _Field(where, spec)
    port = spec.get("port", default_port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise field.error("port", "a port number from 1 to 65535")
    options: SmtpOptions | ImapOptions | Pop3Options
    if protocol == "smtp":
        parent = host.partition(".")[2] or host
        options = SmtpOptions(
            host=host,
            banner=field.text("banner", f"{host} ESMTP"),
            starttls=not implicit and field.flag("starttls", True),
            implicit_tls=implicit,
            open_relay=field.flag("open_relay", False),
            vrfy=field.flag("vrfy", False),
            expn=field.flag("expn", False),
            accept_unknown=field.flag("accept_unknown", False),
            auth=AuthPlacement(
                field.choice("auth", AuthPlacement, "none" if kind == "smtp" else "after-tls")
            ),
            local_domains=tuple(d.rstrip(".").lower() for d in field.words("local_domains", (parent, host))),
            users=tuple(u.lower() for u in field.words("users", ("postmaster",))),
            smuggling=field.flag("smuggling", False),
            slow=field.number("slow", 0),
        )
    elif protocol == "imap":
        options = ImapOptions(
            banner=field.text("banner", ImapOptions.banner),
            starttls=not implicit and field.flag("starttls", True),
            implicit_tls=implicit,
            login_before_tls=field.flag("login_before_tls", False),
            capabilities=tuple(c.upper() for c in field.words("capabilities")),
            slow=field.number("slow", 0),
        )
    else:
        options = Pop3Options(
            banner=field.text("banner", Pop3Options.banner),
            stls=not implicit and field.flag("stls", True),
            implicit_tls=implicit,
            user_before_tls=field.flag("user_before_tls", False),
            capabilities=field.words("capabilities"),
            slow=field.number("slow", 0),
        )
    return MailService(kind, port, _tls(field), options, stall=field.flag("stall", False))


def _server(index: int, spec: Any) -> MailServer:
    if not isinstance(spec, Mapping):
        raise ZoneError(f"lab YAML: mail server #{index + 1} must be a mapping with 'host' and 'addresses'")
    host = str(spec.get("host") or "").rstrip(".").lower()
    if not _HOST_NAME.match(host):
        raise ZoneError(f"lab YAML: mail server #{index + 1}: 'host' must be a host name, not {host!r}")
    unknown = sorted(str(key) for key in set(spec) - {"host", "addresses", *SERVICES})
    if unknown:
        allowed = ", ".join(["host", "addresses", *SERVICES])
        raise ZoneError(f"lab YAML: mail server {host}: unknown keys {unknown} (allowed: {allowed})")
    field = _Field(f"mail server {host}", spec)
    try:
        addresses = tuple(str(ipaddress.ip_address(a)) for a in field.words("addresses"))
    except ValueError:
        raise field.error("addresses", "a list of IPv4 or IPv6 addresses") from None
    if not addresses:
        raise field.error("addresses", "a list of at least one address")
    services = tuple(_service(host, kind, spec[kind]) for kind in SERVICES if kind in spec)
    if not services:
        raise ZoneError(
            f"lab YAML: mail server {host} serves nothing: add smtp, imap, pop3 or another service"
        )
    return MailServer(host, addresses, services)


def mail_from_document(document: Mapping[str, Any]) -> MailServers:
    """The ``mail:`` part of an already loaded lab YAML document (absent: no mail servers)."""
    section = document.get("mail")
    if section is None:
        return MailServers()
    if not isinstance(section, Mapping) or set(section) - {"servers"}:
        raise ZoneError("lab YAML: 'mail' must be a mapping with one key, 'servers'")
    servers = section.get("servers") or []
    if not isinstance(servers, list):
        raise ZoneError("lab YAML: 'mail: servers' must be a list of mail servers")
    return MailServers(tuple(_server(i, spec) for i, spec in enumerate(servers)))
