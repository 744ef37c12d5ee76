"""Certificate facts from DER and RFC 6125 name matching, on certificates built here."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import replace
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from mimawari.parse.tls_profile import Level, key_level, signature_level
from mimawari.parse.x509 import CertificateFacts, describe_certificate, name_matches

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(curve: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1() if curve == "P-384" else ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([])


def certificate(
    key: PrivateKey,
    *,
    cn: str = "mx.example.test",
    sans: tuple[str, ...] = ("mx.example.test",),
    ips: tuple[str, ...] = (),
    issuer: tuple[str, PrivateKey] | None = None,
    digest: hashes.SHA256 | hashes.SHA384 | None = None,
    days: tuple[int, int] = (-10, 80),
    ca: bool = False,
) -> bytes:
    """DER of a certificate for ``key``; self-signed unless ``issuer`` (name, key) signs it."""
    issuer_name, issuer_key = issuer or (cn, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + datetime.timedelta(days=days[0]))
        .not_valid_after(NOW + datetime.timedelta(days=days[1]))
    )
    names: list[x509.GeneralName] = [x509.DNSName(s) for s in sans]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        signed = builder.sign(issuer_key, None)
    else:
        signed = builder.sign(issuer_key, digest or hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.DER)


SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b")
SHA1_WITH_RSA = bytes.fromhex("06092a864886f70d010105")


def sha1_signed(der: bytes, issuer_key: rsa.RSAPrivateKey) -> bytes:
    """The RSA/SHA-256 certificate ``der`` re-signed with SHA-1, which cryptography no longer signs
    certificates with: both algorithm OIDs have the same length, and so does the new signature."""
    cert = x509.load_der_x509_certificate(der)
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(SHA256_WITH_RSA) == 1
    old_tbs, new_tbs = tbs, tbs.replace(SHA256_WITH_RSA, SHA1_WITH_RSA)
    signature = issuer_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA1())
    resigned = der.replace(old_tbs, new_tbs).replace(SHA256_WITH_RSA, SHA1_WITH_RSA)
    return resigned.replace(cert.signature, signature)


def facts_of(der: bytes) -> CertificateFacts:
    facts = describe_certificate(der)
    assert isinstance(facts, CertificateFacts), facts
    return facts


CA = ("Example Test CA", ec_key("P-384"))


def test_ca_issued_rsa_2048_leaf() -> None:
    der = certificate(rsa_key(2048), sans=("mx.example.test", "mx2.example.test"), issuer=CA)
    facts = facts_of(der)
    assert facts.subject == "CN=mx.example.test"
    assert facts.subject_cn == "mx.example.test"
    assert facts.san_dns == ("mx.example.test", "mx2.example.test")
    assert facts.issuer == "CN=Example Test CA"
    assert (facts.key_type, facts.key_bits, facts.curve) == ("RSA", 2048, "")
    assert (facts.signature_algorithm, facts.signature_hash) == ("ecdsa-with-sha256", "sha256")
    assert not facts.self_signed and not facts.is_ca
    assert facts.not_before == int((NOW - datetime.timedelta(days=10)).timestamp())
    assert facts.not_after == int((NOW + datetime.timedelta(days=80)).timestamp())
    assert facts.sha256 == hashlib.sha256(der).hexdigest()
    assert facts.key_description == "RSA 2048"
    assert key_level(facts.key_type, facts.key_bits) is Level.SUFFICIENT
    assert facts.lifetime_days() == 90
    assert facts.days_left(int(NOW.timestamp())) == 80


@pytest.mark.parametrize(("bits", "level"), [(1024, Level.INSUFFICIENT), (4096, Level.GOOD)])
def test_rsa_key_sizes(bits: int, level: Level) -> None:
    facts = facts_of(certificate(rsa_key(bits), issuer=CA))
    assert (facts.key_type, facts.key_bits) == ("RSA", bits)
    assert key_level(facts.key_type, facts.key_bits) is level


def test_ec_keys_and_their_signatures() -> None:
    p256 = facts_of(certificate(ec_key("P-256")))
    assert (p256.key_type, p256.key_bits, p256.curve) == ("EC", 256, "secp256r1")
    assert p256.key_description == "EC secp256r1"
    p384 = facts_of(certificate(ec_key("P-384"), digest=hashes.SHA384()))
    assert (p384.key_type, p384.key_bits, p384.curve) == ("EC", 384, "secp384r1")
    assert (p384.signature_algorithm, p384.signature_hash) == ("ecdsa-with-sha384", "sha384")
    assert key_level(p384.key_type, p384.key_bits) is Level.GOOD


def test_ed25519_has_no_separate_hash() -> None:
    facts = facts_of(certificate(ed25519.Ed25519PrivateKey.generate()))
    assert (facts.key_type, facts.key_bits, facts.key_description) == ("Ed25519", 256, "Ed25519")
    assert (facts.signature_algorithm, facts.signature_hash) == ("ed25519", "")
    assert facts.self_signed
    assert signature_level(facts.signature_hash or facts.signature_algorithm) is Level.GOOD


def test_sha1_signature() -> None:
    ca_key = rsa_key(2048)
    facts = facts_of(sha1_signed(certificate(rsa_key(2048), issuer=("Old CA", ca_key)), ca_key))
    assert (facts.signature_algorithm, facts.signature_hash) == ("rsa-with-sha1", "sha1")
    assert signature_level(facts.signature_hash) is Level.INSUFFICIENT


def test_self_signed_needs_names_and_signature() -> None:
    assert facts_of(certificate(ec_key("P-256"))).self_signed
    # Same issuer and subject name, but signed by another key: not self-signed (an impostor root).
    impostor = certificate(ec_key("P-256"), issuer=("mx.example.test", ec_key("P-384")))
    assert not facts_of(impostor).self_signed
    assert not facts_of(certificate(ec_key("P-256"), issuer=CA)).self_signed


def test_ca_flag() -> None:
    assert facts_of(certificate(ec_key("P-384"), cn="Example Test CA", sans=(), ca=True)).is_ca


def test_expired_certificate_dates() -> None:
    facts = facts_of(certificate(ec_key("P-256"), issuer=CA, days=(-100, -10)))
    assert facts.days_left(int(NOW.timestamp())) == -10


def test_unreadable_certificates_give_a_reason() -> None:
    assert isinstance(describe_certificate(b"not a certificate"), str)
    assert "could not be parsed" in str(describe_certificate(b""))
    truncated = certificate(ec_key("P-256"))[:-20]
    assert isinstance(describe_certificate(truncated), str)


# --- RFC 6125 §6.4 ---------------------------------------------------------------------------------


def names(*sans: str, cn: str = "", ips: tuple[str, ...] = ()) -> CertificateFacts:
    return facts_of(certificate(ec_key("P-256"), cn=cn, sans=sans, ips=ips))


def test_exact_names_ignore_case_and_trailing_dots() -> None:
    facts = names("mx.example.test", "MAIL.Example.Test.")
    assert name_matches("mx.example.test", facts)
    assert name_matches("MX.EXAMPLE.TEST.", facts)
    assert name_matches("mail.example.test", facts)
    assert not name_matches("example.test", facts)
    assert not name_matches("mx.example.test.evil", facts)
    assert not name_matches("", facts)


def test_wildcard_covers_exactly_one_left_most_label() -> None:
    facts = names("*.example.test")
    assert name_matches("mx.example.test", facts)
    assert name_matches("xn--bcher-kva.example.test", facts)
    assert not name_matches("example.test", facts)
    assert not name_matches("a.mx.example.test", facts)
    assert not name_matches(".example.test", facts)


def test_wildcards_that_are_never_honoured() -> None:
    assert not name_matches("example.com", names("*.com"))
    assert not name_matches("mx.example.test", names("m*.example.test"))
    assert not name_matches("mx.example.test", names("*x.example.test"))
    assert not name_matches("mx.example.test", names("mx.*.test"))
    assert not name_matches("a.mx.example.test", names("*.*.example.test"))
    assert not name_matches("mx.example.test", names("*"))


def test_common_name_only_when_no_san_dns_names() -> None:
    assert name_matches("legacy.example.test", names(cn="legacy.example.test"))
    # With SAN DNS names present the CN is not looked at (RFC 6125 §6.4.4).
    assert not name_matches("legacy.example.test", names("mx.example.test", cn="legacy.example.test"))
    # A SAN with only an IP address leaves the CN as the DNS identity.
    assert name_matches("legacy.example.test", names(cn="legacy.example.test", ips=("192.0.2.1",)))
    assert not name_matches("legacy.example.test", names())


def test_internationalised_names_compare_as_a_labels() -> None:
    facts = names("xn--bcher-kva.example.test")
    assert name_matches("xn--bcher-kva.example.test", facts)
    assert name_matches("XN--BCHER-KVA.example.test", facts)
    assert name_matches("bücher.example.test", facts)  # the reference name is converted to A-labels
    # A U-label in the certificate is not a valid DNS-ID and matches nothing.
    raw = replace(facts, san_dns=("bücher.example.test",))
    assert not name_matches("bücher.example.test", raw)


def test_ip_literals_match_san_ip_addresses_only() -> None:
    facts = names("mx.example.test", ips=("192.0.2.25", "2001:db8::25"))
    assert name_matches("192.0.2.25", facts)
    assert name_matches("2001:DB8:0::25", facts)
    assert name_matches("[2001:db8::25]", facts)
    assert not name_matches("192.0.2.26", facts)
    assert not name_matches("192.0.2.25", names(cn="192.0.2.25"))
