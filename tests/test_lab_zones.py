from __future__ import annotations

from pathlib import Path

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from mimawari.errors import LabError, ZoneError
from mimawari.lab import DnsLab, LabZones, load_zone_file, zones_from_yaml
from mimawari.lab.zones import quote_txt, sign_lab_zones
from mimawari.lookup import Query, txt_value
from mimawari.observe import DnsClient

ZONE_TEXT = """$ORIGIN zonefile.test.
$TTL 60
@   SOA ns1 hostmaster 1 7200 3600 1209600 60
@   NS  ns1
ns1 A   127.0.0.53
_dmarc TXT "v=DMARC1; p=quarantine"
"""


async def test_zone_file_text_is_served(tmp_path: Path) -> None:
    path = tmp_path / "zonefile.test.zone"
    path.write_text(ZONE_TEXT)
    async with DnsLab(load_zone_file(str(path))) as lab:
        answer = await DnsClient([lab.nameserver], timeout=0.5).query(Query.of("_dmarc.zonefile.test", "TXT"))
    assert answer.records == ('"v=DMARC1; p=quarantine"',)
    assert answer.ttl == 60


def test_zone_file_origin_from_file_name(tmp_path: Path) -> None:
    path = tmp_path / "named.test.zone"
    path.write_text("@ 60 SOA ns hm 1 1 1 1 1\n@ 60 NS ns\nwww 60 A 127.0.0.1\n")
    assert load_zone_file(str(path)).origins == ["named.test"]


def test_yaml_adds_soa_and_ns_and_splits_long_txt() -> None:
    zones = zones_from_yaml("zones:\n  y.test:\n    records:\n      '@': {TXT: '" + "a" * 300 + "'}\n")
    (zone,) = zones.zones
    assert zone.get_rdataset("y.test.", "SOA") is not None
    assert zone.get_rdataset("y.test.", "NS") is not None
    rdataset = zone.get_rdataset("y.test.", "TXT")
    assert rdataset is not None
    (txt,) = rdataset
    assert [len(s) for s in txt.strings] == [255, 45]


def test_quote_txt_escapes() -> None:
    assert txt_value(quote_txt('say "hi" \\ bye')) == 'say "hi" \\ bye'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zones: [1, 2]", "expected a mapping"),
        ("zones:\n  x.test:\n    records: [a]", "'records' must map"),
        ("zones:\n  x.test:\n    records:\n      www: {A: not-an-ip}", "zone x.test"),
        ("zones: {x.test: {}}\nbehaviour: {x.test: explode}", "behaviour of x.test"),
        ("zones: {x.test: {}\n", "lab YAML"),
    ],
)
def test_bad_yaml_is_a_one_line_zone_error(text: str, message: str) -> None:
    with pytest.raises(ZoneError, match=message) as info:
        zones_from_yaml(text)
    assert "\n" not in str(info.value)


def test_missing_zone_file() -> None:
    with pytest.raises(ZoneError, match="cannot read zone file"):
        load_zone_file("/nonexistent/x.zone")


def test_lab_refuses_non_loopback_and_empty() -> None:
    zones = zones_from_yaml("zones: {x.test: {}}")
    with pytest.raises(LabError, match="loopback"):
        DnsLab(zones, host="0.0.0.0")
    with pytest.raises(LabError, match="no zones"):
        DnsLab(LabZones(()))


async def test_lab_reports_a_busy_port() -> None:
    zones = zones_from_yaml("zones: {x.test: {}}")
    async with DnsLab(zones) as first:
        with pytest.raises(LabError, match="cannot listen"):
            async with DnsLab(zones, port=first.nameserver.port):
                pass


def test_unknown_top_level_keys_are_ignored() -> None:
    zones = zones_from_yaml("targets: [x.test]\nhttps: {sites: {a: 1}}\nsomething: else\nzones: {x.test: {}}")
    assert zones.origins == ["x.test"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("dnssec: yes", "'dnssec' must be a mapping"),
        ("dnssec: {algorithm: RSAMD5}", "bad 'dnssec' option"),
        ("dnssec: {algorithm: NOPE}", "bad 'dnssec' option"),
        ("dnssec: {ds: sometimes}", "bad 'dnssec' option"),
        ("dnssec: {ds_digest: MD5}", "bad 'dnssec' option"),
    ],
)
def test_bad_dnssec_options(spec: str, message: str) -> None:
    with pytest.raises(ZoneError, match=message):
        zones_from_yaml(f"zones:\n  x.test:\n    {spec}\n")


def test_broken_name_must_exist() -> None:
    zones = zones_from_yaml("zones:\n  x.test:\n    dnssec: {broken: [nothere]}\n")
    with pytest.raises(ZoneError, match=r"nothere\.x\.test"):
        sign_lab_zones(zones)


def test_signing_delegates_children_and_leaves_the_input_alone() -> None:
    zones = zones_from_yaml(
        "zones:\n  test: {dnssec: {}}\n  a.test: {dnssec: {ds: none}}\n  b.test: {dnssec: {ds_digest: SHA1}}\n"
        "  c.test: {}\n"
    )
    signed = sign_lab_zones(zones)
    parent = next(z for z in signed.zones if z.origin == dns.name.from_text("test."))
    assert parent.get_rdataset("a.test.", "DS") is None and parent.get_rdataset("a.test.", "NS") is not None
    ds = parent.get_rdataset("b.test.", "DS")
    assert ds is not None and next(iter(ds)).digest_type == 1
    assert parent.get_rdataset("c.test.", "NS") is not None
    assert [a.split()[0] for a in signed.trust_anchors] == ["test."]
    original = next(z for z in zones.zones if z.origin == dns.name.from_text("test."))
    assert original.get_rdataset("test.", "DNSKEY") is None


async def test_ds_is_answered_from_the_parent_zone() -> None:
    zones = zones_from_yaml("zones:\n  test: {dnssec: {}}\n  a.test: {dnssec: {}}\n")
    async with DnsLab(zones) as lab:
        client = DnsClient([lab.nameserver], timeout=1.0)
        ds = await client.query(Query.of("a.test", "DS", dnssec=True))
        soa = await client.query(Query.of("a.test", "SOA", dnssec=True))
    assert ds.records and " test. " in ds.signatures[0]
    assert soa.records and " a.test. " in soa.signatures[0]


@pytest.mark.parametrize(
    ("qname", "rdtype", "zone"),
    [
        ("www.a.b.test", "A", "a.b.test"),  # the deepest zone wins, even two labels below its parent
        ("x.b.test", "A", "test"),  # no zone at b.test: its parent holds the name
        ("A.B.TEST", "TXT", "a.b.test"),  # names are case-insensitive
        ("a.b.test", "DS", "test"),  # a zone's DS is on the parent side (RFC 4035 §2.4)
        ("x.a.b.test", "DS", "a.b.test"),  # below an apex, DS is an ordinary type
        ("test", "DS", "test"),  # no parent in the lab: the top zone answers its own DS
        ("other.example", "A", None),
    ],
)
def test_the_zone_that_answers_is_found_by_walking_up_the_name(
    qname: str, rdtype: str, zone: str | None
) -> None:
    lab = DnsLab(zones_from_yaml("zones:\n  test: {}\n  a.b.test: {}\n  unrelated.example.net: {}\n"))
    reply = lab.respond(dns.message.make_query(qname, rdtype))
    assert reply is not None
    if zone is None:
        assert reply.rcode() == dns.rcode.REFUSED
        return
    (soa,) = (rrset for rrset in reply.authority if rrset.rdtype == dns.rdatatype.SOA)
    assert soa.name == dns.name.from_text(zone)
