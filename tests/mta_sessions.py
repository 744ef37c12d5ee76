"""Recorded MTA scans for the MTA-server check tests: DNS answers, SMTP sessions and TLS scans, built from
a healthy default that each test changes in one or two fields."""

from __future__ import annotations

import base64
import datetime
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mimawari.check import registry
from mimawari.checks.email.mta import CHECKS
from mimawari.lookup import HttpRequest, HttpResponse, Response, Snapshot, replay
from mimawari.model import Finding, Status, Target
from mimawari.observations.mta import MTA, MtaObservation, smtp_request
from mimawari.probes import (
    GroupSupport,
    Reply,
    ServiceSession,
    StartTls,
    TlsHandshake,
    TlsScan,
    TlsScanRequest,
    VersionSupport,
)
from tests.helpers import finding, recorded

D = "example.test"
MOMENT = 1_767_225_600
"""2026-01-01 00:00 UTC: the scan's moment; certificates below are valid around it."""
TARGET = Target(D, observed_at=MOMENT)
INTRUSIVE = replace(TARGET, smuggling_recipient=f"postmaster@{D}")
MX1 = ("mx1.example.test", "192.0.2.25")
MX2 = ("mx2.example.test", "198.51.100.25")
MTA_CHECKS = registry(c for c in CHECKS if c.observer is MTA)
"""The checks that read the port-25 sessions; email.mta.tls_reports reads the senders' TLS reports instead
(tests/test_tls_reports_check.py)."""
Answers = dict[str, str | Sequence[str]]


def ok(code: int, text: str) -> Reply:
    return Reply(code, (text,))


@cache
def certificate(*names: str) -> tuple[bytes, bytes]:
    """A leaf for ``names`` (SAN) signed by a throw-away CA: (leaf DER, CA DER)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mimawari test CA")])
    start = datetime.datetime.fromtimestamp(MOMENT, datetime.UTC) - datetime.timedelta(days=10)
    end = start + datetime.timedelta(days=90)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    return leaf.public_bytes(der), ca.public_bytes(der)


def chain_of(*names: str) -> tuple[str, ...]:
    return tuple(base64.b64encode(der).decode() for der in certificate(*names))


def handshake(host: str, **changes: Any) -> TlsHandshake:
    good = TlsHandshake(
        Status.PRESENT,
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        chain_of(host),
        trusted=True,
        handshake_ms=12.0,
    )
    return replace(good, **changes)


def session(server: tuple[str, str] = MX1, target: Target = TARGET, **changes: Any) -> ServiceSession:
    """A healthy Postfix session with ``changes`` applied (field names of ``ServiceSession``)."""
    host, address = server
    request = smtp_request(target, host, address)
    good = ServiceSession(
        request,
        Status.PRESENT,
        connect_ms=20.0,
        greeting=ok(220, f"{host} ESMTP Postfix"),
        greeting_ms=30.0,
        capabilities=("PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"),
        capabilities_ms=15.0,
        vrfy=ok(252, "2.0.0 postmaster"),
        expn=ok(502, "5.5.2 Error: command not recognized"),
        relay_mail=ok(250, "2.1.0 Ok"),
        relay_rcpt=ok(554, "5.7.1 <relay-test@relay-target.example>: Relay access denied"),
        unknown_rcpt=ok(550, "5.1.1 Recipient address rejected: User unknown in local recipient table"),
        starttls_offered=True,
        starttls=ok(220, "2.0.0 Ready to start TLS"),
        tls=handshake(host),
        capabilities_tls=("PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "8BITMIME"),
    )
    return replace(good, **changes)


def timed_out(server: tuple[str, str] = MX1, target: Target = TARGET) -> ServiceSession:
    return ServiceSession(smtp_request(target, *server), Status.TIMEOUT, "no connection within 10 s")


def refused(server: tuple[str, str] = MX1, detail: str = "connection refused") -> ServiceSession:
    return ServiceSession(smtp_request(TARGET, *server), Status.ERROR, detail)


def scan(server: tuple[str, str] = MX1, **changes: Any) -> TlsScan:
    """A TLS scan that the NCSC-NL profile grades A on every count."""
    host, address = server
    good = TlsScan(
        TlsScanRequest(host, address, 25, StartTls.SMTP),
        Status.PRESENT,
        versions=(
            VersionSupport("TLSv1.3", Status.PRESENT, ("TLS_AES_256_GCM_SHA384",), server_order=None),
            VersionSupport(
                "TLSv1.2", Status.PRESENT, ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",), server_order=None
            ),
            VersionSupport("TLSv1.1", Status.ABSENT),
            VersionSupport("TLSv1.0", Status.ABSENT),
            VersionSupport("SSLv3", Status.ABSENT),
        ),
        groups=(GroupSupport("x25519", Status.PRESENT), GroupSupport("secp256r1", Status.PRESENT)),
        connections=8,
    )
    return replace(good, **changes)


def reverse_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer


def answers(*servers: tuple[str, str], ptr: Mapping[str, str | Sequence[str]] | None = None) -> Answers:
    """MX records of ``servers`` (MX1 and MX2 by default), their A records, and PTR records naming each
    host (forward-confirmed by those A records) unless ``ptr`` says otherwise for an address."""
    chosen = servers or (MX1, MX2)
    found: Answers = {f"{D} MX": [f"{10 * i} {host}." for i, (host, _a) in enumerate(chosen, 1)]}
    for host, address in chosen:
        found[f"{host} A"] = [address]
        found[f"{host} AAAA"] = "NODATA"
        found[f"{reverse_name(address)} PTR"] = (ptr or {}).get(address, [f"{host}."])
    return found


def snapshot(
    *probes: ServiceSession | TlsScan | HttpResponse,
    dns: Answers | None = None,
    target: Target = TARGET,
) -> Snapshot:
    """The scan of ``target`` that saw ``dns`` (default: MX1 and MX2) and the given probe results."""
    recorded_dns = recorded(D, dns if dns is not None else answers()).dns
    responses: list[Response] = [*recorded_dns, *probes]
    return Snapshot.of(target, responses)


def check(check_id: str, *probes: ServiceSession | TlsScan | HttpResponse, **options: Any) -> Finding:
    return finding(snapshot(*probes, **options), check_id, MTA_CHECKS)


def observe(*probes: ServiceSession | TlsScan | HttpResponse, **options: Any) -> MtaObservation:
    """The MTA observation the plan builds from the recorded scan."""
    snap = snapshot(*probes, **options)
    return replay(MTA.plan(snap.target), snap)


def policy_fetch(body: str, address: str = "192.0.2.80") -> HttpResponse:
    url = f"https://mta-sts.{D}/.well-known/mta-sts.txt"
    return HttpResponse(HttpRequest(url, address), Status.PRESENT, 200, "text/plain", body)


def sts_answers(*servers: tuple[str, str]) -> Answers:
    """``answers`` plus an MTA-STS record and the address of the policy host."""
    found = answers(*servers)
    found.update(
        {
            f"_mta-sts.{D} TXT": ["v=STSv1; id=20260101"],
            f"mta-sts.{D} A": ["192.0.2.80"],
            f"mta-sts.{D} AAAA": "NODATA",
        }
    )
    return found
