"""DKIM key record parser: tags, defaults, real keys decoded with cryptography, and malformed input."""

from __future__ import annotations

import base64
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mimawari.parse.dkim import (
    DkimPublicKey,
    looks_like_dkim_key,
    parse_dkim_key,
    raw_ed25519_key,
)

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@cache
def rsa_p(bits: int) -> str:
    """base64 of a fresh RSA public key's SubjectPublicKeyInfo (the usual ``p=``).

    cryptography will not generate keys under 1024 bits (and keys over 4096 take long), so those are built
    from a modulus of the right length: a verifier only ever sees the public half.
    """
    if bits < 1024 or bits > 4096:
        modulus = (1 << (bits - 1)) | int.from_bytes(b"\x5a" * (bits // 8 - 1)) | 1
        key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return base64.b64encode(key.public_bytes(*SPKI)).decode()


@cache
def ed25519_key() -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PrivateKey.generate().public_key()


def ed25519_p(form: str = "raw") -> str:
    """RFC 8463 ``p=``: base64 of the raw 32-byte key; ``spki`` gives the common mistake."""
    if form == "raw":
        raw = ed25519_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()
    return base64.b64encode(ed25519_key().public_bytes(*SPKI)).decode()


def fatal(text: str) -> list[str]:
    return [p.text for p in parse_dkim_key(text).problems if p.fatal]


@pytest.mark.parametrize("bits", [512, 1024, 2048, 4096, 8192])
def test_rsa_keys_of_every_size_are_decoded(bits: int) -> None:
    record = parse_dkim_key(f"v=DKIM1; k=rsa; p={rsa_p(bits)}")
    assert record.problems == ()
    assert record.key == DkimPublicKey("rsa", bits, "SubjectPublicKeyInfo")
    assert record.usable and not record.revoked


def test_defaults_apply_when_tags_are_absent() -> None:
    record = parse_dkim_key(f"p={rsa_p(1024)}")
    assert (record.key_type, record.hash_algorithms, record.flags, record.service_types) == (
        "rsa",
        (),
        (),
        ("*",),
    )
    assert record.allows_sha256 and record.allows_sha1 and not record.testing


def test_pkcs1_rsa_public_key_is_accepted_and_named() -> None:
    key = serialization.load_der_public_key(base64.b64decode(rsa_p(1024)))
    assert isinstance(key, rsa.RSAPublicKey)
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    record = parse_dkim_key(f"v=DKIM1; p={base64.b64encode(pkcs1).decode()}")
    assert record.key == DkimPublicKey("rsa", 1024, "RSAPublicKey")


def test_ed25519_raw_key_per_rfc8463() -> None:
    record = parse_dkim_key(f"v=DKIM1; k=ed25519; p={ed25519_p()}")
    assert record.problems == ()
    assert record.key == DkimPublicKey("ed25519", 256, "raw")


def test_ed25519_as_spki_is_decoded_and_convertible_to_the_raw_form() -> None:
    record = parse_dkim_key(f"v=DKIM1; k=ed25519; p={ed25519_p('spki')}")
    assert record.key == DkimPublicKey("ed25519", 256, "SubjectPublicKeyInfo")
    assert raw_ed25519_key(ed25519_p("spki")) == ed25519_p()
    assert raw_ed25519_key(rsa_p(1024)) is None
    assert raw_ed25519_key("not base64!") is None


def test_key_split_over_strings_with_whitespace_inside_p() -> None:
    p = rsa_p(2048)
    folded = " ".join(p[i : i + 60] for i in range(0, len(p), 60))
    record = parse_dkim_key(f"v=DKIM1;\tk=rsa;\r\n p={folded} ;")
    assert record.key is not None and record.key.bits == 2048
    assert record.problems == ()


def test_tags_flags_hashes_and_services() -> None:
    record = parse_dkim_key(f"v=DKIM1; h=sha1 : SHA256; t=y:s:x; s=email; n=notes here; p={rsa_p(1024)}")
    assert record.hash_algorithms == ("sha1", "sha256")
    assert record.flags == ("y", "s", "x")
    assert record.testing and record.service_types == ("email",)
    assert record.tag("n") == "notes here"
    assert parse_dkim_key(f"h=sha1; p={rsa_p(1024)}").allows_sha256 is False


def test_empty_p_is_a_revoked_key_not_a_problem() -> None:
    for text in ("v=DKIM1; k=rsa; p=", "v=DKIM1; p= ;", "p=   "):
        record = parse_dkim_key(text)
        assert record.revoked and record.problems == () and not record.usable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DKIM1; k=rsa", "no p= tag"),
        ("v=DKIM2; p=AAAA", "v=DKIM2"),
        ("v=dkim1; p=AAAA", "v=dkim1"),
        ("v=DKIM1; p=MIGf!!!", "not valid base64"),
        ('v=DKIM1; p=MIGfMA0G" "CSqGSIb3', "quote characters"),
        ("v=DKIM1; p=AAAAAAAA", "not DER"),
        ("v=DKIM1; p=; p=AAAA", "appears twice"),
        ("v=DKIM1; garbage; p=", "not a tag=value pair"),
        ("v=DKIM1; 1x=3; p=", "not a tag=value pair"),
        ("v=DKIM1; s=tlsrpt; p=", "not a key for email"),
        ("v=DKIM1; n=caf\u00e9; p=", "characters a tag value cannot have"),
    ],
)
def test_malformed_records_are_fatal_problems(text: str, expected: str) -> None:
    problems = fatal(text)
    assert any(expected in problem for problem in problems), problems


def test_truncated_key_gets_a_hint() -> None:
    cut = rsa_p(2048)[:252]  # what is left when the rest of a split record is lost
    assert any("cut at 255" in p for p in fatal(f"v=DKIM1; p={cut}"))


def test_raw_ed25519_bytes_without_k_hint_at_the_missing_tag() -> None:
    assert any("k=ed25519 missing" in p for p in fatal(f"v=DKIM1; p={ed25519_p()}"))


def test_ec_keys_are_not_dkim_keys() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    problems = fatal(f"v=DKIM1; p={base64.b64encode(key.public_bytes(*SPKI)).decode()}")
    assert any("does not use" in p for p in problems)


def test_tolerated_problems_are_not_fatal() -> None:
    record = parse_dkim_key(f"k=rsa; v=DKIM1;; p={rsa_p(1024)}")
    assert [p.fatal for p in record.problems] == [False, False]
    assert record.usable


@pytest.mark.parametrize(
    ("text", "is_key"),
    [
        ("v=DKIM1; p=", True),
        ("v = DKIM1; k=rsa; p=AAAA", True),
        ("v=dkim1; p=AAAA", True),
        ("k=rsa; p=AAAA", True),
        ("p=", True),
        ("v=spf1 include:_spf.example.test -all", False),
        ("v=DMARC1; p=reject", False),
        ("google-site-verification=abc", False),
        ("", False),
    ],
)
def test_which_txt_values_count_as_key_records(text: str, is_key: bool) -> None:
    assert looks_like_dkim_key(text) is is_key


@pytest.mark.parametrize(
    "text",
    ["", ";", ";;;", "=", "==;==", "p", "v=", "\x00\x01", "p=" + "A" * 10000, "k=" + "x;" * 500, "p==="],
)
def test_hostile_input_never_raises(text: str) -> None:
    record = parse_dkim_key(text)
    assert record.text == text
