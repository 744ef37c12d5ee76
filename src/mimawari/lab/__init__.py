"""The lab: simulated organisations on loopback for the demo, the tests and the benchmarks (DESIGN rule 10)."""

from __future__ import annotations

from importlib.resources import files

import yaml

from mimawari.lab.dns import DnsLab
from mimawari.lab.world import Lab, LabConnection, LabScope, load_lab_files, read_lab_connection
from mimawari.lab.zones import LabZones, load_zone_file, zone_from_text, zones_from_yaml

__all__ = [
    "DnsLab",
    "Lab",
    "LabConnection",
    "LabScope",
    "LabZones",
    "demo_lab",
    "demo_targets",
    "load_lab_files",
    "load_zone_file",
    "read_lab_connection",
    "zone_from_text",
    "zones_from_yaml",
]


def _demo_text() -> str:
    return files("mimawari.lab").joinpath("demo.yaml").read_text(encoding="utf-8")


def demo_lab(*, host: str = "127.0.0.1", dns_port: int = 0) -> Lab:
    """The demo organisation (Kuroneko Trading) as a lab: DNS, signed zones and HTTPS sites."""
    return Lab.from_yaml(_demo_text(), host=host, dns_port=dns_port)


def demo_targets() -> list[str]:
    targets: list[str] = yaml.safe_load(_demo_text())["targets"]
    return targets
