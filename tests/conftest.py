"""Test-wide fixtures. The network guard makes any non-loopback connection fail the test."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mimawari.lab import DnsLab, zones_from_yaml
from mimawari.lab.ca import LabCa
from mimawari.observe import DnsClient
from tests import realmail
from tests.realmail import RealDovecot, RealPostfix

pytest_plugins = ["tests.databases"]


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return isinstance(address, (str, bytes))  # AF_UNIX paths are local
    host = address[0]
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) == "localhost"


class NetworkGuardError(AssertionError):
    pass


@pytest.fixture(autouse=True)
def own_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The developer's own configuration and database never reach a test (nor the commands it runs)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for variable in ("MIMAWARI_CONFIG", "MIMAWARI_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the test suite may reach beyond 127.0.0.0/8 and ::1."""

    def guarded(name: str) -> Any:
        original = getattr(socket.socket, name)

        def check(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
            address = args[-1] if name == "sendto" else args[0]
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise NetworkGuardError(f"test tried to reach {address!r}: only loopback is allowed")
            return original(self, *args, **kwargs)

        return check

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, guarded(name))


BIG_TXT = ", ".join(f"'{'x' * 200}-{i}'" for i in range(8))
LAB_YAML = """
zones:
  example.test:
    records:
      "@":
        MX: 10 mx.example.test.
        TXT: v=spf1 -all
      www: {A: 127.0.0.80}
      alias: {CNAME: www.example.test.}
      far: {CNAME: target.other.test.}
      deep.empty: {A: 127.0.0.81}
      "*.wild": {TXT: wildcard}
      big: {TXT: [BIG]}
      _dmarc: {TXT: "v=DMARC1; p=reject"}
      slow: {A: 127.0.0.82}
      broken: {A: 127.0.0.83}
  other.test:
    records:
      target: {A: 127.0.0.90}
behaviour:
  slow.example.test: drop
  broken.example.test: servfail
""".replace("BIG", BIG_TXT)


@pytest.fixture
async def lab() -> AsyncIterator[DnsLab]:
    async with DnsLab(zones_from_yaml(LAB_YAML)) as server:
        yield server


@pytest.fixture
def client(lab: DnsLab) -> DnsClient:
    return DnsClient([lab.nameserver], timeout=1.0, attempts=2)


# Real Postfix and Dovecot from Debian's packages (tests/realmail.py), started once per test run.


@pytest.fixture(scope="session")
def real_ca() -> Iterator[LabCa]:
    with LabCa("mimawari real-server CA") as ca:
        yield ca


@pytest.fixture(scope="session")
def real_postfix(real_ca: LabCa) -> Iterator[RealPostfix]:
    yield from realmail.postfix_fixture(real_ca)


@pytest.fixture(scope="session")
def real_dovecot(real_ca: LabCa) -> Iterator[RealDovecot]:
    yield from realmail.dovecot_fixture(real_ca)
