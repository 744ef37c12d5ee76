"""The suite table, our ClientHellos and the parser of what servers say back, on hand-built bytes."""

from __future__ import annotations

import random
import ssl

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from mimawari.observe import tls_hello as th
from mimawari.parse.tls_suites import SUITES, by_code, by_name
from tests.tls_responder import parse_client_hello

# --- the suite table ------------------------------------------------------------------------------------


def test_suite_table_is_consistent() -> None:
    assert 150 <= len(SUITES) <= 300
    assert len({s.code for s in SUITES}) == len(SUITES)
    assert len({s.name for s in SUITES}) == len(SUITES)
    assert {s.name for s in SUITES if s.tls13} == {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
        "TLS_SM4_GCM_SM3",
        "TLS_SM4_CCM_SM3",
    }
    assert {s.mac for s in SUITES} == {"SHA", "SHA256", "SHA384", "MD5", "AEAD", "NULL"}


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", (0xC02F, "ECDHE", "RSA", "AES_128_GCM", "AEAD", False)),
        (
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            (0xCCA9, "ECDHE", "ECDSA", "CHACHA20_POLY1305", "AEAD", False),
        ),
        ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", (0x006B, "DHE", "RSA", "AES_256_CBC", "SHA256", False)),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", (0x000A, "RSA", "RSA", "3DES_EDE_CBC", "SHA", False)),
        ("TLS_RSA_WITH_RC4_128_MD5", (0x0004, "RSA", "RSA", "RC4_128", "MD5", False)),
        ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", (0x0003, "RSA", "RSA", "EXPORT_RC4_40", "MD5", False)),
        ("TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", (0x0014, "DHE", "RSA", "EXPORT_DES40_CBC", "SHA", False)),
        ("TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", (0x0062, "RSA", "RSA", "EXPORT1024_DES_CBC", "SHA", False)),
        ("TLS_DH_anon_WITH_AES_128_CBC_SHA", (0x0034, "anon", "anon", "AES_128_CBC", "SHA", False)),
        ("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", (0xC019, "anon", "anon", "AES_256_CBC", "SHA", False)),
        ("TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", (0xC00E, "ECDH", "RSA", "AES_128_CBC", "SHA", False)),
        ("TLS_DH_DSS_WITH_SEED_CBC_SHA", (0x0097, "DH", "DSS", "SEED_CBC", "SHA", False)),
        ("TLS_RSA_WITH_AES_128_CCM_8", (0xC0A0, "RSA", "RSA", "AES_128_CCM_8", "AEAD", False)),
        ("TLS_PSK_DHE_WITH_AES_128_CCM_8", (0xC0AA, "DHE_PSK", "PSK", "AES_128_CCM_8", "AEAD", False)),
        ("TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", (0xD005, "ECDHE_PSK", "PSK", "AES_128_CCM", "AEAD", False)),
        ("TLS_RSA_WITH_NULL_SHA256", (0x003B, "RSA", "RSA", "NULL", "SHA256", False)),
        ("TLS_NULL_WITH_NULL_NULL", (0x0000, "NULL", "NULL", "NULL", "NULL", False)),
        ("TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", (0xC01E, "SRP", "RSA", "AES_128_CBC", "SHA", False)),
        ("TLS_AES_128_CCM_8_SHA256", (0x1305, "any", "any", "AES_128_CCM_8", "AEAD", True)),
        ("TLS_CHACHA20_POLY1305_SHA256", (0x1303, "any", "any", "CHACHA20_POLY1305", "AEAD", True)),
    ],
)
def test_suite_fields(name: str, fields: tuple[object, ...]) -> None:
    suite = by_name(name)
    assert suite is not None
    assert (suite.code, suite.kex, suite.auth, suite.cipher, suite.mac, suite.tls13) == fields
    assert by_code(suite.code) == suite


def test_suite_lookups() -> None:
    assert by_code(0x1301) == by_name("TLS_AES_128_GCM_SHA256")
    assert by_name("SSL_RSA_WITH_RC4_128_MD5") == by_code(0x0004)
    assert by_code(0x00FF) is None  # the SCSV is a signal, not a suite
    assert by_name("TLS_NOT_A_SUITE") is None


def test_every_suite_openssl_knows_is_in_the_table() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    for cipher in context.get_ciphers():
        assert by_code(cipher["id"] & 0xFFFF) is not None, cipher["name"]


# --- ClientHellos -------------------------------------------------------------------------------------


def test_tls12_hello() -> None:
    record = th.client_hello(th.TLS12, [0xC02F, 0x009C], "mx.example.test")
    hello = parse_client_hello(record)
    assert (hello.record_version, hello.legacy_version) == (th.TLS10, th.TLS12)
    assert hello.suites == (0xC02F, 0x009C, th.RENEGOTIATION_SCSV)
    assert hello.server_name == "mx.example.test"
    assert hello.groups == th.EC_CURVES
    assert {0, 10, 11, 13} <= set(hello.extensions)
    assert 43 not in hello.extensions and 51 not in hello.extensions


def test_tls13_hello_has_real_key_shares() -> None:
    hello = parse_client_hello(th.client_hello(th.TLS13, [0x1301], "mx.example.test"))
    assert hello.legacy_version == th.TLS12 and hello.versions == (th.TLS13,)
    assert len(hello.session_id) == 32
    assert set(hello.key_shares) == {0x1D, 0x17}
    x25519.X25519PublicKey.from_public_bytes(hello.key_shares[0x1D])
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), hello.key_shares[0x17])
    for group in (0x1E, 0x18, 0x19):
        shares = parse_client_hello(th.client_hello(th.TLS13, [0x1301], groups=[group], key_shares=[group]))
        assert set(shares.key_shares) == {group}


def test_tls13_hello_with_chosen_groups_and_no_key_share() -> None:
    hello = parse_client_hello(th.client_hello(th.TLS13, [0x1301], "h.test", groups=[0x0100], key_shares=()))
    assert hello.groups == (0x0100,)
    assert 51 in hello.extensions and hello.key_shares == {}


def test_sni_is_omitted_for_ip_literals() -> None:
    for host in ("192.0.2.25", "2001:db8::25", "[2001:db8::25]", ""):
        assert parse_client_hello(th.client_hello(th.TLS12, [0xC02F], host)).server_name is None
    assert th.server_name("MX.Example.Test.") == b"MX.Example.Test"
    assert th.server_name("bücher.example") == b"xn--bcher-kva.example"


def test_sslv3_hello_has_no_extensions() -> None:
    record = th.client_hello(th.SSL3, [0x0005, 0x000A], "mx.example.test")
    hello = parse_client_hello(record)
    assert (hello.record_version, hello.legacy_version) == (th.SSL3, th.SSL3)
    assert hello.extensions == () and hello.suites[-1] == th.RENEGOTIATION_SCSV


def test_hellos_between_256_and_511_bytes_are_padded() -> None:
    for count in range(1, 120, 7):
        hello = parse_client_hello(th.client_hello(th.TLS12, list(range(1, count + 1)), "mx.example.test"))
        assert not 256 <= hello.length < 512, count


def test_suite_lists_are_split_to_fit() -> None:
    chunks = th.suite_chunks(list(range(300)))
    assert [len(c) for c in chunks] == [127, 127, 46]
    assert len(parse_client_hello(th.client_hello(th.TLS12, chunks[0])).suites) == th.MAX_SUITES
    with pytest.raises(ValueError, match="suites"):
        th.client_hello(th.TLS12, list(range(128)))


# --- parsing what comes back -------------------------------------------------------------------------


def _record(kind: int, payload: bytes, version: int = 0x0303) -> bytes:
    return bytes([kind]) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big") + payload


def _message(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def _server_hello(version: int, suite: int, extensions: bytes = b"", random_: bytes = b"\x11" * 32) -> bytes:
    body = version.to_bytes(2, "big") + random_ + b"\x20" + b"\x22" * 32 + suite.to_bytes(2, "big") + b"\x00"
    if extensions:
        body += len(extensions).to_bytes(2, "big") + extensions
    return _message(2, body)


SUPPORTED_13 = bytes.fromhex("002b00020304")
KEY_SHARE_X25519 = bytes.fromhex("00330024") + bytes.fromhex("001d0020") + bytes(32)
HRR_SECP384 = bytes.fromhex("003300020018")


def _parse(*chunks: bytes, want: bool = False) -> th.Answer:
    parser = th.HelloParser(want_key_exchange=want)
    for chunk in chunks:
        answer = parser.feed(chunk)
        if answer is not None:
            return answer
    return parser.close()


def test_tls12_server_hello() -> None:
    answer = _parse(_record(22, _server_hello(0x0303, 0xC02F)))
    assert answer == th.ServerHello(0x0303, 0xC02F, legacy_version=0x0303)


def test_tls13_server_hello_and_hello_retry_request() -> None:
    answer = _parse(_record(22, _server_hello(0x0303, 0x1302, SUPPORTED_13 + KEY_SHARE_X25519)))
    assert isinstance(answer, th.ServerHello)
    assert (answer.version, answer.cipher_suite, answer.retry, answer.group) == (
        th.TLS13,
        0x1302,
        False,
        0x1D,
    )
    retry = _parse(_record(22, _server_hello(0x0303, 0x1301, SUPPORTED_13 + HRR_SECP384, th.HRR_RANDOM)))
    assert isinstance(retry, th.ServerHello)
    assert (retry.version, retry.cipher_suite, retry.retry, retry.group) == (th.TLS13, 0x1301, True, 0x18)


def test_answer_split_across_chunks_and_records() -> None:
    message = _server_hello(0x0301, 0x002F)
    records = _record(22, message[:10], 0x0301) + _record(22, message[10:], 0x0301)
    answer = _parse(*(records[i : i + 1] for i in range(len(records))))
    assert answer == th.ServerHello(0x0301, 0x002F, legacy_version=0x0301)


def test_alerts() -> None:
    alert = _parse(_record(21, b"\x02\x46"))
    assert alert == th.Alert(2, 70) and isinstance(alert, th.Alert) and alert.name == "protocol_version"
    assert _parse(_record(21, b"\x02"), _record(21, b"\x28")) == th.Alert(2, 40)
    assert th.Alert(2, 200).name == "alert 200"


def test_not_tls() -> None:
    answer = _parse(b"554 5.7.1 mx.example.test: TLS not available\r\n")
    assert answer == th.NotTls("554 5.7.1 mx.example.test: TLS not available")
    assert _parse(b"HTTP/1.1 400 Bad Request\r\n\r\n") == th.NotTls("HTTP/1.1 400 Bad Request")
    assert _parse(b"\x16\x99") == th.NotTls("..")  # a handshake byte, then no TLS version


@pytest.mark.parametrize(
    ("chunks", "problem"),
    [
        ((_record(22, _server_hello(0x0303, 0xC02F))[:20],), "before the answer was complete"),
        ((b"\x16\x03\x03\xff\xff",), "longer than TLS allows"),
        ((_record(22, _message(2, b"\x03\x03" + bytes(20))),), "truncated ServerHello"),
        ((_record(22, _message(2, b"\x03\x03" + bytes(32) + b"\xff" + bytes(40))),), "truncated ServerHello"),
        ((_record(22, _message(11, b"\x00\x00\x00")),), "where a ServerHello belongs"),
        ((_record(22, _server_hello(0x0903, 0xC02F)),), "version 0x0903"),
        ((_record(23, b"hello"),), "application data"),
        ((_record(22, b"\x02\x00\x00\x50" + bytes(10)),), "before the answer was complete"),
        ((_record(22, b"\x02\xff\xff\xff"),), "a handshake message of"),
        ((_record(22, _server_hello(0x0303, 0xC02F)) + b"garbage",), None),
    ],
)
def test_malformed_answers(chunks: tuple[bytes, ...], problem: str | None) -> None:
    answer = _parse(*chunks)
    if problem is None:
        assert isinstance(answer, th.ServerHello)  # done at the ServerHello: what follows is not read
    else:
        assert isinstance(answer, th.Malformed) and problem in answer.detail, answer


def test_eof_before_anything_is_closed() -> None:
    assert th.HelloParser().close() == th.Closed()


def test_answer_sticks_once_given() -> None:
    parser = th.HelloParser()
    first = parser.feed(_record(21, b"\x02\x28"))
    assert parser.feed(b"more") == first == parser.close()


def test_key_exchange_curve_after_the_certificate() -> None:
    flight = (
        _server_hello(0x0303, 0xC02F)
        + _message(11, b"\x00\x00\x03" + b"abc")
        + _message(12, b"\x03\x00\x18" + b"\x20" + bytes(32))
        + _message(14, b"")
    )
    split = _record(22, flight[:30]) + _record(22, flight[30:])
    answer = _parse(*(split[i : i + 5] for i in range(0, len(split), 5)), want=True)
    assert isinstance(answer, th.ServerHello) and answer.group == 0x18
    rsa = _parse(
        _record(22, _server_hello(0x0303, 0x009C) + _message(11, b"") + _message(14, b"")), want=True
    )
    assert isinstance(rsa, th.ServerHello) and rsa.group is None
    cut = _parse(_record(22, _server_hello(0x0303, 0xC02F)), want=True)
    assert isinstance(cut, th.ServerHello) and cut.group is None  # closed after the ServerHello
    late = _parse(_record(22, _server_hello(0x0303, 0xC02F)) + _record(21, b"\x02\x28"), want=True)
    assert late == th.Alert(2, 40)


def test_endless_certificate_is_cut_off() -> None:
    parser = th.HelloParser(want_key_exchange=True)
    parser.feed(_record(22, _server_hello(0x0303, 0xC02F) + b"\x0b\x03\xff\xff"))
    answer = None
    for _ in range(40):
        answer = parser.feed(_record(22, bytes(16000)))
        if answer is not None:
            break
    assert isinstance(answer, th.Malformed) and "without a complete answer" in answer.detail


def test_random_bytes_never_raise() -> None:
    rng = random.Random(4)
    valid = [
        _record(22, _server_hello(0x0303, 0x1302, SUPPORTED_13 + KEY_SHARE_X25519)),
        _record(22, _server_hello(0x0303, 0xC02F) + _message(12, b"\x03\x00\x17")),
        _record(21, b"\x02\x28"),
    ]
    for _ in range(3000):
        base = bytearray(rng.choice(valid))
        for _ in range(rng.randrange(1, 6)):
            base[rng.randrange(len(base))] = rng.randrange(256)
        data = bytes(base[: rng.randrange(len(base) + 1)])
        parser = th.HelloParser(want_key_exchange=rng.random() < 0.5)
        cut = rng.randrange(len(data) + 1)
        answer = parser.feed(data[:cut]) or parser.feed(data[cut:]) or parser.close()
        assert isinstance(answer, (th.ServerHello, th.Alert, th.Closed, th.NotTls, th.Malformed))
