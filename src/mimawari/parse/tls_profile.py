"""The TLS grading profile: NCSC-NL security levels for versions, suites, groups, keys and signatures.

Levels follow the NCSC-NL "IT Security Guidelines for Transport Layer Security (TLS)" v2.1, as
Internet.nl applies them: Good, Sufficient, Phase out, Insufficient (guideline B1-1 for versions, B2-1 …
B2-5 and Appendix C for algorithm selections, B6-1 / table 10 for FFDHE groups, and the tables for elliptic
curves, certificate keys and hash functions). ``docs/tls.md`` is the table a user reads; this module is
the same table as code. Everything here is pure and total: a name the profile does not know gives
``None`` ("unclassified"), never a guess — an unknown suite or group is shown to the user as such and
never graded as insufficient, because a gap in our tables is not a fault of the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from mimawari.model import Grade
from mimawari.parse.tls_suites import by_name


class Level(IntEnum):
    """NCSC-NL security levels, ordered so that the worst of several is ``max``."""

    GOOD = 0
    SUFFICIENT = 1
    PHASE_OUT = 2
    INSUFFICIENT = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


def level_grade(level: Level) -> Grade:
    """Good and Sufficient both pass (A), as Internet.nl shows them both green: NCSC-NL v2.1 calls a
    Sufficient setting secure, and refusing TLS 1.2 would cut off much of the mail world. Phase out: C
    (works today, fragile; plan its removal). Insufficient: E (broken; remove now)."""
    return {Level.GOOD: Grade.A, Level.SUFFICIENT: Grade.A, Level.PHASE_OUT: Grade.C}.get(level, Grade.E)


def worst(levels: list[Level | None]) -> Level | None:
    """The worst classified level; None when nothing was classified."""
    known = [level for level in levels if level is not None]
    return max(known) if known else None


# --- protocol versions (guideline B1-1) ------------------------------------------------------------

_VERSIONS = {
    "TLSV1.3": Level.GOOD,
    "TLSV1.2": Level.SUFFICIENT,
    "TLSV1.1": Level.PHASE_OUT,
    "TLSV1.0": Level.PHASE_OUT,
    "SSLV3": Level.INSUFFICIENT,
    "SSLV2": Level.INSUFFICIENT,
}


def normalize_version(version: str) -> str:
    """``TLSv1.2`` from ``TLS 1.2``, ``tls1_2``, ``TLSv1`` (what ``ssl`` says for 1.0), ``SSLv3.0`` …"""
    text = version.strip().upper().replace(" ", "").replace("_", ".").replace("V", "")
    match = re.fullmatch(r"(TLS|SSL)(\d)(?:\.(\d))?", text)
    if match is None:
        return version.strip()
    family, major, minor = match.groups()
    if family == "SSL":
        return f"SSLv{major}"
    return f"TLSv{major}.{minor or 0}"


def version_level(version: str) -> Level | None:
    return _VERSIONS.get(normalize_version(version).upper())


# --- cipher suites (guidelines B2-1 … B2-4, Appendix C) ---------------------------------------------


@dataclass(frozen=True)
class SuiteParts:
    """A suite's algorithms, upper case with underscores: ``ECDHE``, ``RSA``, ``AES_128_GCM``, ``SHA256``.
    TLS 1.3 suites leave ``kex`` and ``auth`` empty: they are negotiated apart from the suite."""

    kex: str
    auth: str
    cipher: str
    mac: str
    tls13: bool


_MACS = ("SHA512", "SHA384", "SHA256", "SHA224", "SHA", "MD5", "SM3", "NULL")
_SCSV = re.compile(r"_SCSV$")


def parse_suite_name(name: str) -> SuiteParts | None:
    """Split an IANA name, ``TLS_<KEX>_<AUTH>_WITH_<CIPHER>_<MAC>`` or TLS 1.3's ``TLS_<AEAD>_<HASH>``."""
    text = name.strip().upper()
    if not text.startswith(("TLS_", "SSL_")) or _SCSV.search(text):
        return None
    body = text[4:]
    if "_WITH_" in body:
        exchange, _, protection = body.partition("_WITH_")
        tls13 = False
    else:
        exchange, protection, tls13 = "", body, True
    cipher, mac = protection, "AEAD"
    for candidate in _MACS:
        if protection.endswith("_" + candidate):
            cipher, mac = protection[: -len(candidate) - 1], candidate
            break
    if not cipher:
        return None
    if tls13:
        # TLS 1.3 names end in the HKDF hash, not a MAC; TLS_SHA256_SHA256 (RFC 9150) has no cipher.
        cipher = "NULL" if cipher in _MACS else cipher
        return SuiteParts("", "", cipher, "AEAD", tls13=True)
    kex, _, auth = exchange.partition("_")
    if not auth or auth.startswith("EXPORT"):
        # TLS_RSA_WITH_…: RSA both exchanges and authenticates; TLS_PSK_WITH_…: the PSK does.
        auth = kex + ("_" + auth if auth else "")
    return SuiteParts(kex, auth, cipher, mac, tls13=False)


def _registered(name: str) -> SuiteParts | None:
    """The suite as the ``tls_suites`` registry describes it, normalised to ``SuiteParts``."""
    suite = by_name(name)
    if suite is None:
        return None

    def norm(value: str) -> str:
        return value.strip().upper().replace("-", "_").replace(" ", "_")

    if suite.tls13:  # the registry says "any": TLS 1.3 negotiates the exchange apart from the suite
        return SuiteParts("", "", norm(suite.cipher), "AEAD", tls13=True)
    return SuiteParts(norm(suite.kex), norm(suite.auth), norm(suite.cipher), norm(suite.mac) or "AEAD", False)


def suite_parts(name: str) -> SuiteParts | None:
    """From the suite registry when it knows the name, else from the IANA name itself (a suite the
    registry lacks, or a name written in another case)."""
    return _registered(name) or parse_suite_name(name)


def _kex_level(kex: str) -> Level:
    # ECDHE is Good and DHE Sufficient (forward secrecy); RSA key transport has none: Phase out.
    # Static (EC)DH, anonymous, PSK, SRP, Kerberos and export exchanges are Insufficient.
    levels = {"ECDHE": Level.GOOD, "DHE": Level.SUFFICIENT, "EDH": Level.SUFFICIENT, "RSA": Level.PHASE_OUT}
    return levels.get(kex.replace("_", ""), Level.INSUFFICIENT)


def _auth_level(auth: str) -> Level:
    # Certificates with ECDSA or RSA keys authenticate; DSS (removed in TLS 1.3), anon, NULL, PSK do not
    # meet the algorithm tables of B2-1 … B2-4.
    return Level.GOOD if auth in ("ECDSA", "RSA") else Level.INSUFFICIENT


def _cipher_level(cipher: str) -> Level:
    compact = cipher.replace("_", "")
    if compact.startswith("CHACHA20"):
        return Level.GOOD
    if compact.startswith("AES"):
        if compact.endswith(("CCM8", "CCM8SHA256")):
            return Level.INSUFFICIENT  # 64-bit tags: IANA "not recommended", absent from every profile
        if "GCM" in compact:
            return Level.GOOD
        # AES-CCM (full tag) is not in Appendix C but meets the bulk-encryption table like GCM; the 2025 edition lists it as
        # Sufficient, and so do we. AES-CBC is Sufficient.
        return Level.SUFFICIENT
    if compact.startswith(("3DES", "DESEDE", "TRIPLEDES")):
        return Level.PHASE_OUT
    # RC4, DES, RC2, IDEA, SEED, Camellia, ARIA, GOST, SM4, NULL: not in Appendix C.
    return Level.INSUFFICIENT


def _mac_level(mac: str) -> Level:
    compact = mac.replace("_", "").removeprefix("HMAC")
    if compact in ("AEAD", "", "SHA256", "SHA384", "SHA512"):
        return Level.GOOD
    # HMAC-SHA1 in CBC suites is Sufficient; MD5 and NULL are Insufficient.
    return Level.SUFFICIENT if compact in ("SHA", "SHA1") else Level.INSUFFICIENT


def parts_level(parts: SuiteParts) -> Level:
    """The worst of the suite's algorithms; a TLS 1.2 (or older) suite is at best Sufficient, since v2.1
    rates TLS 1.2 itself Sufficient (B1-1) and Appendix C lists every TLS 1.2 suite as Sufficient at best."""
    if parts.tls13:
        return _cipher_level(parts.cipher)
    levels = [_kex_level(parts.kex), _auth_level(parts.auth), _cipher_level(parts.cipher), Level.SUFFICIENT]
    if "GCM" not in parts.cipher and "CCM" not in parts.cipher and "CHACHA20" not in parts.cipher:
        levels.append(_mac_level(parts.mac))
    return max(levels)


def suite_level(name: str) -> Level | None:
    """The level of a cipher suite by IANA name; None when the name is not a suite we can read."""
    parts = suite_parts(name)
    return None if parts is None else parts_level(parts)


def suite_kex(name: str) -> str:
    """``ECDHE``, ``DHE``, ``RSA`` …; ``TLS13`` for TLS 1.3 suites (always (EC)DHE); "" when unknown."""
    parts = suite_parts(name)
    if parts is None:
        return ""
    return "TLS13" if parts.tls13 else parts.kex


# --- key exchange groups (curve table; B6-1 and table 10 for the RFC 7919 FFDHE groups) ---------------

_GOOD_CURVES = {"x25519", "x448", "secp256r1", "secp384r1", "secp521r1"}
_ALIASES = {"prime256v1": "secp256r1", "p256": "secp256r1", "p384": "secp384r1", "p521": "secp521r1"}
_HYBRID = re.compile(r"^(x25519|secp256r1|secp384r1|x448)(mlkem\d+|kyber\d+(draft\d+)?)$")


def normalize_group(name: str) -> str:
    text = name.strip().lower().replace("-", "").replace("_", "")
    return _ALIASES.get(text, text)


def group_level(name: str) -> Level | None:
    """X25519, X448 and the NIST curves P-256/384/521 are Good (brainpool curves too, as in BSI
    TR-02102-2); FFDHE groups of 3072 bits and more are Sufficient, ffdhe2048 Phase out; anything smaller
    or a binary/Koblitz curve is Insufficient. Hybrid post-quantum groups (X25519MLKEM768 …) are Good: the
    classical half alone is. Pure post-quantum and unknown groups are unclassified (None)."""
    group = normalize_group(name)
    if (
        group in _GOOD_CURVES
        or _HYBRID.match(group)
        or re.fullmatch(r"brainpoolp(256|384|512)r1(tls13)?", group)
    ):
        return Level.GOOD
    finite = re.fullmatch(r"(?:ffdhe|dh)(\d+)", group)
    if finite:
        return _dh_level(int(finite.group(1)))
    curve = re.fullmatch(r"(?:secp|sect|brainpoolp)(\d+)[a-z]\d", group)
    if curve:
        # secp224r1 is Phase out; every other curve (binary, Koblitz, < 224 bits) is not in the curve table.
        return Level.PHASE_OUT if group == "secp224r1" else Level.INSUFFICIENT
    return None


def _dh_level(bits: int) -> Level:
    if bits >= 3072:
        return Level.SUFFICIENT
    return Level.PHASE_OUT if bits >= 2048 else Level.INSUFFICIENT


# --- certificate keys and signatures (key-size and hash-function tables) -----------------------------


def key_level(key_type: str, bits: int) -> Level | None:
    """RSA: ≥ 3072 bits Good, 2048 Sufficient, less Insufficient. EC: P-256 and larger Good, P-224 Phase
    out, smaller Insufficient. Ed25519 and Ed448 Good. DSA: Phase out at ≥ 2048 bits (gone from TLS 1.3
    and from FIPS 186-5 signing), else Insufficient. Unknown types: None."""
    kind = key_type.strip().upper()
    if kind == "RSA":
        if bits >= 3072:
            return Level.GOOD
        return Level.SUFFICIENT if bits >= 2048 else Level.INSUFFICIENT
    if kind in ("EC", "ECDSA"):
        if bits >= 256:
            return Level.GOOD
        return Level.PHASE_OUT if bits >= 224 else Level.INSUFFICIENT
    if kind in ("ED25519", "ED448"):
        return Level.GOOD
    if kind == "DSA":
        return Level.PHASE_OUT if bits >= 2048 else Level.INSUFFICIENT
    return None


def signature_level(algorithm: str) -> Level | None:
    """By the hash the signature uses: SHA-256, SHA-384, SHA-512 (and the SHA-3 family) Good; SHA-224
    Phase out; SHA-1, MD5 and MD2 Insufficient (SHA-1 collisions are practical since 2020). EdDSA
    (``ed25519``, ``ed448``) has its hash built in: Good. Accepts ``sha256``, ``SHA-256``,
    ``sha256WithRSAEncryption``, ``ecdsa-with-SHA384``, ``rsa-with-sha1`` …; None when no hash is named."""
    text = algorithm.strip().lower().replace("-", "").replace("_", "")
    if "ed25519" in text or "ed448" in text:
        return Level.GOOD
    if re.search(r"sha3?(256|384|512)", text):
        return Level.GOOD
    if "sha224" in text:
        return Level.PHASE_OUT
    if re.search(r"sha1|sha(?!\d)|md5|md2|md4", text):
        return Level.INSUFFICIENT
    return None
