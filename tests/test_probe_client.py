"""The probe client's parts that need no mail server: scope, endpoint map, replies, trust judgement."""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import AsyncIterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mimawari.lab.ca import CertMode, LabCa
from mimawari.model import Status
from mimawari.observe.mail import Conversation
from mimawari.observe.scope import Scope
from mimawari.observe.tcp import Connector, ProbeFailure, endpoint_key, split_endpoint
from mimawari.observe.tls import TrustStore


def _der(path: str) -> bytes:
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def ca() -> LabCa:
    return LabCa()


@pytest.mark.parametrize(
    ("mode", "trusted", "detail"),
    [
        (CertMode.VALID, True, ""),
        (CertMode.WRONG_NAME, True, ""),  # the name is the checks' question, not the chain's
        (CertMode.EXPIRED, False, "certificate has expired"),
        (CertMode.SELF_SIGNED, False, "self-signed certificate"),
    ],
)
def test_trust_store_judges_the_chain_apart_from_the_name(
    ca: LabCa, mode: CertMode, trusted: bool, detail: str
) -> None:
    leaf = _der(ca.issue("mx.kuroneko.example", mode).cert_file)
    verdict, why = TrustStore(ca.ca_file).judge([leaf], int(time.time()))
    assert verdict is trusted
    assert why.startswith(detail)


def test_trust_store_without_the_lab_ca_does_not_trust_lab_certificates(ca: LabCa) -> None:
    leaf = _der(ca.issue("mx.kuroneko.example").cert_file)
    verdict, why = TrustStore().judge([leaf], int(time.time()))
    assert verdict is False
    assert why


def test_trust_store_that_cannot_be_read_says_so() -> None:
    verdict, why = TrustStore("/nonexistent/ca.pem").judge([b"x"], 0)
    assert verdict is None
    assert "no trust store" in why


def test_endpoint_keys_round_trip() -> None:
    assert endpoint_key("2001:db8::25", 25) == "[2001:db8::25]:25"
    assert split_endpoint("[2001:db8::25]:25") == ("2001:db8::25", 25)
    assert split_endpoint("127.0.0.1:40123") == ("127.0.0.1", 40123)


def test_connector_refuses_out_of_scope_and_unmapped_lab_endpoints() -> None:
    public = Connector()
    with pytest.raises(ProbeFailure, match="loopback"):
        public.destination("127.0.0.1", 25)
    lab = Connector(
        scope=Scope(allow_loopback=True, allow_private=True),
        endpoint_map={"192.168.0.25:25": "127.0.0.1:4025"},
        closed_unmapped=True,
    )
    assert lab.destination("192.168.0.25", 25) == ("127.0.0.1", 4025)
    with pytest.raises(ProbeFailure, match="refused") as failure:
        lab.destination("192.168.0.26", 25)
    assert failure.value.status is Status.ERROR
    moved = Connector(scope=Scope(allow_loopback=True), port_map={25: 2525})
    assert moved.destination("127.0.0.1", 25) == ("127.0.0.1", 2525)


async def test_connection_refused_is_an_error_value() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    connector = Connector(scope=Scope(allow_loopback=True), timeout=2)
    with pytest.raises(ProbeFailure, match="refused") as failure:
        await connector.open("127.0.0.1", port)
    assert failure.value.status is Status.ERROR


async def _talk(script: bytes) -> AsyncIterator[Conversation]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(script)
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connector = Connector(scope=Scope(allow_loopback=True), timeout=2)
    stream = await connector.open("127.0.0.1", port)
    try:
        yield Conversation(stream, 0.5)
    finally:
        await stream.close()
        server.close()
        await server.wait_closed()


async def test_multiline_smtp_reply_is_read_whole() -> None:
    async for talk in _talk(b"250-mx.example\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"):
        reply = await talk.smtp_reply()
        assert reply.code == 250
        assert reply.lines == ("mx.example", "STARTTLS", "SIZE 1000")


async def test_garbage_instead_of_a_reply_is_an_error() -> None:
    async for talk in _talk(b"HTTP/1.1 400 Bad Request\r\n"):
        with pytest.raises(ProbeFailure, match="not an SMTP reply") as failure:
            await talk.smtp_reply()
        assert failure.value.status is Status.ERROR


async def test_silence_is_a_timeout() -> None:
    async for talk in _talk(b""):
        with pytest.raises(ProbeFailure) as failure:
            await talk.smtp_reply()
        assert failure.value.status is Status.TIMEOUT


async def test_a_network_the_scanner_cannot_reach_is_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    # A scanner without an IPv6 route must not call every IPv6 MX address a server that refuses mail.
    async def no_route(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(asyncio, "open_connection", no_route)
    connector = Connector(scope=Scope(allow_loopback=True), timeout=2)
    with pytest.raises(ProbeFailure, match="unreachable from this scanner") as failure:
        await connector.open("::1", 25)
    assert failure.value.status is Status.TIMEOUT
