"""Our own ClientHellos and a parser for what a server says back: sans-IO, no sockets, never a handshake.

``client_hello`` builds the first flight of a handshake (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, SSLv3 as
RFC 6101) for one protocol version and a chosen list of cipher suites and groups; ``HelloParser`` is fed
the bytes that come back and says what they were: a ``ServerHello`` (or HelloRetryRequest), an
``Alert``, the connection ``Closed`` with nothing said, ``NotTls`` (a mail server's error line, say) or
``Malformed``. The parser trusts no length field: every read is bounded by the bytes present and by
``MAX_ANSWER``, and it returns values, never raises. ``tls_scan`` does the I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mimawari.parse.tls_suites import by_code

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304
VERSION_NAMES = {SSL3: "SSLv3", TLS10: "TLSv1.0", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3"}
"""Wire versions by the names of ``mimawari.probes.TLS_VERSIONS``."""

_GROUPS = """
0015 secp224r1  0016 secp256k1  0017 secp256r1  0018 secp384r1  0019 secp521r1  001D x25519  001E x448
001A brainpoolP256r1  001B brainpoolP384r1  001C brainpoolP512r1  11EC X25519MLKEM768
0100 ffdhe2048  0101 ffdhe3072  0102 ffdhe4096  0103 ffdhe6144  0104 ffdhe8192
"""


def _pairs(table: str, base: int = 16) -> dict[int, str]:
    """``"0015 secp224r1  0016 secp256k1"`` → ``{0x15: "secp224r1", 0x16: "secp256k1"}``."""
    words = table.split()
    return {int(code, base): name for code, name in zip(words[::2], words[1::2], strict=True)}


GROUP_NAMES = _pairs(_GROUPS)
"""IANA "TLS Supported Groups" names of the groups we offer."""
GROUP_CODES = {name: code for code, name in GROUP_NAMES.items()}


def _groups(names: str) -> tuple[int, ...]:
    return tuple(GROUP_CODES[name] for name in names.split())


TLS13_GROUPS = _groups(
    "x25519 secp256r1 x448 secp384r1 secp521r1 ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192 X25519MLKEM768"
)
"""Groups a TLS 1.3 hello lists by default (RFC 8446 §4.2.7; the ML-KEM hybrid as deployed since 2024)."""
EC_CURVES = _groups(
    "x25519 secp256r1 x448 secp384r1 secp521r1 brainpoolP256r1 brainpoolP384r1 brainpoolP512r1 secp256k1 secp224r1"
)
"""Curves a TLS 1.2-and-older hello lists. No FFDHE groups there: a server that honours RFC 7919 §4
would refuse its DHE suites when none of the listed groups suits it, hiding them from the scan."""
DEFAULT_KEY_SHARES = (GROUP_CODES["x25519"], GROUP_CODES["secp256r1"])

RENEGOTIATION_SCSV = 0x00FF
"""RFC 5746 §3.3: signals secure renegotiation without an extension, understood by SSLv3 servers too."""
MAX_SUITES = 128
"""Suites per hello, the SCSV included: some servers refuse or hang on longer lists."""
HRR_RANDOM = hashlib.sha256(b"HelloRetryRequest").digest()
"""RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest")."""

# A conforming RFC 5246 §6.2.3 record is at most 2^14 + 2048 bytes; a certificate chain rarely exceeds
# a few dozen KiB. Anything beyond these bounds is not a server we can reason about.
MAX_RECORD = 2**14 + 2048
MAX_ANSWER = 256 * 1024

_SIGNATURE_ALGORITHMS = (
    *(0x0403, 0x0503, 0x0603, 0x0807, 0x0808),  # ECDSA P-256/384/521, Ed25519, Ed448
    *(0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B),  # RSA-PSS (rsae and pss keys)
    *(0x0401, 0x0501, 0x0601),  # RSA PKCS#1 v1.5 with SHA-2
    *(0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602),  # SHA-224 and DSA, for old servers
    *(0x0203, 0x0201, 0x0202),  # SHA-1: so that a server with only an old key still answers
)
_ALERTS = """0 close_notify 10 unexpected_message 20 bad_record_mac 22 record_overflow 40 handshake_failure
42 bad_certificate 47 illegal_parameter 49 access_denied 50 decode_error 51 decrypt_error 70 protocol_version
71 insufficient_security 80 internal_error 86 inappropriate_fallback 90 user_canceled 109 missing_extension
110 unsupported_extension 112 unrecognized_name"""
ALERT_NAMES = _pairs(_ALERTS, base=10)
"""RFC 8446 §6 alert descriptions a server sends to a hello."""


# --- the ClientHello -----------------------------------------------------------------------------------


@cache
def key_share(group: int) -> bytes | None:
    """A real public key for ``group`` (RFC 8446 §4.2.8.2), made once per process: the probes never
    finish a handshake, so the private half is never used, but servers check that the point is valid."""
    if group == GROUP_CODES["x25519"]:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if group == GROUP_CODES["x448"]:
        return x448.X448PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    curves: dict[int, ec.EllipticCurve] = {0x17: ec.SECP256R1(), 0x18: ec.SECP384R1(), 0x19: ec.SECP521R1()}
    curve = curves.get(group)
    if curve is None:
        return None
    public = ec.generate_private_key(curve).public_key()
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def server_name(host: str) -> bytes | None:
    """The SNI host name: ASCII, no trailing dot; none for an IP literal (RFC 6066 §3)."""
    name = host.strip().rstrip(".")
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    try:
        encoded = name.encode("idna")
    except UnicodeError:
        return None
    return encoded if 0 < len(encoded) < 256 else None


def suite_chunks(suites: Sequence[int]) -> list[tuple[int, ...]]:
    """``suites`` split into lists that fit one hello next to the SCSV."""
    size = MAX_SUITES - 1
    return [tuple(suites[i : i + size]) for i in range(0, len(suites), size)]


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _vec8(data: bytes) -> bytes:
    return bytes([len(data)]) + data


def _vec16(data: bytes) -> bytes:
    return _u16(len(data)) + data


def _extension(kind: int, data: bytes) -> bytes:
    return _u16(kind) + _vec16(data)


def _uses_ecc(suites: Sequence[int]) -> bool:
    names = (suite.name for code in suites if (suite := by_code(code)) is not None)
    return any("ECDH" in name or "ECDSA" in name for name in names)


def _extensions(
    version: int, suites: Sequence[int], host: str, groups: Sequence[int], shares: Sequence[int]
) -> bytes:
    sni = server_name(host)
    parts = [_extension(0, _vec16(b"\x00" + _vec16(sni)))] if sni else []
    if version >= TLS13 or _uses_ecc(suites):
        parts.append(_extension(10, _vec16(b"".join(_u16(g) for g in groups))))  # supported_groups
    if version < TLS13 and _uses_ecc(suites):
        parts.append(_extension(11, _vec8(b"\x00")))  # ec_point_formats: uncompressed (RFC 8422 §5.1.2)
    if version >= TLS12:
        parts.append(_extension(13, _vec16(b"".join(_u16(a) for a in _SIGNATURE_ALGORITHMS))))
    if version >= TLS13:
        parts.append(_extension(43, _vec8(_u16(TLS13))))  # supported_versions: TLS 1.3 alone
        entries = b"".join(_u16(g) + _vec16(k) for g in shares if (k := key_share(g)) is not None)
        parts.append(_extension(51, _vec16(entries)))  # key_share; may be empty (RFC 8446 §4.2.8)
    return b"".join(parts)


def client_hello(
    version: int,
    suites: Sequence[int],
    host: str = "",
    *,
    groups: Sequence[int] | None = None,
    key_shares: Sequence[int] | None = None,
) -> bytes:
    """One ClientHello record offering ``version`` (``TLS13`` via supported_versions, alone) and ``suites``
    (at most ``MAX_SUITES - 1``; the renegotiation SCSV is added). ``host`` goes into SNI unless it is an
    IP literal. ``groups`` defaults to ``TLS13_GROUPS`` / ``EC_CURVES``; ``key_shares`` (TLS 1.3) to
    x25519 and secp256r1 where listed in ``groups`` — pass ``()`` to ask for a HelloRetryRequest.
    SSLv3 hellos carry no extensions, as SSLv3 servers expect."""
    if not suites or len(suites) >= MAX_SUITES:
        raise ValueError(f"a hello offers 1 to {MAX_SUITES - 1} suites, not {len(suites)}")
    groups = tuple(groups if groups is not None else TLS13_GROUPS if version >= TLS13 else EC_CURVES)
    shares = tuple(key_shares if key_shares is not None else (g for g in DEFAULT_KEY_SHARES if g in groups))
    # TLS 1.3 hellos carry a 32-byte legacy_session_id: middlebox compatibility mode (RFC 8446 §D.4).
    session_id = os.urandom(32) if version >= TLS13 else b""
    body = (
        _u16(min(version, TLS12))
        + os.urandom(32)
        + _vec8(session_id)
        + _vec16(b"".join(_u16(s) for s in (*suites, RENEGOTIATION_SCSV)))
        + _vec8(b"\x00")  # compression: null only
    )
    if version > SSL3:
        extensions = _extensions(version, suites, host, groups, shares)
        # RFC 7685 §4: some servers hang on hellos of 256–511 bytes; pad such a hello to 512.
        length = 4 + len(body) + 2 + len(extensions)
        if 256 <= length < 512:
            extensions += _extension(21, bytes(max(0, 512 - length - 4)))
        body += _vec16(extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    # The record layer says TLS 1.0 for any TLS hello: some servers refuse a higher record version.
    return bytes([22]) + _u16(min(version, TLS10)) + _vec16(handshake)


# --- what comes back -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerHello:
    """A ServerHello or HelloRetryRequest (``retry``)."""

    version: int
    """The negotiated version: supported_versions when present (TLS 1.3), else legacy_version."""
    cipher_suite: int
    retry: bool = False
    group: int | None = None
    """TLS 1.3: the key_share group (the one asked for, in a HelloRetryRequest). TLS 1.2 and older, when
    the parser was asked to wait for the ServerKeyExchange: the ECDHE named curve; None otherwise."""
    legacy_version: int = 0
    extensions: tuple[int, ...] = ()
    certificate: bytes = b""
    """TLS 1.2 and older, when the parser waited for the ServerKeyExchange: the leaf certificate (DER)."""


@dataclass(frozen=True)
class Alert:
    level: int
    description: int

    @property
    def name(self) -> str:
        return ALERT_NAMES.get(self.description, f"alert {self.description}")


@dataclass(frozen=True)
class Closed:
    """The connection ended before the server said anything."""


@dataclass(frozen=True)
class NotTls:
    """The server sent something that is not a TLS record; ``excerpt`` is its start, printable."""

    excerpt: str


@dataclass(frozen=True)
class Malformed:
    detail: str


Answer = ServerHello | Alert | Closed | NotTls | Malformed


class _Short(Exception):
    """A read past the end of a message: caught inside this module, never raised out of it."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise _Short
        chunk = self.data[self.at : self.at + count]
        self.at += count
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, size: int) -> bytes:
        return self.take(self.number(size))

    @property
    def left(self) -> int:
        return len(self.data) - self.at


def excerpt(data: bytes, limit: int = 80) -> str:
    """The first line of ``data`` as printable text, for a detail message."""
    text = data[:limit].split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", "replace")
    return "".join(c if c.isprintable() and c != "\ufffd" else "." for c in text).strip()


def parse_server_hello(body: bytes) -> ServerHello | Malformed:
    """RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3, from the handshake message body."""
    reader = _Reader(body)
    try:
        legacy = reader.number(2)
        random = reader.take(32)
        reader.vector(1)  # legacy_session_id_echo
        suite = reader.number(2)
        reader.take(1)  # compression method
        extensions: dict[int, bytes] = {}
        if reader.left:
            block = _Reader(reader.vector(2))
            while block.left:
                kind = block.number(2)
                extensions.setdefault(kind, block.vector(2))
    except _Short:
        return Malformed("truncated ServerHello")
    if legacy >> 8 != 3:
        return Malformed(f"ServerHello with version 0x{legacy:04x}")
    retry = random == HRR_RANDOM
    version = legacy
    if len(versions := extensions.get(43, b"")) == 2:
        version = int.from_bytes(versions, "big")
    elif retry:
        version = TLS13  # only a TLS 1.3 server produces this random
    share = extensions.get(51, b"")
    group = int.from_bytes(share[:2], "big") if len(share) >= 2 else None
    return ServerHello(version, suite, retry, group, legacy, tuple(extensions))


def _named_curve(body: bytes) -> int | None:
    """ServerKeyExchange for ECDHE: ECParameters with curve_type named_curve (3) (RFC 8422 §5.4)."""
    return int.from_bytes(body[1:3], "big") if len(body) >= 3 and body[0] == 3 else None


class HelloParser:
    """Feed it the server's bytes as they come; ``feed`` returns the answer once there is one (and the
    same answer after that), None while more bytes are needed. ``close`` gives the answer at EOF.

    With ``want_key_exchange`` a TLS 1.2-or-older ServerHello is held back until the ServerKeyExchange
    (or ServerHelloDone) arrives, so that ``ServerHello.group`` names the ECDHE curve."""

    def __init__(self, *, want_key_exchange: bool = False) -> None:
        self.want_key_exchange = want_key_exchange
        self._records = bytearray()
        self._handshake = bytearray()
        self._alert = bytearray()
        self._received = 0
        self._hello: ServerHello | None = None
        self._answer: Answer | None = None

    def feed(self, data: bytes) -> Answer | None:
        if self._answer is None:
            self._received += len(data)
            self._records += data
            self._answer = self._read_records()
            if self._answer is None and self._received > MAX_ANSWER:
                self._answer = Malformed(f"more than {MAX_ANSWER} bytes without a complete answer")
        return self._answer

    def close(self) -> Answer:
        if self._answer is not None:
            return self._answer
        if self._hello is not None:  # closed after the ServerHello: what we have is the answer
            return self._hello
        if self._received == 0:
            return Closed()
        return Malformed("the connection closed before the answer was complete")

    def _read_records(self) -> Answer | None:
        while self._records:
            head = self._records[:5]
            if head[0] not in (20, 21, 22, 23) or (len(head) > 1 and head[1] != 3):
                if self._received == len(self._records):  # the very first bytes
                    return NotTls(excerpt(bytes(self._records)))
                return Malformed(f"not a TLS record after {self._received - len(self._records)} bytes")
            if len(head) < 5:
                return None
            length = int.from_bytes(head[3:5], "big")
            if length > MAX_RECORD:
                return Malformed(f"a record of {length} bytes, longer than TLS allows")
            if len(self._records) < 5 + length:
                return None
            payload = bytes(self._records[5 : 5 + length])
            del self._records[: 5 + length]
            answer = self._record(head[0], payload)
            if answer is not None:
                return answer
        return None

    def _record(self, content_type: int, payload: bytes) -> Answer | None:
        if content_type == 21:
            self._alert += payload
            return Alert(self._alert[0], self._alert[1]) if len(self._alert) >= 2 else None
        if content_type == 22:
            self._handshake += payload
            return self._messages()
        if content_type == 23:
            return Malformed("application data before the handshake")
        return None  # change_cipher_spec: TLS 1.3 compatibility mode sends one after the ServerHello

    def _messages(self) -> Answer | None:
        while len(self._handshake) >= 4:
            kind = self._handshake[0]
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > MAX_ANSWER:
                return Malformed(f"a handshake message of {length} bytes")
            if len(self._handshake) < 4 + length:
                return None
            body = bytes(self._handshake[4 : 4 + length])
            del self._handshake[: 4 + length]
            answer = self._message(kind, body)
            if answer is not None:
                return answer
        return None

    def _message(self, kind: int, body: bytes) -> Answer | None:
        if self._hello is None:
            if kind == 0:  # hello_request: may be ignored (RFC 5246 §7.4.1.1)
                return None
            if kind != 2:
                return Malformed(f"handshake message {kind} where a ServerHello belongs")
            hello = parse_server_hello(body)
            if isinstance(hello, Malformed) or not self.want_key_exchange:
                return hello
            if hello.retry or hello.version >= TLS13:
                return hello
            self._hello = hello
            return None
        if kind == 11:  # certificate: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1> (RFC 5246 §7.4.2)
            self._hello = replace(self._hello, certificate=body[6 : 6 + int.from_bytes(body[3:6], "big")])
        if kind == 12:  # server_key_exchange
            return replace(self._hello, group=_named_curve(body))
        if kind == 14:  # server_hello_done: no ServerKeyExchange, so no ECDHE
            return self._hello
        return None  # certificate_status, certificate_request
