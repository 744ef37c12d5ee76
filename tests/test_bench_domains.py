"""Smoke test of the benchmark's domain generator (bench/lab_domains.py); the benchmark itself is not run."""

from __future__ import annotations

import base64
import random

import dns.name
import dns.rdatatype
from bench.lab_domains import dkim_keys, generate
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from mimawari.lab import zones_from_yaml
from mimawari.lab.zones import Behaviour, sign_lab_zones


def test_twenty_domains_make_lab_yaml_the_lab_loads() -> None:
    lab = generate(20, seed=7, servfail_rate=0.2)
    zones = zones_from_yaml(lab.to_yaml())
    origins = set(zones.origins)
    assert set(lab.names) <= origins
    assert {"esp-mail.example", "bigmail.example", "example", "2.0.192.in-addr.arpa"} <= origins
    assert len(set(lab.names)) == 20
    assert zones.behaviour  # some names answer SERVFAIL
    assert set(zones.behaviour.values()) == {Behaviour.SERVFAIL}


def test_the_seed_decides_everything() -> None:
    assert generate(20, seed=7).to_yaml() == generate(20, seed=7).to_yaml()
    assert generate(20, seed=7).to_yaml() != generate(20, seed=8).to_yaml()


def test_published_records_are_what_the_zones_serve() -> None:
    lab = generate(60, seed=3)
    zones = {z.origin: z for z in zones_from_yaml(lab.to_yaml()).zones}
    for domain in lab.domains:
        origin = dns.name.from_text(domain.name)
        apex = zones[origin].get_rdataset(origin, dns.rdatatype.TXT)
        published = {b"".join(r.strings).decode() for r in apex or ()}
        assert set(domain.spf) <= published, domain.name
    kinds = {d.profile["spf"] for d in lab.domains} | {d.profile["dmarc"] for d in lab.domains}
    assert {"too_many", "missing", "plus_all"} & kinds  # broken records are part of the mix


def test_dkim_keys_are_real_keys_of_the_stated_size() -> None:
    keys = dkim_keys(random.Random(1))
    for kind, bits in (("rsa1024", 1024), ("rsa2048", 2048)):
        der = base64.b64decode(keys[kind].split("p=")[1])
        key = load_der_public_key(der)
        assert isinstance(key, rsa.RSAPublicKey)
        assert key.key_size == bits
    assert len(base64.b64decode(keys["ed25519"].split("p=")[1])) == 32
    assert keys["revoked"].endswith("p=")


def test_the_top_zone_and_a_share_of_the_domains_are_signed() -> None:
    lab = generate(200, seed=3)
    zones = zones_from_yaml(lab.to_yaml())
    signed = {name.to_text(omit_final_dot=True) for name in zones.signing}
    assert {"example", "esp-mail.example"} <= signed  # the trust anchor's zone, the shared ESP
    domains = {d.name for d in lab.domains if d.dnssec is not None}
    assert domains == signed & set(lab.names)
    assert 0.5 <= len(domains) / 200 <= 0.7
    kinds = {d.profile["dnssec"] for d in lab.domains}
    assert {"unsigned", "signed", "broken", "expired", "ds_mismatch", "rsasha1"} <= kinds
    assert generate(200, seed=3).signing == lab.signing  # the seed decides the signing too


def test_tlsa_records_are_mostly_in_signed_zones() -> None:
    lab = generate(300, seed=3)
    with_tlsa = [d for d in lab.domains if "_25._tcp.mx1" in d.records]
    signed = [d for d in with_tlsa if d.dnssec is not None]
    assert len(signed) >= 10
    assert len(signed) >= 0.8 * len(with_tlsa)
    assert any(d.records["_25._tcp.mx1"]["TLSA"][0].startswith("3 1 1 ") for d in signed)  # DANE-EE


def test_a_small_signed_lab_signs_and_gives_one_trust_anchor() -> None:
    lab = generate(8, seed=3)
    signed = sign_lab_zones(zones_from_yaml(lab.to_yaml()))
    assert len(signed.trust_anchors) == 1
    assert signed.trust_anchors[0].startswith("example. IN DS ")
