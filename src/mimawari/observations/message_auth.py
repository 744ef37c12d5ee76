"""Authentication of a sample message without I/O: DKIM verification over recorded key answers, alignment.

DKIM is verified with dkimpy, but dkimpy never touches the network here: its ``dnsfunc`` answers from
the key lookup the message plan already made (and recorded), so a replayed snapshot verifies alike. What
dkimpy would turn into a plain ``False`` — a key lookup that timed out, a revoked key — is decided first
from the ``DnsAnswer`` and the project's key parser, so a timeout is ``temperror`` (RFC 8601 §2.7.1),
never ``fail``, and a missing key is ``permerror``, never a bad signature.

dkimpy also judges ``t=``/``x=`` against the clock; the sample may be days old, so those two tags are
left out of its field check and reported as facts instead (``x=`` in the past is a note, not a failure
of the message as it was sent). RFC 8301 is applied on top: ``rsa-sha1`` and RSA keys under 1024 bits
are never a pass.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from dataclasses import dataclass
from enum import StrEnum

import dkim  # type: ignore[import-untyped]
import dkim.util  # type: ignore[import-untyped]

from mimawari.lookup import DnsAnswer, txt_value
from mimawari.model import Status
from mimawari.parse.dkim import DkimKeyRecord, looks_like_dkim_key, parse_dkim_key
from mimawari.parse.dkim_signature import DkimSignature
from mimawari.parse.names import organizational_domain

ALGORITHMS = ("rsa-sha256", "ed25519-sha256", "rsa-sha1")
MIN_RSA_BITS = 1024
"""RFC 8301 §3.2: verifiers must not accept RSA keys under 1024 bits."""
HAS_NACL = importlib.util.find_spec("nacl") is not None
"""dkimpy verifies Ed25519 (RFC 8463) only with PyNaCl installed."""

_QUIET = logging.getLogger("mimawari.dkimpy")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class AuthResult(StrEnum):
    """The result words of RFC 8601 §2.7 (DKIM, SPF) and RFC 7489 §11.2 (DMARC)."""

    PASS = "pass"
    FAIL = "fail"
    NEUTRAL = "neutral"
    NONE = "none"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


@dataclass(frozen=True)
class KeyFacts:
    """The key a signature pointed to, as far as it was found."""

    bits: int | None = None
    key_type: str = ""
    testing: bool = False
    """``t=y``: the domain says it is testing DKIM (RFC 6376 §3.6.1)."""
    record: str = ""


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    """RFC 7489 §3.1: strict (``s``) needs the same name; relaxed (``r``) the same organisational domain."""
    if not domain or not from_domain:
        return False
    if mode == "s":
        return domain == from_domain
    return organizational_domain(domain) == organizational_domain(from_domain)


def key_record(answer: DnsAnswer) -> DkimKeyRecord | None:
    """The first key record of a TXT answer (RFC 6376 §3.6.2.2 lets verifiers pick); None without one."""
    texts = [text for text in map(txt_value, answer.records) if looks_like_dkim_key(text)]
    return parse_dkim_key(texts[0]) if texts else None


def verify_signature(
    raw: bytes, signature: DkimSignature, answer: DnsAnswer | None
) -> tuple[AuthResult, str, KeyFacts]:
    """The result of one signature, why, and the key's facts. ``answer`` is its key lookup (None when
    the signature was too malformed to ask)."""
    if signature.problems:
        return AuthResult.PERMERROR, signature.problems[0], KeyFacts()
    if signature.algorithm not in ALGORITHMS:
        return AuthResult.PERMERROR, f"a={signature.algorithm} is not a DKIM algorithm", KeyFacts()
    if answer is None:
        return AuthResult.PERMERROR, "the key was not looked up", KeyFacts()
    if not answer.status.answered:
        # RFC 6376 §6.1.2: a key that cannot be retrieved now is a temporary failure.
        return AuthResult.TEMPERROR, f"{signature.key_name} TXT: {answer.describe()}", KeyFacts()
    record = key_record(answer) if answer.status is Status.PRESENT else None
    if record is None:
        return (
            AuthResult.PERMERROR,
            f"no key record at {signature.key_name} ({answer.describe()})",
            KeyFacts(),
        )
    facts = KeyFacts(record.key.bits if record.key else None, record.key_type, record.testing, record.text)
    if record.revoked:
        return AuthResult.PERMERROR, f"the key at {signature.key_name} is revoked (empty p=)", facts
    if not record.usable:
        problem = next(p.text for p in record.problems if p.fatal)
        return AuthResult.PERMERROR, f"the key at {signature.key_name} is unusable: {problem}", facts
    wanted = "ed25519" if signature.algorithm.startswith("ed25519") else "rsa"
    if record.key_type != wanted:
        return AuthResult.PERMERROR, f"a={signature.algorithm} but the key is k={record.key_type}", facts
    if signature.algorithm == "rsa-sha1":
        return AuthResult.PERMERROR, "a=rsa-sha1 is not accepted any more (RFC 8301 §3.1)", facts
    if wanted == "rsa" and facts.bits is not None and facts.bits < MIN_RSA_BITS:
        return AuthResult.PERMERROR, f"an RSA key of {facts.bits} bits is too short (RFC 8301 §3.2)", facts
    if wanted == "ed25519" and not HAS_NACL:
        return AuthResult.NEUTRAL, "Ed25519 signatures are not verified here (PyNaCl is not installed)", facts
    result, detail = _dkimpy(raw, signature, record.text)
    return result, detail, facts


def _dkimpy(raw: bytes, signature: DkimSignature, key_text: str) -> tuple[AuthResult, str]:
    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        asked = (name.decode("ascii", "replace") if isinstance(name, bytes) else name).rstrip(".").lower()
        return key_text.encode() if asked == signature.key_name else None

    try:
        verifier = dkim.DKIM(raw, logger=_QUIET, minkey=0)
        fields = [(k, v) for k, v in verifier.headers if k.lower() == b"dkim-signature"]
        if len(fields) <= signature.index:
            return AuthResult.PERMERROR, "the verifier does not see this signature (a malformed header?)"
        tags = dkim.util.parse_tag_value(fields[signature.index][1])
        # Everything but the clock checks (see the module docstring).
        dkim.validate_signature_fields({k: v for k, v in tags.items() if k not in (b"t", b"x")})
        include = [name.lower() for name in re.split(rb"\s*:\s*", tags[b"h"])]
        valid = verifier.verify_sig(tags, include, fields[signature.index], dnsfunc)
    except dkim.ValidationError as error:
        if "body hash mismatch" in str(error):
            return AuthResult.FAIL, "body hash mismatch: the body was changed after signing"
        return AuthResult.PERMERROR, f"the signature is not valid: {_short(error)}"
    except dkim.MessageFormatError as error:
        return AuthResult.PERMERROR, f"the verifier cannot read the message: {_short(error)}"
    except Exception as error:  # dkimpy raises plain errors on some hostile input; never a traceback
        return AuthResult.PERMERROR, f"the verifier failed: {type(error).__name__}: {_short(error)}"
    if valid:
        return AuthResult.PASS, "the signature verifies"
    return AuthResult.FAIL, "the signature does not match the signed header fields (changed after signing)"


def _short(error: BaseException) -> str:
    return str(error)[:160]
