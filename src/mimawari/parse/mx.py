"""Pure helpers for MX, name server and reverse-DNS facts: record parsing, address scopes, PTR names.

Nothing here raises on hostile input: a record that does not parse is ``None``, an address that is
not one is ``AddressScope.INVALID``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from enum import StrEnum

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
from dns.rdtypes.ANY.MX import MX

# RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation prefixes. The lab publishes its "public" hosts
# there, so they count as public, not as the reserved space the ipaddress module calls them.
DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT


class AddressScope(StrEnum):
    """Where an address can be reached from; only PUBLIC is reachable by a sender on the internet."""

    PUBLIC = "public"
    PRIVATE = "private"  # RFC 1918, RFC 4193
    SHARED = "shared"  # RFC 6598
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    RESERVED = "reserved"  # unspecified, benchmarking, future use and other special-purpose space
    INVALID = "invalid"


def address_scope(text: str) -> AddressScope:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return AddressScope.INVALID
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in DOCUMENTATION):
        return AddressScope.PUBLIC
    if ip.is_loopback:
        return AddressScope.LOOPBACK
    if ip.is_link_local:
        return AddressScope.LINK_LOCAL
    if ip.is_multicast:
        return AddressScope.MULTICAST
    if any(ip in net for net in PRIVATE):
        return AddressScope.PRIVATE
    if ip in SHARED:
        return AddressScope.SHARED
    return AddressScope.PUBLIC if ip.is_global else AddressScope.RESERVED


def parse_mx(record: str) -> tuple[int, str] | None:
    """``(preference, exchange)`` of an MX record in presentation format; the exchange lower case
    without the trailing dot, ``"."`` for the root (a Null MX, RFC 7505). None when it does not parse."""
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, record)
    except (dns.exception.DNSException, ValueError):
        return None
    assert isinstance(rdata, MX)
    exchange = rdata.exchange.to_text(omit_final_dot=True).lower()
    return rdata.preference, exchange or "."


def mx_exchanges(records: Iterable[str]) -> tuple[str, ...]:
    """The exchanges of an MX RRset, most preferred first, each once: the hosts a sender tries. The Null
    MX (RFC 7505) and records that do not parse contribute none."""
    parsed = sorted(mx for mx in map(parse_mx, records) if mx is not None)
    return tuple(dict.fromkeys(exchange for _preference, exchange in parsed if exchange != "."))


def ip_literal(exchange: str) -> str | None:
    """The address when an MX or NS target is written as an IP address (``192.0.2.1`` or ``[192.0.2.1]``)
    instead of a host name: senders look it up as a name, which does not exist (RFC 5321 §5.1)."""
    text = exchange.rstrip(".").removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def reverse_name(address: str) -> str | None:
    """The PTR owner name of an address (``5.113.0.203.in-addr.arpa`` / ``…ip6.arpa``)."""
    try:
        return dns.reversename.from_address(address).to_text(omit_final_dot=True)
    except (dns.exception.DNSException, ValueError):
        return None


# Tokens ISPs and clouds put in the reverse names of pools of addresses (the spirit of
# draft-msullivan-dnsop-generic-naming-schemes): a mail server named like this looks like a home line.
GENERIC_TOKENS = frozenset(
    {
        "adsl",
        "broadband",
        "cable",
        "cpe",
        "customer",
        "cust",
        "dhcp",
        "dial",
        "dialup",
        "dsl",
        "dyn",
        "dynamic",
        "dynip",
        "fiber",
        "ftth",
        "nat",
        "pool",
        "ppp",
        "pppoe",
        "residential",
        "static",
        "unassigned",
        "vdsl",
        "wireless",
    }
)
_TOKEN = re.compile(r"[a-z]+|\d+")


def generic_ptr(name: str, address: str) -> str | None:
    """Why a PTR name looks generic (the address spelt inside it, or a pool keyword), or None."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    labels = name.lower().rstrip(".").split(".")
    host_part = ".".join(labels[:-2]) if len(labels) > 2 else labels[0]
    numbers = [int(t) for t in re.findall(r"\d+", host_part) if len(t) <= 3]
    if isinstance(ip, ipaddress.IPv4Address):
        octets = list(ip.packed)
        for sequence in (octets, octets[::-1]):
            if _contains(numbers, sequence):
                return f"the name contains the address {address}"
        if ip.packed.hex() in host_part.replace("-", ""):
            return f"the name contains the address {address} in hexadecimal"
    tokens = set(_TOKEN.findall(host_part))
    found = sorted(tokens & GENERIC_TOKENS)
    if found:
        return f"the name contains {', '.join(repr(t) for t in found)}"
    return None


def _contains(numbers: list[int], sequence: list[int]) -> bool:
    size = len(sequence)
    return any(numbers[i : i + size] == sequence for i in range(len(numbers) - size + 1))
