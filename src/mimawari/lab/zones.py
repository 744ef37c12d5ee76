"""Lab zones, written as zone-file text or as YAML, and the lab's misbehaviours.

YAML form (one document may hold many zones)::

    zones:
      kuroneko.example:
        ttl: 300                       # optional, default 300
        records:
          "@":
            MX: 10 mx1.kuroneko.example.
            TXT: v=spf1 -all           # TXT values are plain text; quoting and 255-byte splitting is done
          _dmarc:
            TXT: [v=DMARC1; p=none]    # one value or a list
    behaviour:                         # optional: names the lab mistreats, for tests and demos
      _dmarc.slow.example: drop        # never answered (the client times out)
      _dmarc.broken.example: servfail

SOA and NS records are added to a zone's apex when the zone does not give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import dns.exception
import dns.name
import dns.zone
import yaml

from mimawari.errors import ZoneError

DEFAULT_TTL = 300


class Behaviour(StrEnum):
    DROP = "drop"
    SERVFAIL = "servfail"
    REFUSED = "refused"


@dataclass(frozen=True)
class LabZones:
    zones: tuple[dns.zone.Zone, ...]
    behaviour: Mapping[dns.name.Name, Behaviour] = field(default_factory=dict)

    def __add__(self, other: LabZones) -> LabZones:
        return LabZones(self.zones + other.zones, {**self.behaviour, **other.behaviour})

    @property
    def origins(self) -> list[str]:
        return [zone.origin.to_text(omit_final_dot=True) for zone in self.zones if zone.origin is not None]


def zone_from_text(text: str, origin: str | None = None) -> dns.zone.Zone:
    """A zone from zone-file text; ``origin`` is needed unless the text has ``$ORIGIN``."""
    try:
        return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    except (dns.exception.DNSException, ValueError, KeyError) as exc:
        raise ZoneError(f"zone {origin or '(no origin)'}: {exc}") from None


def quote_txt(value: str) -> str:
    """A TXT value in presentation format, split in 255-byte strings (RFC 7208 §3.3)."""
    if value.startswith('"'):
        return value
    data = value.encode()
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join(
        '"' + c.decode(errors="replace").replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks
    )


def _zone_text(origin: str, spec: Mapping[str, Any]) -> str:
    ttl = int(spec.get("ttl", DEFAULT_TTL))
    records = spec.get("records") or {}
    if not isinstance(records, Mapping):
        raise ZoneError(f"zone {origin}: 'records' must map names to record types")
    lines = [f"$ORIGIN {origin}.", f"$TTL {ttl}"]
    apex = {str(k).upper() for k in (records.get("@") or {})}
    if "SOA" not in apex:
        lines.append(f"@ SOA ns1.{origin}. hostmaster.{origin}. 1 7200 3600 1209600 300")
    if "NS" not in apex:
        lines.append(f"@ NS ns1.{origin}.")
    for owner, rrsets in records.items():
        if not isinstance(rrsets, Mapping):
            raise ZoneError(f"zone {origin}: {owner!r} must map record types to values")
        for rdtype, values in rrsets.items():
            for value in values if isinstance(values, list) else [values]:
                rdata = quote_txt(str(value)) if str(rdtype).upper() == "TXT" else str(value)
                lines.append(f"{owner} {rdtype} {rdata}")
    return "\n".join(lines) + "\n"


def zones_from_yaml(text: str) -> LabZones:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ZoneError(f"lab YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("zones", {}), Mapping):
        raise ZoneError("lab YAML: expected a mapping with a 'zones' mapping")
    zones = tuple(
        zone_from_text(_zone_text(str(origin).rstrip("."), spec or {}), origin=f"{origin}".rstrip(".") + ".")
        for origin, spec in document.get("zones", {}).items()
    )
    behaviour: dict[dns.name.Name, Behaviour] = {}
    for name, what in (document.get("behaviour") or {}).items():
        try:
            behaviour[dns.name.from_text(str(name))] = Behaviour(str(what))
        except ValueError:
            raise ZoneError(f"lab YAML: behaviour of {name} must be one of drop, servfail, refused") from None
    return LabZones(zones, behaviour)


def load_zone_file(path: str) -> LabZones:
    """A ``.yaml``/``.yml`` lab file, or a zone file whose origin is its ``$ORIGIN`` or its file name."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ZoneError(f"cannot read zone file {path}: {exc.strerror}") from None
    if path.endswith((".yaml", ".yml")):
        return zones_from_yaml(text)
    origin = None if "$ORIGIN" in text else path.rsplit("/", 1)[-1].removesuffix(".zone") + "."
    return LabZones((zone_from_text(text, origin),))
