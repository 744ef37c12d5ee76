"""One real TLS handshake on a probe's connection, and whether the certificate chain is trusted.

The handshake is made as a sending MTA with opportunistic TLS makes it: any protocol version and cipher
OpenSSL still knows, no certificate check — so "the handshake works" and "the certificate is valid" are
two facts, never one (many checkers conflate them). The chain the server sent is kept (leaf first) and
judged afterwards by ``TrustStore``: does it lead to a trusted root at the scan's moment, for any of the
leaf's own names? Whether it names the host is the checks' question, answered from the chain.

Our own ClientHello probes (``tls_scan``) map out what the server accepts; this module only needs what
``ssl`` can do.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import os
import ssl
import time
import warnings
from functools import cache

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import DNSName
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from mimawari.model import Status
from mimawari.observe.tcp import Stream
from mimawari.parse.tls_suites import by_code
from mimawari.probes import TlsHandshake

SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


def handshake_context() -> ssl.SSLContext:
    """A client context that completes a handshake with anything a real sender would still talk to."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


@cache
def _iana_names() -> dict[str, str]:
    """OpenSSL cipher name → IANA name, through the suite code OpenSSL reports."""
    names = {}
    for cipher in handshake_context().get_ciphers():
        suite = by_code(cipher["id"] & 0xFFFF)
        names[cipher["name"]] = suite.name if suite is not None else cipher["name"]
    return names


def server_name(host: str) -> str | None:
    """The SNI to send: the host name; none for an IP literal (RFC 6066 §3)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


class TrustStore:
    """Root certificates to judge chains by: ``ca_file`` (PEM), else the system's bundle."""

    def __init__(self, ca_file: str | None = None) -> None:
        self.ca_file = ca_file
        self._store: Store | None = None
        self._problem = ""

    def _load(self) -> Store | None:
        if self._store is not None or self._problem:
            return self._store
        candidates = (
            [self.ca_file] if self.ca_file else [os.environ.get("SSL_CERT_FILE", ""), *SYSTEM_BUNDLES]
        )
        for path in filter(None, candidates):
            try:
                with open(path, "rb") as handle, warnings.catch_warnings():
                    # System bundles hold a few old roots with non-positive serials; they still count.
                    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                    self._store = Store(x509.load_pem_x509_certificates(handle.read()))
                return self._store
            except (OSError, ValueError):
                continue
        self._problem = f"no trust store could be read ({', '.join(filter(None, candidates))})"
        return None

    def judge(self, chain_der: list[bytes], moment: int) -> tuple[bool | None, str]:
        """Whether the chain leads to a trusted root at ``moment``, for a name of the leaf's own."""
        store = self._load()
        if store is None:
            return None, self._problem
        try:
            chain = [x509.load_der_x509_certificate(der) for der in chain_der]
        except ValueError as exc:
            return False, f"certificate does not parse: {exc}"
        leaf, intermediates = chain[0], chain[1:]
        names = _dns_names(leaf)
        if not names:
            return False, "the certificate names no host (no subjectAltName DNS entry)"
        when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
        verifier = PolicyBuilder().store(store).time(when).build_server_verifier(DNSName(_concrete(names[0])))
        try:
            verifier.verify(leaf, intermediates)
        except VerificationError as exc:
            return False, _verification_problem(leaf, str(exc), when)
        return True, ""


def _concrete(name: str) -> str:
    """A name the SAN entry covers: ``*.example.com`` covers ``www.example.com``."""
    return "www" + name[1:] if name.startswith("*.") else name


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [name for name in san.get_values_for_type(x509.DNSName) if name.strip("*.")]


def _verification_problem(leaf: x509.Certificate, message: str, when: datetime.datetime) -> str:
    """The most useful reason first: dates and self-signing say more than the verifier's message."""
    if leaf.not_valid_after_utc < when:
        return f"certificate has expired ({leaf.not_valid_after_utc:%Y-%m-%d})"
    if leaf.not_valid_before_utc > when:
        return f"certificate is not valid yet ({leaf.not_valid_before_utc:%Y-%m-%d})"
    if leaf.issuer == leaf.subject:
        return "self-signed certificate"
    return message.splitlines()[0] if message else "the chain does not lead to a trusted root"


def _peer_chain(ssl_object: ssl.SSLObject) -> list[bytes]:
    """The certificates the server sent, leaf first. ``get_unverified_chain`` is public from Python 3.13
    and present (private) since 3.10; without it only the leaf is available."""
    inner = getattr(ssl_object, "_sslobj", None)
    chain_of = getattr(inner, "get_unverified_chain", None)
    if chain_of is not None:
        chain = chain_of() or []
        return [cert.public_bytes(ssl._ssl.ENCODING_DER) for cert in chain]  # type: ignore[attr-defined]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


async def upgrade(stream: Stream, host: str, trust: TrustStore, timeout: float) -> TlsHandshake:
    """Start TLS on ``stream`` (after STARTTLS, or at once for implicit TLS); never raises."""
    started = time.perf_counter()
    try:
        await stream.writer.start_tls(
            handshake_context(), server_hostname=server_name(host), ssl_handshake_timeout=timeout
        )
    except TimeoutError:
        return TlsHandshake(Status.TIMEOUT, detail=f"no TLS handshake within {timeout:g} s")
    except (ssl.SSLError, OSError, asyncio.IncompleteReadError, ConnectionError) as exc:
        return TlsHandshake(Status.ERROR, detail=_ssl_problem(exc))
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    ssl_object = stream.writer.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return TlsHandshake(Status.ERROR, detail="no TLS session after the handshake")
    chain = _peer_chain(ssl_object)
    trusted, trust_detail = trust.judge(chain, int(time.time())) if chain else (None, "no certificate sent")
    cipher = ssl_object.cipher()
    return TlsHandshake(
        Status.PRESENT,
        version=ssl_object.version() or "",
        cipher=_iana_names().get(cipher[0], cipher[0]) if cipher else "",
        chain=tuple(_b64(der) for der in chain),
        trusted=trusted,
        trust_detail=trust_detail,
        handshake_ms=elapsed,
    )


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")


def _ssl_problem(exc: BaseException) -> str:
    if isinstance(exc, ConnectionError | asyncio.IncompleteReadError) and not str(exc):
        return "the server closed the connection during the handshake"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ssl.SSLError) and exc.reason:
        text = exc.reason.replace("_", " ").lower()
    return text.splitlines()[0]
