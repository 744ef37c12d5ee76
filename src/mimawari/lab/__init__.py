"""The lab: simulated organisations on loopback for the demo, the tests and the benchmarks (DESIGN rule 10)."""

from __future__ import annotations

from importlib.resources import files

import yaml

from mimawari.lab.dns import DnsLab
from mimawari.lab.zones import LabZones, load_zone_file, zone_from_text, zones_from_yaml

__all__ = [
    "DnsLab",
    "LabZones",
    "demo_targets",
    "demo_zones",
    "load_zone_file",
    "zone_from_text",
    "zones_from_yaml",
]


def _demo_text() -> str:
    return files("mimawari.lab").joinpath("demo.yaml").read_text(encoding="utf-8")


def demo_zones() -> LabZones:
    return zones_from_yaml(_demo_text())


def demo_targets() -> list[str]:
    targets: list[str] = yaml.safe_load(_demo_text())["targets"]
    return targets
