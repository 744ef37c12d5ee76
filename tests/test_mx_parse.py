"""Pure MX helpers: record parsing, address scopes, IP literals, reverse names, generic PTR names."""

from __future__ import annotations

import pytest

from mimawari.parse.mx import AddressScope, address_scope, generic_ptr, ip_literal, parse_mx, reverse_name


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("192.0.2.10", AddressScope.PUBLIC),  # RFC 5737: public in the lab's convention
        ("198.51.100.7", AddressScope.PUBLIC),
        ("203.0.113.255", AddressScope.PUBLIC),
        ("2001:db8::25", AddressScope.PUBLIC),  # RFC 3849
        ("8.8.8.8", AddressScope.PUBLIC),
        ("2a00:1450::1", AddressScope.PUBLIC),
        ("10.1.2.3", AddressScope.PRIVATE),
        ("172.16.0.1", AddressScope.PRIVATE),
        ("172.32.0.1", AddressScope.PUBLIC),
        ("192.168.1.1", AddressScope.PRIVATE),
        ("fd00::1", AddressScope.PRIVATE),
        ("100.64.0.1", AddressScope.SHARED),
        ("127.0.0.1", AddressScope.LOOPBACK),
        ("::1", AddressScope.LOOPBACK),
        ("169.254.1.1", AddressScope.LINK_LOCAL),
        ("fe80::1", AddressScope.LINK_LOCAL),
        ("224.0.0.1", AddressScope.MULTICAST),
        ("0.0.0.0", AddressScope.RESERVED),
        ("240.0.0.1", AddressScope.RESERVED),
        ("198.18.0.1", AddressScope.RESERVED),
        ("::ffff:10.0.0.1", AddressScope.PRIVATE),  # IPv4-mapped is judged as the IPv4 address
        ("not-an-address", AddressScope.INVALID),
        ("", AddressScope.INVALID),
        ("999.1.1.1", AddressScope.INVALID),
    ],
)
def test_address_scope(address: str, scope: AddressScope) -> None:
    assert address_scope(address) is scope


@pytest.mark.parametrize(
    ("record", "parsed"),
    [
        ("10 mx1.example.test.", (10, "mx1.example.test")),
        ("0 MX.Example.TEST.", (0, "mx.example.test")),
        ("0 .", (0, ".")),
        ("10 .", (10, ".")),
        ("65535 a.", (65535, "a")),
        ("65536 a.", None),
        ("-1 a.", None),
        ("ten mx.example.test.", None),
        ("", None),
        ("10", None),
        ("10 a..b.", None),
        ("10 " + "x" * 64 + ".example.", None),
    ],
)
def test_parse_mx(record: str, parsed: tuple[int, str] | None) -> None:
    assert parse_mx(record) == parsed


@pytest.mark.parametrize(
    ("exchange", "literal"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1.", "192.0.2.1"),
        ("[192.0.2.1]", "192.0.2.1"),
        ("mx.example.test", None),
        ("192.0.2", None),
        ("1.2.3.4.example", None),
        (".", None),
    ],
)
def test_ip_literal(exchange: str, literal: str | None) -> None:
    assert ip_literal(exchange) == literal


def test_reverse_names() -> None:
    assert reverse_name("203.0.113.5") == "5.113.0.203.in-addr.arpa"
    assert reverse_name("2001:db8::25") == (
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    )
    assert reverse_name("bogus") is None
    assert reverse_name("") is None


@pytest.mark.parametrize(
    ("name", "address", "generic"),
    [
        ("mx1.example.test", "203.0.113.5", False),
        ("mail.example.test", "203.0.113.5", False),
        ("203-0-113-5.dsl.isp.example", "203.0.113.5", True),
        ("5.113.0.203.static.isp.example", "203.0.113.5", True),
        ("ec2-203-0-113-5.compute-1.cloud.example", "203.0.113.5", True),
        ("host203x0x113x5.isp.example", "203.0.113.5", True),
        ("cb007105.isp.example", "203.0.113.5", True),  # hexadecimal
        ("dynamic-pool-17.isp.example", "203.0.113.5", True),
        ("ppp17.isp.example", "203.0.113.5", True),
        ("mx-113.example.test", "203.0.113.5", False),  # one octet alone is not the address
        ("dslr-camera.example.test", "203.0.113.5", False),  # token must match whole
        ("mailhost.example.test", "2001:db8::25", False),
        ("mx.pooling.example", "2001:db8::25", False),  # only the labels left of the registered domain
        ("x.pool.isp.example", "2001:db8::25", True),
        ("anything", "not-an-ip", False),
        ("", "203.0.113.5", False),
    ],
)
def test_generic_ptr(name: str, address: str, generic: bool) -> None:
    assert (generic_ptr(name, address) is not None) is generic
