"""The NCSC-NL TLS profile: levels of versions, suites, groups, keys and signatures, and their grades."""

from __future__ import annotations

import pytest

from mimawari.model import Grade
from mimawari.parse.tls_profile import (
    Level,
    group_level,
    key_level,
    level_grade,
    normalize_version,
    parse_suite_name,
    parts_level,
    signature_level,
    suite_kex,
    suite_level,
    suite_parts,
    version_level,
    worst,
)
from mimawari.parse.tls_suites import SUITES

GOOD, SUFFICIENT, PHASE_OUT, INSUFFICIENT = Level.GOOD, Level.SUFFICIENT, Level.PHASE_OUT, Level.INSUFFICIENT


@pytest.mark.parametrize(
    ("version", "level"),
    [
        ("TLSv1.3", GOOD),
        ("TLSv1.2", SUFFICIENT),
        ("TLSv1.1", PHASE_OUT),
        ("TLSv1.0", PHASE_OUT),
        ("TLSv1", PHASE_OUT),  # what ssl.SSLObject.version() says for 1.0
        ("TLS 1.2", SUFFICIENT),
        ("tls1_3", GOOD),
        ("SSLv3", INSUFFICIENT),
        ("SSLv2", INSUFFICIENT),
        ("QUICv1", None),
    ],
)
def test_version_levels(version: str, level: Level | None) -> None:
    assert version_level(version) is level


def test_version_names_normalise() -> None:
    assert normalize_version("TLSv1") == "TLSv1.0"
    assert normalize_version("SSLv3.0") == "SSLv3"
    assert normalize_version("something") == "something"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("TLS_AES_256_GCM_SHA384", GOOD),
        ("TLS_CHACHA20_POLY1305_SHA256", GOOD),
        ("TLS_AES_128_GCM_SHA256", GOOD),
        ("TLS_AES_128_CCM_SHA256", SUFFICIENT),
        ("TLS_AES_128_CCM_8_SHA256", INSUFFICIENT),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", SUFFICIENT),  # TLS 1.2 suites are Sufficient at best
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", SUFFICIENT),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", SUFFICIENT),
        ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", SUFFICIENT),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM", SUFFICIENT),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", PHASE_OUT),  # no forward secrecy
        ("TLS_RSA_WITH_AES_256_CBC_SHA", PHASE_OUT),
        ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", PHASE_OUT),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", PHASE_OUT),
        ("TLS_RSA_WITH_RC4_128_SHA", INSUFFICIENT),
        ("TLS_RSA_WITH_RC4_128_MD5", INSUFFICIENT),
        ("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", INSUFFICIENT),
        ("TLS_DH_anon_WITH_AES_128_GCM_SHA256", INSUFFICIENT),
        ("TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", INSUFFICIENT),  # static ECDH
        ("TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", INSUFFICIENT),
        ("TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", INSUFFICIENT),
        ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", INSUFFICIENT),
        ("TLS_RSA_WITH_NULL_SHA256", INSUFFICIENT),
        ("TLS_NULL_WITH_NULL_NULL", INSUFFICIENT),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", INSUFFICIENT),
        ("SSL_RSA_WITH_3DES_EDE_CBC_SHA", PHASE_OUT),
    ],
)
def test_suite_levels(name: str, level: Level) -> None:
    assert suite_level(name) is level


def test_unknown_suites_are_unclassified_not_insufficient() -> None:
    assert suite_level("TLS_EMPTY_RENEGOTIATION_INFO_SCSV") is None
    assert suite_level("TLS_FALLBACK_SCSV") is None
    assert suite_level("ECDHE-RSA-AES128-GCM-SHA256") is None  # an OpenSSL name, not IANA
    assert suite_level("") is None
    assert suite_kex("nonsense") == ""


def test_name_parse_stands_in_for_the_registry() -> None:
    # Lower case is not in the registry (exact IANA case), so the parse decides; same answer.
    assert suite_level("tls_ecdhe_rsa_with_aes_128_gcm_sha256") is SUFFICIENT
    # A suite the registry does not carry (a hypothetical future name) is still read from its parts.
    assert suite_level("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA512") is SUFFICIENT
    parts = parse_suite_name("TLS_RSA_WITH_AES_128_CBC_SHA")
    assert parts is not None
    assert (parts.kex, parts.auth, parts.cipher, parts.mac, parts.tls13) == (
        "RSA",
        "RSA",
        "AES_128_CBC",
        "SHA",
        False,
    )


def test_registry_and_name_parse_agree_on_every_suite() -> None:
    for suite in SUITES:
        parsed = parse_suite_name(suite.name)
        registered = suite_parts(suite.name)
        assert parsed is not None and registered is not None, suite.name
        assert parts_level(parsed) is parts_level(registered), suite.name


def test_suite_key_exchange() -> None:
    assert suite_kex("TLS_AES_128_GCM_SHA256") == "TLS13"
    assert suite_kex("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == "ECDHE"
    assert suite_kex("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256") == "DHE"
    assert suite_kex("TLS_RSA_WITH_AES_128_GCM_SHA256") == "RSA"


@pytest.mark.parametrize(
    ("group", "level"),
    [
        ("x25519", GOOD),
        ("X448", GOOD),
        ("secp256r1", GOOD),
        ("prime256v1", GOOD),
        ("secp384r1", GOOD),
        ("secp521r1", GOOD),
        ("brainpoolP256r1tls13", GOOD),
        ("X25519MLKEM768", GOOD),
        ("SecP256r1MLKEM768", GOOD),
        ("ffdhe4096", SUFFICIENT),
        ("ffdhe3072", SUFFICIENT),
        ("ffdhe8192", SUFFICIENT),
        ("ffdhe2048", PHASE_OUT),
        ("secp224r1", PHASE_OUT),
        ("secp192r1", INSUFFICIENT),
        ("sect571r1", INSUFFICIENT),
        ("secp256k1", INSUFFICIENT),
        ("dh1024", INSUFFICIENT),
        ("MLKEM768", None),
        ("grease", None),
    ],
)
def test_group_levels(group: str, level: Level | None) -> None:
    assert group_level(group) is level


@pytest.mark.parametrize(
    ("key_type", "bits", "level"),
    [
        ("RSA", 4096, GOOD),
        ("RSA", 3072, GOOD),
        ("RSA", 2048, SUFFICIENT),
        ("RSA", 1024, INSUFFICIENT),
        ("EC", 256, GOOD),
        ("EC", 384, GOOD),
        ("EC", 224, PHASE_OUT),
        ("EC", 192, INSUFFICIENT),
        ("Ed25519", 256, GOOD),
        ("Ed448", 456, GOOD),
        ("DSA", 2048, PHASE_OUT),
        ("DSA", 1024, INSUFFICIENT),
        ("GOST", 256, None),
    ],
)
def test_key_levels(key_type: str, bits: int, level: Level | None) -> None:
    assert key_level(key_type, bits) is level


@pytest.mark.parametrize(
    ("algorithm", "level"),
    [
        ("sha256", GOOD),
        ("SHA-384", GOOD),
        ("sha512", GOOD),
        ("sha256WithRSAEncryption", GOOD),
        ("ecdsa-with-sha384", GOOD),
        ("ed25519", GOOD),
        ("ed448", GOOD),
        ("sha3-256", GOOD),
        ("sha224", PHASE_OUT),
        ("sha1", INSUFFICIENT),
        ("rsa-with-sha1", INSUFFICIENT),
        ("md5", INSUFFICIENT),
        ("rsassa-pss", None),
        ("", None),
    ],
)
def test_signature_levels(algorithm: str, level: Level | None) -> None:
    assert signature_level(algorithm) is level


def test_levels_order_and_grades() -> None:
    assert max(GOOD, PHASE_OUT, SUFFICIENT) is PHASE_OUT
    assert worst([None, SUFFICIENT, GOOD]) is SUFFICIENT
    assert worst([None]) is None
    assert [level_grade(level) for level in Level] == [Grade.A, Grade.A, Grade.C, Grade.E]
    assert PHASE_OUT.label == "phase-out"
