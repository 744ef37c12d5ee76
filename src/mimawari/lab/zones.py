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

SOA and NS records are added to a zone's apex when the zone does not give them. Top-level keys other than
``zones`` and ``behaviour`` are left to whoever reads them (``targets``, ``https``, …).

A zone may be DNSSEC-signed (keys are made when the lab starts, see ``sign_lab_zones``)::

    zones:
      example:
        dnssec: {}                     # signed, ECDSAP256SHA256, NSEC: the lab's trust anchor
      kuroneko.example:
        dnssec:
          algorithm: RSASHA256         # any DNSKEY algorithm dnspython signs with; default ECDSAP256SHA256
          broken: [www, "@"]           # names whose RRSIGs are corrupted (relative to the zone, or absolute)
          expired: true                # every signature expired yesterday
          ds: match                    # the DS in the parent zone: match (default), mismatch, none
          ds_digest: SHA256            # SHA256 (default), SHA1 or SHA384

A zone below a signed lab zone is delegated from it (NS added to the parent), with a DS record when it is
signed itself and ``ds`` is not ``none``; an unsigned child is thus a provably insecure delegation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import dns.dnssectypes
import dns.exception
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.RRSIG
import dns.zone
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from mimawari.dnssec_module import dnssec
from mimawari.errors import ZoneError

DEFAULT_TTL = 300


class Behaviour(StrEnum):
    DROP = "drop"
    SERVFAIL = "servfail"
    REFUSED = "refused"


class DsMode(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NONE = "none"


@dataclass(frozen=True)
class ZoneSigning:
    """How the lab signs one zone (the ``dnssec:`` mapping of a YAML zone)."""

    algorithm: str = "ECDSAP256SHA256"
    broken: tuple[dns.name.Name, ...] = ()
    expired: bool = False
    ds: DsMode = DsMode.MATCH
    ds_digest: str = "SHA256"


@dataclass(frozen=True)
class LabZones:
    zones: tuple[dns.zone.Zone, ...]
    behaviour: Mapping[dns.name.Name, Behaviour] = field(default_factory=dict)
    signing: Mapping[dns.name.Name, ZoneSigning] = field(default_factory=dict)
    """Zones to sign, by origin; zones not listed are served unsigned."""

    def __add__(self, other: LabZones) -> LabZones:
        return LabZones(
            self.zones + other.zones,
            {**self.behaviour, **other.behaviour},
            {**self.signing, **other.signing},
        )

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
    signing = {
        dns.name.from_text(str(origin).rstrip(".") + "."): _signing(str(origin), spec["dnssec"])
        for origin, spec in document.get("zones", {}).items()
        if isinstance(spec, Mapping) and spec.get("dnssec") is not None
    }
    return LabZones(zones, behaviour, signing)


def _signing(origin: str, spec: Any) -> ZoneSigning:
    if not isinstance(spec, Mapping):
        raise ZoneError(f"zone {origin}: 'dnssec' must be a mapping (use {{}} for the defaults)")
    zone = dns.name.from_text(origin.rstrip(".") + ".")
    try:
        algorithm = dnssec.algorithm_to_text(
            dnssec.algorithm_from_text(str(spec.get("algorithm", "ECDSAP256SHA256")))
        )
        if algorithm not in KEY_MAKERS:
            raise ValueError(algorithm)
        broken = spec.get("broken") or []
        return ZoneSigning(
            algorithm=algorithm,
            broken=tuple(
                dns.name.from_text(str(n), zone) for n in (broken if isinstance(broken, list) else [broken])
            ),
            expired=bool(spec.get("expired", False)),
            ds=DsMode(str(spec.get("ds", "match"))),
            ds_digest=dns.dnssectypes.DSDigest[str(spec.get("ds_digest", "SHA256")).upper()].name,
        )
    except (ValueError, KeyError, dns.exception.DNSException) as exc:
        raise ZoneError(
            f"zone {origin}: bad 'dnssec' option ({exc}); algorithm one of {', '.join(KEY_MAKERS)}, "
            "ds one of match, mismatch, none, ds_digest one of SHA1, SHA256, SHA384"
        ) from None


PrivateKey = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)
KEY_MAKERS: dict[str, Any] = {
    "RSASHA1": lambda: rsa.generate_private_key(65537, 1024),
    "RSASHA1NSEC3SHA1": lambda: rsa.generate_private_key(65537, 1024),
    "RSASHA256": lambda: rsa.generate_private_key(65537, 2048),
    "RSASHA512": lambda: rsa.generate_private_key(65537, 2048),
    "ECDSAP256SHA256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ECDSAP384SHA384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ED25519": ed25519.Ed25519PrivateKey.generate,
    "ED448": ed448.Ed448PrivateKey.generate,
}
"""Algorithms the lab signs with; the deprecated RSASHA1 ones exist to test the checks that flag them."""

SIGNATURE_LIFETIME = 30 * 86400
KSK_FLAGS, ZSK_FLAGS = 257, 256


@dataclass(frozen=True)
class SignedZones:
    """The zones the lab serves after signing, and the DS records of its top signed zones."""

    zones: tuple[dns.zone.Zone, ...]
    trust_anchors: tuple[str, ...]

    @property
    def trust_anchor_text(self) -> str:
        """The anchors as a file for ``--trust-anchor`` (one DS record a line)."""
        return "".join(f"{line}\n" for line in self.trust_anchors)


def sign_lab_zones(lab: LabZones, now: int | None = None) -> SignedZones:
    """Copies of ``lab.zones``, signed as ``lab.signing`` says, with delegations and DS in signed parents.

    Fresh keys every call (a KSK and a ZSK per zone), so a lab's trust anchor is only valid while it runs.
    """
    now = int(time.time()) if now is None else now
    zones = {_origin(z): dns.zone.from_text(z.to_text(), _origin(z), relativize=False) for z in lab.zones}
    keys = {
        origin: [_make_key(spec.algorithm, KSK_FLAGS), _make_key(spec.algorithm, ZSK_FLAGS)]
        for origin, spec in lab.signing.items()
        if origin in zones
    }
    anchors = []
    for origin, zone in zones.items():
        parent = max((p for p in zones if p != origin and origin.is_subdomain(p)), key=len, default=None)
        spec = lab.signing.get(origin)
        if parent is None or parent not in keys:
            if spec is not None and origin in keys:
                ksk = keys[origin][0][1]
                anchors.append(f"{origin} IN DS {dnssec.make_ds(origin, ksk, 'SHA256')}")
            continue
        _delegate(zones[parent], zone, origin, keys.get(origin), spec)
    for origin, pair in keys.items():
        spec = lab.signing[origin]
        inception, expiration = (
            (now - 2 * SIGNATURE_LIFETIME, now - 86400)
            if spec.expired
            else (now - 3600, now + SIGNATURE_LIFETIME)
        )
        dnssec.sign_zone(
            zones[origin],
            keys=list(pair),
            inception=inception,
            expiration=expiration,
            policy=dnssec.allow_all_policy,
        )
        for name in spec.broken:
            _corrupt_signatures(zones[origin], name)
    return SignedZones(tuple(zones.values()), tuple(sorted(anchors)))


def _origin(zone: dns.zone.Zone) -> dns.name.Name:
    assert zone.origin is not None
    return zone.origin


def _make_key(algorithm: str, flags: int) -> tuple[PrivateKey, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    private: PrivateKey = KEY_MAKERS[algorithm]()
    return private, dnssec.make_dnskey(private.public_key(), algorithm, flags=flags)


def _delegate(
    parent: dns.zone.Zone,
    child: dns.zone.Zone,
    origin: dns.name.Name,
    child_keys: list[tuple[PrivateKey, dns.rdtypes.ANY.DNSKEY.DNSKEY]] | None,
    spec: ZoneSigning | None,
) -> None:
    """The child's NS at the cut in the parent, and its DS as ``spec.ds`` says (RFC 4035 §2.4)."""
    with parent.writer() as txn:
        ns = child.get_rdataset(origin, dns.rdatatype.NS)
        if ns is not None and not txn.get(origin, dns.rdatatype.NS):
            txn.add(origin, ns)
        if child_keys is None or spec is None or spec.ds is DsMode.NONE:
            return
        made = dnssec.make_ds(origin, child_keys[0][1], spec.ds_digest, policy=dnssec.allow_all_policy)
        # MISMATCH: same key tag and algorithm, wrong digest: the DS names the key but matches no key.
        wrong = bytes(b ^ 0xFF for b in made.digest)
        ds = made.replace(digest=wrong) if spec.ds is DsMode.MISMATCH else made
        rdataset = dns.rdataset.Rdataset(ds.rdclass, ds.rdtype)
        rdataset.add(ds, child.get_soa().minimum)
        txn.replace(origin, rdataset)


def _corrupt_signatures(zone: dns.zone.Zone, name: dns.name.Name) -> None:
    node = zone.get_node(name)
    if node is None:
        raise ZoneError(f"zone {zone.origin}: dnssec 'broken' names {name}, which the zone does not hold")
    for rdataset in list(node.rdatasets):
        if rdataset.rdtype != dns.rdatatype.RRSIG:
            continue
        corrupted = dns.rdataset.Rdataset(rdataset.rdclass, rdataset.rdtype, rdataset.covers)
        for rrsig in rdataset:
            assert isinstance(rrsig, dns.rdtypes.ANY.RRSIG.RRSIG)
            signature = rrsig.signature[:-1] + bytes([rrsig.signature[-1] ^ 0xFF])
            corrupted.add(rrsig.replace(signature=signature), rdataset.ttl)
        zone.replace_rdataset(name, corrupted)


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
