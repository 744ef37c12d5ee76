"""Pure DNSSEC validation: trust anchors, DS matching, signatures, NSEC/NSEC3 denial, hostile input."""

from __future__ import annotations

import dns.dnssec
import dns.name
import dns.rdata
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mimawari.lookup import DnsAnswer, Query
from mimawari.model import Status, Target
from mimawari.observations.dnssec import bundled_anchors, trust_anchors
from mimawari.parse.dnssec import check_signatures, ds_for, match_ds, parse_trust_anchor
from mimawari.parse.dnssec_denial import check_answer, denial_proof

ZONE = "signed.test"
NOW, INCEPTION, EXPIRATION = 1_750_000_000, 1_700_000_000, 1_800_000_000
KEY = ec.generate_private_key(ec.SECP256R1())
DNSKEY = dns.dnssec.make_dnskey(KEY.public_key(), "ECDSAP256SHA256", flags=257)
KEYS = (DNSKEY.to_text(),)


def signed(owner: str, rdtype: str, *records: str, ttl: int = 300) -> tuple[list[str], str]:
    """Lines of an RRset and its RRSIG rdata, signed by KEY for ZONE."""
    rrset = dns.rrset.from_text_list(dns.name.from_text(owner), ttl, "IN", rdtype, list(records))
    rrsig = dns.dnssec.sign(
        rrset, KEY, dns.name.from_text(ZONE), DNSKEY, inception=INCEPTION, expiration=EXPIRATION
    )
    return rrset.to_text().splitlines(), rrsig.to_text()


def answer(
    name: str,
    rdtype: str,
    *,
    records: tuple[str, ...] = (),
    signatures: tuple[str, ...] = (),
    denial: tuple[str, ...] = (),
    rcode: str = "NOERROR",
) -> DnsAnswer:
    status = Status.PRESENT if records else Status.ABSENT
    return DnsAnswer(
        Query.of(name, rdtype, dnssec=True), status, rcode, records, 300, signatures=signatures, denial=denial
    )


def nsec(owner: str, nxt: str, types: str) -> tuple[str, ...]:
    lines, sig = signed(owner, "NSEC", f"{nxt} {types}")
    return (*lines, f"{owner} 300 IN RRSIG {sig}")


@pytest.mark.parametrize(
    "line",
    [
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
        ". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
        "example. DS 45591 13 2 ee397ca647890b89a6b00174c8748d29c4f4504f655ed572c3e20ba555296917",
        f"{ZONE}. IN DNSKEY {DNSKEY.to_text()}",
    ],
)
def test_trust_anchor_forms(line: str) -> None:
    anchor = parse_trust_anchor(line)
    assert anchor is not None
    assert anchor.rdtype in ("DS", "DNSKEY")


@pytest.mark.parametrize(
    "line", ["", "DS", ". IN DS", ". IN DS not a ds", "x" * 300 + ". DS 1 8 2 00", "; a comment"]
)
def test_bad_trust_anchors_are_none(line: str) -> None:
    assert parse_trust_anchor(line) is None


def test_bundled_root_anchors_are_ksk_2017_and_2024() -> None:
    anchors, bundled = trust_anchors(Target("example.org"))
    assert bundled
    assert [(a.zone, a.rdata.split()[0]) for a in anchors] == [(".", "20326"), (".", "38696")]
    assert len(bundled_anchors()) == 2


def test_given_anchors_replace_the_bundled_ones() -> None:
    anchors, bundled = trust_anchors(Target("x.test", trust_anchors=("test. IN DS 1 13 2 " + "00" * 32,)))
    assert not bundled and [a.zone for a in anchors] == ["test"]


def test_ds_matching() -> None:
    (good,) = ds_for(ZONE, KEYS)
    assert match_ds(ZONE, [good], KEYS).matched == (dns.dnssec.key_id(DNSKEY),)
    wrong = good[:-4] + "0000"
    result = match_ds(ZONE, [wrong], KEYS)
    assert (result.matched, result.unmatched, result.usable) == ((), (wrong.lower(),), True)
    stale = match_ds(ZONE, [good, wrong], KEYS)
    assert stale.matched and stale.unmatched
    gost = f"{dns.dnssec.key_id(DNSKEY)} 13 3 " + "00" * 32
    assert not match_ds(ZONE, [gost], KEYS).usable  # RFC 4035 §5.2: unsupported digest → insecure
    assert match_ds(ZONE, [], KEYS, anchors=KEYS).matched  # a DNSKEY anchor matches itself


def test_valid_signature() -> None:
    _, sig = signed(ZONE, "MX", "10 mx.signed.test.")
    check = check_signatures(ZONE, "MX", ["10 mx.signed.test."], [sig], ZONE, KEYS, NOW)
    assert check.valid and check.key_tags == (dns.dnssec.key_id(DNSKEY),)


def test_tampered_record_does_not_verify() -> None:
    _, sig = signed(ZONE, "MX", "10 mx.signed.test.")
    check = check_signatures(ZONE, "MX", ["10 evil.example."], [sig], ZONE, KEYS, NOW)
    assert not check.valid and "signature does not verify" in check.problem


def test_expired_and_future_signatures() -> None:
    _, sig = signed(ZONE, "A", "192.0.2.1")
    late = check_signatures(ZONE, "A", ["192.0.2.1"], [sig], ZONE, KEYS, EXPIRATION + 1)
    assert "expired" in late.problem and "2027" in late.problem
    early = check_signatures(ZONE, "A", ["192.0.2.1"], [sig], ZONE, KEYS, INCEPTION - 1)
    assert "not yet valid" in early.problem


def test_missing_signature_and_wrong_signer() -> None:
    assert "no RRSIG" in check_signatures(ZONE, "A", ["192.0.2.1"], [], ZONE, KEYS, NOW).problem
    _, sig = signed(ZONE, "A", "192.0.2.1")
    check = check_signatures(ZONE, "A", ["192.0.2.1"], [sig], "other.test", KEYS, NOW)
    assert "not by the zone other.test" in check.problem


@pytest.mark.parametrize(
    ("records", "signatures"),
    [(["not an address"], ["garbage"]), (["192.0.2.1"], ["A 13 2 300 x y z"]), ([], ["\x00" * 10])],
)
def test_hostile_records_never_raise(records: list[str], signatures: list[str]) -> None:
    assert not check_signatures(ZONE, "A", records, signatures, ZONE, KEYS, NOW).valid


def test_present_answer_is_checked() -> None:
    _, sig = signed(f"www.{ZONE}", "A", "192.0.2.1")
    good = answer(f"www.{ZONE}", "A", records=("192.0.2.1",), signatures=(sig,))
    assert check_answer(good, ZONE, KEYS, NOW).valid


def test_nsec_nodata_proof() -> None:
    proof = nsec(f"www.{ZONE}.", f"zz.{ZONE}.", "A RRSIG NSEC")
    assert check_answer(answer(f"www.{ZONE}", "TXT", denial=proof), ZONE, KEYS, NOW).valid
    lying = check_answer(answer(f"www.{ZONE}", "A", denial=proof), ZONE, KEYS, NOW)
    assert not lying.valid and "lists A" in lying.problem


def test_nodata_without_proof_is_not_proven() -> None:
    result = denial_proof(answer(f"www.{ZONE}", "TXT"), ZONE, KEYS, NOW)
    assert not result.proven and "without NSEC/NSEC3 proof" in result.problem


def test_nsec_nxdomain_needs_the_wildcard_proof() -> None:
    covering = nsec(f"a.{ZONE}.", f"m.{ZONE}.", "A RRSIG NSEC")
    apex = nsec(f"{ZONE}.", f"a.{ZONE}.", "SOA NS RRSIG NSEC DNSKEY")
    full = answer(f"b.{ZONE}", "A", denial=covering + apex, rcode="NXDOMAIN")
    assert denial_proof(full, ZONE, KEYS, NOW).proven
    partial = denial_proof(answer(f"b.{ZONE}", "A", denial=covering, rcode="NXDOMAIN"), ZONE, KEYS, NOW)
    assert not partial.proven and "wildcard" in partial.problem


def test_forged_nsec_is_rejected() -> None:
    lines = nsec(f"www.{ZONE}.", f"zz.{ZONE}.", "A RRSIG NSEC")
    forged = (lines[0].replace("A RRSIG", "MX RRSIG"), lines[1])
    result = denial_proof(answer(f"www.{ZONE}", "TXT", denial=forged), ZONE, KEYS, NOW)
    assert not result.proven and "denial record" in result.problem


def test_ds_denial_at_a_delegation_is_an_insecure_proof() -> None:
    proof = nsec(f"child.{ZONE}.", f"zz.{ZONE}.", "NS RRSIG NSEC")
    result = denial_proof(answer(f"child.{ZONE}", "DS", denial=proof), ZONE, KEYS, NOW)
    assert result.proven and result.delegation
    from_child = nsec(f"child.{ZONE}.", f"zz.{ZONE}.", "NS SOA RRSIG NSEC")
    wrong_side = denial_proof(answer(f"child.{ZONE}", "DS", denial=from_child), ZONE, KEYS, NOW)
    assert not wrong_side.proven and "child zone" in wrong_side.problem


def nsec3(name: str, nxt_name: str, types: str, flags: int = 0) -> tuple[str, ...]:
    def hashed(n: str) -> str:
        return dns.dnssec.nsec3_hash(n, None, 0, 1).lower()

    owner = f"{hashed(name)}.{ZONE}."
    lines, sig = signed(owner, "NSEC3", f"1 {flags} 0 - {hashed(nxt_name)} {types}")
    return (*lines, f"{owner} 300 IN RRSIG {sig}")


def test_nsec3_nodata_and_opt_out() -> None:
    exact = nsec3(f"child.{ZONE}.", f"{ZONE}.", "NS")
    result = denial_proof(answer(f"child.{ZONE}", "DS", denial=exact), ZONE, KEYS, NOW)
    assert result.proven and result.delegation
    # Opt-out: the apex matches (closest encloser), a span with the opt-out flag covers the child.
    apex = nsec3(f"{ZONE}.", f"{ZONE}.", "SOA NS DNSKEY NSEC3PARAM RRSIG", flags=1)
    opted = denial_proof(answer(f"other.{ZONE}", "DS", denial=apex), ZONE, KEYS, NOW)
    assert opted.proven and opted.opt_out
