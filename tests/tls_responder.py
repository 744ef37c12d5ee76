"""A fake TLS server for the scan tests: reads ClientHellos, answers per a ``Behaviour``, never goes on.

It serves what real OpenSSL here cannot: SSLv3, RC4 and EXPORT suites, chosen orders and groups,
HelloRetryRequests, a server that refuses an empty key_share, one that stalls or answers out of turn.
Written apart from ``mimawari.observe.tls_hello`` (its own ClientHello parser and ServerHello writer) so
that the scanner is tested against an independent reading of the RFCs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field

from mimawari.parse.tls_suites import by_code

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304
X25519, SECP256R1, SECP384R1, X448 = 0x1D, 0x17, 0x18, 0x1E
HRR_RANDOM = hashlib.sha256(b"HelloRetryRequest").digest()


@dataclass(frozen=True)
class ClientHelloSeen:
    record_version: int
    legacy_version: int
    suites: tuple[int, ...]
    session_id: bytes = b""
    extensions: tuple[int, ...] = ()
    server_name: str | None = None
    versions: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    key_shares: dict[int, bytes] = field(default_factory=dict)
    length: int = 0
    """Length of the handshake message."""


def _u(data: bytes) -> int:
    return int.from_bytes(data, "big")


def parse_client_hello(record: bytes) -> ClientHelloSeen:
    """One record holding one ClientHello; raises ValueError (or IndexError) on anything else."""
    if record[0] != 22 or record[5] != 1:
        raise ValueError("not a ClientHello record")
    body = record[9 : 9 + _u(record[6:9])]
    at = 34
    session_id = body[at + 1 : at + 1 + body[at]]
    at += 1 + body[at]
    suites_end = at + 2 + _u(body[at : at + 2])
    suites = tuple(_u(body[i : i + 2]) for i in range(at + 2, suites_end, 2))
    at = suites_end + 1 + body[suites_end]
    seen = ClientHelloSeen(_u(record[1:3]), _u(body[0:2]), suites, session_id, length=len(body) + 4)
    if at >= len(body):
        return seen
    end = at + 2 + _u(body[at : at + 2])
    at += 2
    kinds: list[int] = []
    values: dict[int, bytes] = {}
    while at < end:
        kind, size = _u(body[at : at + 2]), _u(body[at + 2 : at + 4])
        kinds.append(kind)
        values[kind] = body[at + 4 : at + 4 + size]
        at += 4 + size
    sni = values.get(0)
    shares: dict[int, bytes] = {}
    share_block = values.get(51, b"\x00\x00")[2:]
    while share_block:
        group, size = _u(share_block[:2]), _u(share_block[2:4])
        shares[group] = share_block[4 : 4 + size]
        share_block = share_block[4 + size :]
    versions = values.get(43, b"\x00")[1:]
    groups = values.get(10, b"\x00\x00")[2:]
    return ClientHelloSeen(
        seen.record_version,
        seen.legacy_version,
        suites,
        session_id,
        tuple(kinds),
        sni[5:].decode() if sni else None,
        tuple(_u(versions[i : i + 2]) for i in range(0, len(versions), 2)),
        tuple(_u(groups[i : i + 2]) for i in range(0, len(groups), 2)),
        shares,
        seen.length,
    )


@dataclass(frozen=True)
class Behaviour:
    versions: frozenset[int] = frozenset({TLS12, TLS13})
    suites: tuple[int, ...] = (0x1302, 0x1301, 0xC02F, 0xC030)
    """Accepted suites in the server's order of preference (TLS 1.3 and older ones together)."""
    server_order: bool = True
    groups: tuple[int, ...] = (X25519, SECP256R1)
    """Accepted groups (TLS 1.3) and ECDHE curves (older), in the server's order of preference."""
    refuse: str = "alert"
    """How a hello with nothing acceptable is refused: ``alert`` or ``close``."""
    stall: bool = False
    """Never answer anything."""
    stall_versions: frozenset[int] = frozenset()
    """Never answer a hello whose highest offered version is one of these."""
    banner: bytes = b""
    """Answer any hello with these bytes (a server that does not speak TLS)."""
    empty_key_share_ok: bool = True
    """False: refuse a TLS 1.3 hello with an empty key_share (not RFC 8446 conformant, but seen)."""
    split: bool = False
    """Send each handshake message in its own record, a few bytes per write."""
    wrong_suite: int | None = None
    """Answer every hello with this suite, offered or not (a broken server)."""


def _vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _vec(body, 3)


def _record(kind: int, version: int, payload: bytes) -> bytes:
    return bytes([kind]) + version.to_bytes(2, "big") + _vec(payload, 2)


def _offered_max(hello: ClientHelloSeen, known13: bool) -> list[int]:
    """Versions the client offers, highest first; supported_versions only counts for a TLS 1.3 server."""
    if known13 and hello.versions:
        return sorted(hello.versions, reverse=True)
    return [v for v in (TLS12, TLS11, TLS10, SSL3) if v <= hello.legacy_version]


class TlsResponder:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.seen: list[ClientHelloSeen] = []
        self.connections = 0
        self.peak = 0
        self._open = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> TlsResponder:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        self.connections += 1
        self._open += 1
        self.peak = max(self.peak, self._open)
        try:
            header = await reader.readexactly(5)
            record = header + await reader.readexactly(_u(header[3:5]))
            hello = parse_client_hello(record)
            self.seen.append(hello)
            answer = self.answer(hello)
            for piece in answer or ():
                writer.write(piece)
                await writer.drain()
            if answer != []:  # [] closes at once; otherwise wait for the client to give up
                await reader.read()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            pass
        finally:
            self._open -= 1
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def answer(self, hello: ClientHelloSeen) -> list[bytes] | None:
        """The bytes to send (in pieces), or None to stall."""
        b = self.behaviour
        offered = _offered_max(hello, TLS13 in b.versions)
        if b.stall or (offered and offered[0] in b.stall_versions):
            return None
        if b.banner:
            return [b.banner]
        version = next((v for v in offered if v in b.versions), None)
        if version is None:
            return self._refuse(70)
        suite = b.wrong_suite if b.wrong_suite is not None else self._suite(hello, version)
        if suite is None:
            return self._refuse(40)
        if version == TLS13:
            return self._tls13(hello, suite)
        return self._tls12(hello, version, suite)

    def _refuse(self, description: int) -> list[bytes]:
        """An alert, or nothing at all: ``[]`` closes the connection."""
        return [] if self.behaviour.refuse == "close" else [_record(21, TLS10, bytes([2, description]))]

    def _mutual(self, server: tuple[int, ...], client: tuple[int, ...]) -> int | None:
        order = server if self.behaviour.server_order else client
        other = client if self.behaviour.server_order else server
        return next((item for item in order if item in other), None)

    def _suite(self, hello: ClientHelloSeen, version: int) -> int | None:
        def eligible(code: int) -> bool:
            suite = by_code(code)
            if suite is None or suite.tls13 != (version == TLS13):
                return False
            if version < TLS12 and suite.tls12_only:
                return False
            ecdhe = "ECDH" in suite.name and version < TLS13
            return (
                not ecdhe
                or self._mutual(self.behaviour.groups, hello.groups or self.behaviour.groups) is not None
            )

        usable = tuple(code for code in self.behaviour.suites if eligible(code))
        return self._mutual(usable, hello.suites)

    def _server_hello(
        self, hello: ClientHelloSeen, version: int, suite: int, extensions: bytes, random: bytes
    ) -> bytes:
        body = min(version, TLS12).to_bytes(2, "big") + random + _vec(hello.session_id, 1)
        body += suite.to_bytes(2, "big") + b"\x00" + (_vec(extensions, 2) if extensions else b"")
        return _handshake(2, body)

    def _tls13(self, hello: ClientHelloSeen, suite: int) -> list[bytes] | None:
        group = self._mutual(self.behaviour.groups, hello.groups)
        if group is None:
            return self._refuse(40)
        versions = (43).to_bytes(2, "big") + _vec(TLS13.to_bytes(2, "big"), 2)
        if group in hello.key_shares:
            share = (51).to_bytes(2, "big") + _vec(group.to_bytes(2, "big") + _vec(bytes(32), 2), 2)
            message = self._server_hello(hello, TLS13, suite, versions + share, bytes(range(32)))
        elif not hello.key_shares and not self.behaviour.empty_key_share_ok:
            return self._refuse(47)
        else:
            selected = (51).to_bytes(2, "big") + _vec(group.to_bytes(2, "big"), 2)
            message = self._server_hello(hello, TLS13, suite, versions + selected, HRR_RANDOM)
        return self._send(TLS12, [message])

    def _tls12(self, hello: ClientHelloSeen, version: int, suite: int) -> list[bytes]:
        messages = [
            self._server_hello(hello, version, suite, b"", bytes(range(32))),
            _handshake(11, _vec(b"", 3)),
        ]
        described = by_code(suite)
        if described is not None and described.kex in ("ECDHE", "anon") and "ECDH" in described.name:
            curve = self._mutual(self.behaviour.groups, hello.groups or self.behaviour.groups) or 0
            messages.append(
                _handshake(12, b"\x03" + curve.to_bytes(2, "big") + _vec(bytes(32), 1) + bytes(8))
            )
        messages.append(_handshake(14, b""))
        return self._send(version, messages)

    def _send(self, version: int, messages: list[bytes]) -> list[bytes]:
        if not self.behaviour.split:
            return [_record(22, version, b"".join(messages))]
        data = b"".join(_record(22, version, message) for message in messages)
        return [data[i : i + 7] for i in range(0, len(data), 7)]
