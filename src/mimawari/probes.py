"""Connection probes as data: mail-server sessions and TLS scans a plan asks for, and what they found.

Like DNS queries and HTTP fetches (``mimawari.lookup``), a plan yields a request and receives its result;
``observe`` does the talking and the snapshot keeps every result, so checks and the what-if simulator
re-evaluate a scan with no network. The request names the address the plan resolved (every host
contacted was found through the scan's own DNS) and the host name it stands for (TLS server name,
certificate name, EHLO target).

* ``ServiceRequest`` → ``ServiceSession``: one conversation with an SMTP, IMAP or POP3 server: greeting,
  capabilities, the harmless SMTP probes (VRFY, EXPN, open relay without DATA, an unknown recipient),
  STARTTLS (or implicit TLS) with one real handshake, the certificate chain and whether it is trusted.
* ``TlsScanRequest`` → ``TlsScan``: the TLS configuration of an endpoint, probed with our own
  ClientHellos (protocol versions from SSLv3 to TLS 1.3, cipher suites and the server's order, key
  exchange groups). No handshake is ever completed by these probes.

Failure is a value: ``status`` is PRESENT when the server talked, TIMEOUT when it did not answer in time
(graded unknown, never "missing"), ERROR when the connection was refused, out of scope or broken.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import StrEnum

from mimawari.model import Status


class MailProtocol(StrEnum):
    SMTP = "smtp"
    """SMTP: port 25 of an MX (relay), or submission on 587 (STARTTLS) / 465 (implicit TLS)."""
    IMAP = "imap"
    POP3 = "pop3"


@dataclass(frozen=True, order=True)
class ServiceRequest:
    """Talk to the ``protocol`` server at ``address``:``port``, which stands for ``host``.

    With ``implicit_tls`` the connection starts with a TLS handshake (993, 995, 465); otherwise it starts
    in clear text and upgrades with STARTTLS / STLS when offered. The SMTP probes run in clear text,
    before STARTTLS, as an attacker would: ``relay_from`` / ``relay_to`` set → MAIL FROM, RCPT TO, RSET
    (never DATA); ``unknown_recipient`` set → RCPT TO that address after a MAIL FROM, then RSET;
    ``vrfy`` → VRFY and EXPN of ``postmaster``. ``smuggling_recipient`` set (``--intrusive`` only) →
    messages are sent with DATA to that address to see which end-of-data sequences the server accepts.
    """

    protocol: MailProtocol
    host: str
    address: str
    port: int
    implicit_tls: bool = False
    helo_name: str = ""
    """The name to greet with (EHLO); empty means the scanner's default."""
    vrfy: bool = False
    relay_from: str = ""
    relay_to: str = ""
    unknown_recipient: str = ""
    smuggling_recipient: str = ""

    def __str__(self) -> str:
        tls = "+tls" if self.implicit_tls else ""
        return f"{self.protocol.value}{tls}://{self.host} @ {self.address}:{self.port}"


@dataclass(frozen=True)
class Reply:
    """One server reply: SMTP's three-digit code (0 for IMAP/POP3) and its text lines."""

    code: int
    lines: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " / ".join(self.lines)

    @property
    def positive(self) -> bool:
        """2xx/3xx for SMTP; ``+OK`` / ``OK`` for POP3 and IMAP (code 0, judged by the text)."""
        if self.code:
            return 200 <= self.code < 400
        first = self.lines[0] if self.lines else ""
        return first.startswith("+OK") or first.split(" ", 2)[1:2] == ["OK"]

    def describe(self) -> str:
        return f"{self.code} {self.text}" if self.code else self.text


@dataclass(frozen=True)
class TlsHandshake:
    """One real TLS handshake, as a client that does not check the certificate would make it.

    The certificate is judged apart from the handshake: ``trusted`` says whether the chain leads to the
    scan's trust store (system store, ``--ca-file`` or the lab's CA) at the time of the scan, for any
    name; whether it names the host is the checks' to decide from ``chain``.
    """

    status: Status
    """PRESENT: the handshake completed. ERROR: it failed (``detail`` says how). TIMEOUT: no answer."""
    version: str = ""
    """``TLSv1.3``, ``TLSv1.2`` …"""
    cipher: str = ""
    """The negotiated suite, IANA name when known (``TLS_AES_128_GCM_SHA256``)."""
    chain: tuple[str, ...] = ()
    """The certificates the server sent, leaf first, base64 DER."""
    trusted: bool | None = None
    """None when there was no chain to judge."""
    trust_detail: str = ""
    """Why the chain is not trusted (``certificate has expired``, ``self-signed`` …)."""
    ocsp_stapled: bool | None = None
    detail: str = ""
    handshake_ms: float | None = None

    @property
    def chain_der(self) -> tuple[bytes, ...]:
        return tuple(base64.b64decode(c) for c in self.chain)


@dataclass(frozen=True)
class SmugglingProbe:
    """One ``--intrusive`` SMTP smuggling test: did the server end the DATA at ``sequence``?"""

    sequence: str
    """The end-of-data variant tried, escaped: ``\\n.\\n``, ``\\n.\\r\\n``, ``\\r.\\r\\n`` …"""
    status: Status
    accepted: bool | None = None
    """True when the server replied to the non-standard sequence as an end of data (it is exposed)."""
    detail: str = ""


@dataclass(frozen=True)
class ServiceSession:
    """What one conversation with a mail server showed. Fields not reached stay None / empty."""

    request: ServiceRequest
    status: Status
    detail: str = ""
    connect_ms: float | None = None
    greeting: Reply | None = None
    """SMTP 220 banner, IMAP ``* OK`` line, POP3 ``+OK`` line."""
    greeting_ms: float | None = None
    capabilities: tuple[str, ...] = ()
    """Before TLS (or of the implicit-TLS session): EHLO keywords with their parameters
    (``AUTH PLAIN LOGIN``, ``SIZE 10240000``), IMAP capabilities, POP3 CAPA lines; upper case keywords."""
    capabilities_ms: float | None = None
    vrfy: Reply | None = None
    expn: Reply | None = None
    relay_sender: str = ""
    """The MAIL FROM the relay test used: ``relay_from``, or the null sender ``<>`` when that was refused."""
    relay_mail: Reply | None = None
    relay_rcpt: Reply | None = None
    unknown_rcpt: Reply | None = None
    starttls_offered: bool | None = None
    """None for implicit TLS or when the session ended before capabilities were known."""
    starttls: Reply | None = None
    """The reply to STARTTLS / STLS (IMAP: the tagged reply)."""
    tls: TlsHandshake | None = None
    capabilities_tls: tuple[str, ...] = ()
    """Capabilities asked again over TLS (EHLO, CAPABILITY, CAPA)."""
    smuggling: tuple[SmugglingProbe, ...] = ()

    def describe(self) -> str:
        if self.status is Status.PRESENT:
            return self.greeting.describe() if self.greeting else "connected"
        return f"{self.status.value}: {self.detail}" if self.detail else self.status.value


class StartTls(StrEnum):
    """How a TLS scan reaches the handshake: directly, or after a STARTTLS exchange of a protocol."""

    NONE = ""
    SMTP = "smtp"
    IMAP = "imap"
    POP3 = "pop3"


@dataclass(frozen=True, order=True)
class TlsScanRequest:
    host: str
    """Sent as the server name (SNI) and, for SMTP, named in EHLO."""
    address: str
    port: int
    starttls: StartTls = StartTls.NONE

    def __str__(self) -> str:
        via = f" (STARTTLS {self.starttls.value})" if self.starttls else ""
        return f"TLS scan of {self.host} @ {self.address}:{self.port}{via}"


TLS_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class VersionSupport:
    """Whether the server accepts one protocol version, and the cipher suites it accepts with it."""

    version: str
    """One of ``TLS_VERSIONS``."""
    status: Status
    """PRESENT: accepted. ABSENT: refused (alert, or the server answered with another version). TIMEOUT
    or ERROR: could not tell."""
    ciphers: tuple[str, ...] = ()
    """IANA names of the accepted suites, in the server's order of preference when it has one, else in
    the order found."""
    server_order: bool | None = None
    """True when the server picks by its own preference, False when it follows the client's, None when
    fewer than two suites are accepted or it could not be told."""
    detail: str = ""


@dataclass(frozen=True)
class GroupSupport:
    """A key exchange group (``x25519``, ``secp256r1``, ``ffdhe2048`` …) and whether it is accepted."""

    group: str
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class TlsScan:
    request: TlsScanRequest
    status: Status
    """PRESENT when the endpoint answered ClientHellos; TIMEOUT / ERROR when it could not be probed."""
    versions: tuple[VersionSupport, ...] = ()
    groups: tuple[GroupSupport, ...] = ()
    """Groups probed with the highest accepted version (TLS 1.3 key shares, else the TLS 1.2 ECDHE
    curves); in the server's order of preference when it shows one."""
    detail: str = ""
    connections: int = 0
    """Connections the scan made (politeness is measured, not assumed)."""

    def accepted(self) -> tuple[VersionSupport, ...]:
        return tuple(v for v in self.versions if v.status is Status.PRESENT)


@dataclass(frozen=True)
class TlsEndpoint:
    """One TLS endpoint as the checks grade it: a host name the certificate must match, the session
    that made the real handshake, and the scan of its configuration (None when not scanned, e.g. because
    the handshake failed or the server never answered)."""

    host: str
    session: ServiceSession
    scan: TlsScan | None = None

    @property
    def label(self) -> str:
        """``mx1.example.com [203.0.113.25]:25`` for evidence."""
        request = self.session.request
        address = f"[{request.address}]" if ":" in request.address else request.address
        return f"{self.host} {address}:{request.port}"


ProbeRequest = ServiceRequest | TlsScanRequest
ProbeResult = ServiceSession | TlsScan
