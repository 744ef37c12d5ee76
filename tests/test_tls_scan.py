"""The TLS configuration scan against real OpenSSL servers and the fake responder, all on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

from mimawari.lab.ca import LabCa
from mimawari.model import Status
from mimawari.observe import tls_hello as th
from mimawari.observe.tcp import ProbeFailure
from mimawari.observe.tls_scan import Opener, scan_tls
from mimawari.parse.tls_suites import by_code, by_name
from mimawari.probes import TLS_VERSIONS, TlsScan, TlsScanRequest
from tests.tls_responder import SSL3, TLS10, TLS11, TLS12, TLS13, Behaviour, TlsResponder

HOST = "mx.example.test"
Preamble = Callable[[socket.socket], bool]


class OpenSslServer:
    """Python's ``ssl`` (OpenSSL 3) answering on 127.0.0.1, a thread per connection, so that each probe
    meets a real server-side handshake (which sends its alerts, unlike asyncio's TLS transport)."""

    def __init__(self, context: ssl.SSLContext, preamble: Preamble | None = None) -> None:
        self.context = context
        self.preamble = preamble
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(connection,), daemon=True).start()

    def _handshake(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        try:
            if self.preamble is None or self.preamble(connection):
                with self.context.wrap_socket(connection, server_side=True):
                    pass
        except (OSError, ValueError):
            pass
        finally:
            connection.close()

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(2)


@pytest.fixture(scope="module")
def lab_ca() -> Iterator[LabCa]:
    with LabCa() as ca:
        yield ca


def server_context(ca: LabCa, *, oldest: ssl.TLSVersion | None = None, ciphers: str = "") -> ssl.SSLContext:
    leaf = ca.issue(HOST)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf.cert_file, leaf.key_file)
    if oldest is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated, on purpose
            context.minimum_version = oldest
    if ciphers:
        context.set_ciphers(ciphers)
    return context


@contextlib.contextmanager
def openssl(context: ssl.SSLContext, preamble: Preamble | None = None) -> Iterator[OpenSslServer]:
    server = OpenSslServer(context, preamble)
    try:
        yield server
    finally:
        server.close()


def request(port: int, host: str = HOST) -> TlsScanRequest:
    return TlsScanRequest(host, "127.0.0.1", port)


def version(scan: TlsScan, name: str) -> tuple[Status, tuple[str, ...], bool | None]:
    (found,) = (v for v in scan.versions if v.version == name)
    return found.status, found.ciphers, found.server_order


def groups(scan: TlsScan, status: Status = Status.PRESENT) -> list[str]:
    return [g.group for g in scan.groups if g.status is status]


def expected_suites(context: ssl.SSLContext, protocol_version: int) -> list[str]:
    """What a server with an ECDSA certificate and no DH parameters can use, in its order."""
    names = []
    for cipher in context.get_ciphers():
        suite = by_code(cipher["id"] & 0xFFFF)
        assert suite is not None
        if suite.tls13 != (protocol_version == TLS13):
            continue
        if protocol_version < TLS12 and suite.tls12_only:
            continue
        if (
            suite.tls13
            or (suite.kex, suite.auth) == ("ECDHE", "ECDSA")
            or suite.name.startswith("TLS_ECDH_anon")
        ):
            names.append(suite.name)
    return names


# --- real OpenSSL -------------------------------------------------------------------------------------


async def test_tls12_and_tls13_server(lab_ca: LabCa) -> None:
    context = server_context(lab_ca)
    with openssl(context) as server:
        started = time.perf_counter()
        scan = await scan_tls(request(server.port), server.open, timeout=2.0)
        elapsed = time.perf_counter() - started
    assert scan.status is Status.PRESENT and scan.detail == ""
    assert [v.version for v in scan.versions] == list(TLS_VERSIONS)
    for name in ("SSLv3", "TLSv1.0", "TLSv1.1"):
        assert version(scan, name)[0] is Status.ABSENT
    # Python's server contexts set OP_CIPHER_SERVER_PREFERENCE: the order found is OpenSSL's own.
    assert version(scan, "TLSv1.2") == (Status.PRESENT, tuple(expected_suites(context, TLS12)), True)
    assert version(scan, "TLSv1.3") == (Status.PRESENT, tuple(expected_suites(context, TLS13)), True)
    openssl_default = ["x25519", "secp256r1", "x448", "secp521r1", "secp384r1"]
    assert groups(scan) == [*openssl_default, "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"]
    assert groups(scan, Status.ABSENT) == ["X25519MLKEM768"]
    assert scan.connections <= 32 and elapsed < 5


async def test_tls10_to_tls13_server(lab_ca: LabCa) -> None:
    context = server_context(lab_ca, oldest=ssl.TLSVersion.TLSv1, ciphers="ALL:@SECLEVEL=0")
    with openssl(context) as server:
        scan = await scan_tls(request(server.port), server.open, timeout=2.0)
    assert version(scan, "SSLv3")[0] is Status.ABSENT  # OpenSSL 3 is built without SSLv3
    for name, wire in (("TLSv1.0", TLS10), ("TLSv1.1", TLS11), ("TLSv1.2", TLS12), ("TLSv1.3", TLS13)):
        status, ciphers, server_order = version(scan, name)
        assert status is Status.PRESENT, name
        assert list(ciphers) == expected_suites(context, wire), name
        assert server_order is True
    assert "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" in version(scan, "TLSv1.0")[1]  # aNULL: what ALL allows
    assert scan.detail == ""


async def test_restricted_cipher_list_tls12_only(lab_ca: LabCa) -> None:
    context = server_context(lab_ca, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA")
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with openssl(context) as server:
        scan = await scan_tls(request(server.port), server.open, timeout=2.0)
    expected = ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA")
    assert version(scan, "TLSv1.2") == (Status.PRESENT, expected, True)
    assert version(scan, "TLSv1.3")[0] is Status.ABSENT
    # TLS 1.2 curves: the certificate's P-256 must be offered along (RFC 8422 §5.1); OpenSSL prefers it
    # to x448 and the larger NIST curves, so those cannot be seen, and say why.
    assert groups(scan)[:2] == ["x25519", "secp256r1"]
    hidden = {g.group: g.detail for g in scan.groups if g.status is Status.ABSENT}
    assert "secp256r1" in hidden["x448"] and "certificate" in hidden["x448"]


async def test_client_order_server(lab_ca: LabCa) -> None:
    context = server_context(lab_ca, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA")
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    with openssl(context) as server:
        scan = await scan_tls(request(server.port), server.open, timeout=2.0)
    status, ciphers, server_order = version(scan, "TLSv1.2")
    assert status is Status.PRESENT and server_order is False
    assert set(ciphers) == {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"}
    assert version(scan, "TLSv1.3")[2] is False
    # OpenSSL picks a HelloRetryRequest's group by its own list, whatever OP_CIPHER_SERVER_PREFERENCE says.
    assert groups(scan)[:5] == ["x25519", "secp256r1", "x448", "secp521r1", "secp384r1"]


async def test_one_curve_server_answers_with_hello_retry_requests(lab_ca: LabCa) -> None:
    context = server_context(lab_ca)
    context.set_ecdh_curve("secp384r1")  # OpenSSL 3: the only group, for TLS 1.2 and 1.3 alike
    with openssl(context) as server:
        scan = await scan_tls(request(server.port), server.open, timeout=2.0)
    assert version(scan, "TLSv1.3")[0] is Status.PRESENT  # our key shares are x25519 and P-256: HRR
    assert groups(scan) == ["secp384r1"]


async def test_starttls_opener(lab_ca: LabCa) -> None:
    def smtp(connection: socket.socket) -> bool:
        connection.sendall(b"220 mx.example.test ESMTP\r\n")
        line = connection.recv(100)
        connection.sendall(b"220 2.0.0 Ready to start TLS\r\n" if line == b"STARTTLS\r\n" else b"500 no\r\n")
        return line == b"STARTTLS\r\n"

    async def opener(port: int, command: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readline()
        writer.write(command)
        reply = await reader.readline()
        if not reply.startswith(b"220"):
            writer.close()
            raise ConnectionError(f"STARTTLS refused: {reply.decode().strip()}")
        return reader, writer

    with openssl(server_context(lab_ca), smtp) as server:
        scan = await scan_tls(request(server.port), lambda: opener(server.port, b"STARTTLS\r\n"), timeout=2.0)
        refused = await scan_tls(
            request(server.port), lambda: opener(server.port, b"STARTTSL\r\n"), timeout=2.0
        )
    assert [v.version for v in scan.accepted()] == ["TLSv1.2", "TLSv1.3"]
    assert (refused.status, refused.detail, refused.connections) == (
        Status.ERROR,
        "STARTTLS refused: 500 no",
        1,
    )


# --- the responder: what OpenSSL here cannot serve ---------------------------------------------------


async def scan_responder(
    behaviour: Behaviour, *, timeout: float = 2.0, concurrency: int = 2, max_connections: int = 80
) -> tuple[TlsScan, TlsResponder]:
    async with TlsResponder(behaviour) as responder:
        scan = await scan_tls(
            request(responder.port),
            responder.open,
            timeout=timeout,
            concurrency=concurrency,
            max_connections=max_connections,
        )
    return scan, responder


async def test_sslv3_rc4_export_in_client_order() -> None:
    suites = ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA")
    codes = tuple(s.code for name in suites if (s := by_name(name)) is not None)
    scan, responder = await scan_responder(
        Behaviour(versions=frozenset({SSL3, TLS10}), suites=codes, server_order=False)
    )
    ours = ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5")
    assert version(scan, "SSLv3") == (Status.PRESENT, ours, False)
    assert version(scan, "TLSv1.0") == (Status.PRESENT, ours, False)
    assert version(scan, "TLSv1.1")[0] is Status.ABSENT
    (tls11,) = (v for v in scan.versions if v.version == "TLSv1.1")
    assert tls11.detail == "the server answered TLSv1.0"
    assert version(scan, "TLSv1.3")[0] is Status.ABSENT
    assert groups(scan) == []  # no ECDHE suite: every curve refused
    sslv3 = [hello for hello in responder.seen if hello.legacy_version == SSL3]
    assert sslv3 and all(hello.extensions == () for hello in sslv3)


async def test_hellos_stay_within_limits() -> None:
    scan, responder = await scan_responder(Behaviour())
    assert scan.status is Status.PRESENT
    assert responder.seen and scan.connections == responder.connections == len(responder.seen)
    for hello in responder.seen:
        assert len(hello.suites) <= th.MAX_SUITES and hello.suites[-1] == th.RENEGOTIATION_SCSV
        assert hello.server_name == (HOST if hello.legacy_version > SSL3 else None)
        assert (
            th.RENEGOTIATION_SCSV not in hello.suites[:-1] and 0x5600 not in hello.suites
        )  # no FALLBACK_SCSV


async def test_ip_literal_host_sends_no_sni() -> None:
    async with TlsResponder() as responder:
        await scan_tls(request(responder.port, host="192.0.2.25"), responder.open)
    assert {hello.server_name for hello in responder.seen} == {None}


@pytest.mark.parametrize("split", [False, True])
async def test_server_order_groups_and_split_records(split: bool) -> None:
    behaviour = Behaviour(groups=(th.GROUP_CODES["secp384r1"], th.GROUP_CODES["x25519"]), split=split)
    scan, _ = await scan_responder(behaviour)
    assert version(scan, "TLSv1.3") == (
        Status.PRESENT,
        ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"),
        True,
    )
    assert version(scan, "TLSv1.2")[1] == (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    )
    assert groups(scan) == ["secp384r1", "x25519"]


async def test_tls12_curves_when_tls13_is_missing() -> None:
    curves = (th.GROUP_CODES["secp521r1"], th.GROUP_CODES["brainpoolP256r1"], th.GROUP_CODES["x25519"])
    scan, _ = await scan_responder(Behaviour(versions=frozenset({TLS12}), groups=curves))
    assert groups(scan) == ["secp521r1", "brainpoolP256r1", "x25519"]
    assert len(scan.groups) == len(th.EC_CURVES)


async def test_server_refusing_an_empty_key_share() -> None:
    behaviour = Behaviour(groups=(th.GROUP_CODES["x448"], th.GROUP_CODES["x25519"]), empty_key_share_ok=False)
    scan, _ = await scan_responder(behaviour)
    assert version(scan, "TLSv1.3")[0] is Status.PRESENT
    assert groups(scan) == ["x25519", "x448"]  # one group at a time, with our key shares


async def test_refusal_by_closing_the_connection() -> None:
    scan, _ = await scan_responder(Behaviour(refuse="close", versions=frozenset({TLS13})))
    assert scan.status is Status.PRESENT
    assert version(scan, "TLSv1.2")[0] is Status.ABSENT
    assert version(scan, "TLSv1.3")[0] is Status.PRESENT


async def test_suites_beyond_the_first_hello_keep_the_server_order() -> None:
    rare = [
        by_name(n)
        for n in ("TLS_PSK_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_NULL_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA")
    ]
    codes = tuple(s.code for s in rare if s is not None)
    scan, _ = await scan_responder(Behaviour(versions=frozenset({TLS12}), suites=codes))
    status, ciphers, server_order = version(scan, "TLSv1.2")
    assert (status, server_order) == (Status.PRESENT, True)
    assert ciphers == (
        "TLS_PSK_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_NULL_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    )


async def test_a_version_that_times_out_is_timeout_not_absent() -> None:
    behaviour = Behaviour(
        versions=frozenset({TLS10, TLS12}), suites=(0xC013,), stall_versions=frozenset({TLS11})
    )
    scan, _ = await scan_responder(behaviour, timeout=0.3)
    assert scan.status is Status.PRESENT
    assert version(scan, "TLSv1.1")[0] is Status.TIMEOUT
    assert version(scan, "TLSv1.0")[0] is Status.PRESENT


async def test_a_server_choosing_what_was_not_offered() -> None:
    scan, responder = await scan_responder(Behaviour(wrong_suite=0xC02F))
    tls12, tls13 = scan.versions[3:]
    assert tls12.status is Status.PRESENT and tls12.ciphers == ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",)
    assert tls12.detail == "suite list incomplete: the server chose 0xC02F, which was not offered"
    assert tls13.status is Status.ERROR and "not offered" in tls13.detail
    assert responder.connections < 20


# --- failures and politeness --------------------------------------------------------------------------


async def test_stalling_server_is_a_timeout_within_the_timeout() -> None:
    started = time.perf_counter()
    scan, _ = await scan_responder(Behaviour(stall=True), timeout=0.3)
    assert time.perf_counter() - started < 1.5
    assert (scan.status, scan.connections, scan.versions) == (Status.TIMEOUT, 1, ())
    assert "0.3 s" in scan.detail


async def test_not_tls_is_an_error() -> None:
    scan, _ = await scan_responder(Behaviour(banner=b"554 5.7.1 go away\r\n"))
    assert scan.status is Status.ERROR and "554 5.7.1 go away" in scan.detail


async def test_a_server_that_closes_every_connection_is_an_error() -> None:
    scan, _ = await scan_responder(Behaviour(versions=frozenset(), refuse="close"))
    assert scan.status is Status.ERROR and "no ClientHello got a TLS answer" in scan.detail


async def test_refused_and_failing_openers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    refused = await scan_tls(request(port), lambda: asyncio.open_connection("127.0.0.1", port))
    assert (refused.status, refused.detail, refused.connections) == (Status.ERROR, "connection refused", 1)

    async def timing_out() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise TimeoutError("no connection within 5 s")

    async def out_of_scope() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise ProbeFailure(Status.ERROR, "192.0.2.1 is not in scope")

    async def hanging() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await asyncio.Event().wait()
        raise AssertionError

    cases: list[tuple[Opener, Status, str]] = [
        (timing_out, Status.TIMEOUT, "no connection within 5 s"),
        (out_of_scope, Status.ERROR, "192.0.2.1 is not in scope"),
        (hanging, Status.TIMEOUT, "no connection within 0.4 s"),
    ]
    for opener, status, detail in cases:
        scan = await scan_tls(request(1), opener, timeout=0.1)
        assert (scan.status, scan.detail) == (status, detail)


async def test_connection_limit() -> None:
    scan, responder = await scan_responder(Behaviour(), max_connections=6)
    assert scan.status is Status.PRESENT and scan.connections == responder.connections == 6
    assert "stopped at 6 connections" in scan.detail


@pytest.mark.parametrize("concurrency", [1, 2, 3])
async def test_concurrency_is_respected(concurrency: int) -> None:
    scan, responder = await scan_responder(Behaviour(), concurrency=concurrency)
    assert responder.peak <= concurrency
    assert scan.status is Status.PRESENT
