"""DKIM key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463): tag-list parsing and the public key inside.

Pure and total: ``parse_dkim_key`` never raises; what is wrong is listed in ``problems``. A problem is
*fatal* when a verifier following the RFCs cannot use the key at all (every signature made with it fails),
and a warning otherwise. The key in ``p=`` is decoded with ``cryptography`` to learn its type and size.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mimawari.parse.taglist import TagProblem, split_tag_list

# RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC (ALNUMPUNC is alphanumeric or "_").
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# RFC 6376 §3.2: tag-value characters are VCHAR except ";" (and folding whitespace between them).
_TAG_VALUE = re.compile(r"[\x21-\x3a\x3c-\x7e]*(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*\Z")
_STARTS_WITH_VERSION = re.compile(r"^\s*v\s*=")
_WHITESPACE = re.compile(r"[ \t\r\n]+")

KEY_TYPES = ("rsa", "ed25519")
"""Key types a verifier knows: ``rsa`` (RFC 6376) and ``ed25519`` (RFC 8463)."""
HASH_ALGORITHMS = ("sha1", "sha256")
"""Hash algorithms DKIM defines; RFC 8301 §3.1 forbids sha1 for signing and verifying."""
ED25519_RAW_BYTES = 32


@dataclass(frozen=True)
class KeyProblem:
    """Something wrong with a key record; ``fatal`` when verifiers cannot use the key at all."""

    text: str
    fatal: bool = False


@dataclass(frozen=True)
class DkimPublicKey:
    """The key decoded from ``p=``: ``rsa`` or ``ed25519``, its size in bits, how it was encoded."""

    algorithm: str
    bits: int
    encoding: str
    """``SubjectPublicKeyInfo`` (the usual RSA form), ``RSAPublicKey`` (PKCS#1, which RFC 6376 names and
    most verifiers accept) or ``raw`` (the 32-byte Ed25519 key RFC 8463 §4.2 asks for)."""


@dataclass(frozen=True)
class DkimKeyRecord:
    """A parsed key record. Fields hold the tags' meaning with RFC 6376 defaults applied."""

    text: str
    tags: tuple[tuple[str, str], ...]
    problems: tuple[KeyProblem, ...] = ()
    key_type: str = "rsa"
    """``k=`` as published (lower case); RFC 6376 default ``rsa``."""
    hash_algorithms: tuple[str, ...] = ()
    """``h=`` as published (lower case); empty when absent, which allows every algorithm."""
    flags: tuple[str, ...] = ()
    """``t=``: ``y`` (testing) and ``s`` (no subdomains in ``i=``); unknown flags kept, they are ignored."""
    service_types: tuple[str, ...] = ("*",)
    revoked: bool = False
    """``p=`` is empty: the key is revoked (RFC 6376 §3.6.1), the way to retire a selector."""
    key: DkimPublicKey | None = None

    def tag(self, name: str) -> str | None:
        return next((value for key, value in self.tags if key == name), None)

    @property
    def usable(self) -> bool:
        """True when a verifier can check signatures with this record (not revoked, nothing fatal)."""
        return not self.revoked and not any(problem.fatal for problem in self.problems)

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def allows_sha256(self) -> bool:
        return not self.hash_algorithms or "sha256" in self.hash_algorithms

    @property
    def allows_sha1(self) -> bool:
        return not self.hash_algorithms or "sha1" in self.hash_algorithms


def looks_like_dkim_key(text: str) -> bool:
    """True for a TXT value at a selector name that a verifier would take for a key record.

    RFC 6376 §3.6.1: a record that starts with ``v=`` and any value but ``DKIM1`` is discarded, so a
    wildcard ``v=spf1`` record that also answers for ``<selector>._domainkey`` is not a key. Without ``v=``
    the record is a key record when it has a ``p=`` or ``k=`` tag.
    """
    tag_list = split_tag_list(text)
    if _STARTS_WITH_VERSION.match(text):
        # A wrong-case "v=dkim1" is still meant as a key: keep it, and let the parser say what is wrong.
        return tag_list.parts[0].value.upper().startswith("DKIM1")
    return any(name in ("p", "k") for name, _ in tag_list.tags)


def parse_dkim_key(text: str) -> DkimKeyRecord:
    """Parse a key record (the TXT strings already joined). Never raises."""
    tags, problems = _tag_list(text)
    values = dict(tags)
    version = values.get("v")
    if version is not None:
        if version != "DKIM1":
            # RFC 6376 §3.6.1: records beginning with v= of any other value MUST be discarded.
            problems.append(KeyProblem(f"v={version}: the version must be exactly DKIM1", fatal=True))
        elif tags[0][0] != "v":
            problems.append(KeyProblem("v=DKIM1 must be the first tag (RFC 6376 §3.6.1)"))
    key_type = values.get("k", "rsa").strip().lower()
    service_types = _colon_list(values.get("s", "*"))
    if "*" not in service_types and "email" not in service_types:
        problems.append(
            KeyProblem(f"s={values['s']}: not a key for email, verifiers ignore it (RFC 6376 §3.6.1)", True)
        )
    encoded = values.get("p")
    key = None
    if encoded is None:
        problems.append(KeyProblem("no p= tag: the public key is required (RFC 6376 §3.6.1)", fatal=True))
    elif _WHITESPACE.sub("", encoded):
        key, problem = decode_public_key(encoded, key_type)
        if problem:
            problems.append(KeyProblem(problem, fatal=True))
    return DkimKeyRecord(
        text=text,
        tags=tags,
        problems=tuple(problems),
        key_type=key_type,
        hash_algorithms=_colon_list(values.get("h", "")),
        flags=_colon_list(values.get("t", "")),
        service_types=service_types,
        revoked=encoded is not None and not _WHITESPACE.sub("", encoded),
        key=key,
    )


def _tag_list(text: str) -> tuple[tuple[tuple[str, str], ...], list[KeyProblem]]:
    """RFC 6376 §3.2 tag-list: ``name=value`` separated by ``;``; a duplicate name invalidates it all."""
    tag_list = split_tag_list(text, tag_name=_TAG_NAME)
    problems: list[KeyProblem] = []
    for part in tag_list.parts:
        if part.problem is TagProblem.EMPTY:
            problems.append(KeyProblem("an empty tag between two semicolons (RFC 6376 §3.2)"))
            continue
        if part.problem is TagProblem.NOT_A_PAIR:
            problems.append(KeyProblem(f"{part.text!r} is not a tag=value pair (RFC 6376 §3.2)", True))
            continue
        # p= gets its own, more precise, base64 check.
        if part.name != "p" and not valid_tag_value(part.value):
            problems.append(KeyProblem(f"{part.name}= holds characters a tag value cannot have", fatal=True))
        if part.problem is TagProblem.DUPLICATE:
            problems.append(
                KeyProblem(f"{part.name}= appears twice, which invalidates the record (RFC 6376 §3.2)", True)
            )
    return tag_list.tags, problems


def valid_tag_value(value: str) -> bool:
    return bool(_TAG_VALUE.match(value))


def _colon_list(value: str) -> tuple[str, ...]:
    return tuple(item for item in (_WHITESPACE.sub("", v).lower() for v in value.split(":")) if item)


def decode_public_key(encoded: str, key_type: str) -> tuple[DkimPublicKey | None, str]:
    """Decode ``p=`` (base64, whitespace allowed) into a key; the second value says why it failed."""
    compact = _WHITESPACE.sub("", encoded)
    if '"' in compact:
        return None, "p= contains quote characters: the record was pasted with its string quotes"
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None, "p= is not valid base64"
    if key_type == "ed25519" and len(data) == ED25519_RAW_BYTES:
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(data)
        except ValueError:
            return None, "p= is not an Ed25519 public key"
        return DkimPublicKey("ed25519", 256, "raw"), ""
    try:
        loaded = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        if len(data) == ED25519_RAW_BYTES:
            hint = " (32 bytes is a raw Ed25519 key: is k=ed25519 missing?)"
        elif len(compact) > 200:
            hint = " (a long record may have been cut at 255 characters)"
        else:
            hint = ""
        return None, f"p= does not hold a public key: {len(data)} bytes that are not DER{hint}"
    spki = loaded.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoding = "SubjectPublicKeyInfo" if spki == data else "RSAPublicKey"
    if isinstance(loaded, rsa.RSAPublicKey):
        return DkimPublicKey("rsa", loaded.key_size, encoding), ""
    if isinstance(loaded, ed25519.Ed25519PublicKey):
        return DkimPublicKey("ed25519", 256, encoding), ""
    return None, f"p= holds a {type(loaded).__name__.removesuffix('PublicKey')} key, which DKIM does not use"


def raw_ed25519_key(encoded: str) -> str | None:
    """The RFC 8463 form (base64 of the raw 32 bytes) of an Ed25519 key published as SubjectPublicKeyInfo."""
    try:
        loaded = serialization.load_der_public_key(
            base64.b64decode(_WHITESPACE.sub("", encoded), validate=True)
        )
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(loaded, ed25519.Ed25519PublicKey):
        return None
    raw = loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
