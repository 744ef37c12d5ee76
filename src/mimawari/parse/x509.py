"""Certificate facts from DER, and host-name matching (RFC 6125 §6.4), with no I/O.

``describe_certificate`` turns one certificate into the frozen ``CertificateFacts`` the checks grade
(names, dates, key, signature, self-signed, CA flag, fingerprint), or into a one-line reason why it could
not be read — a malformed certificate is a finding, never a traceback. Trust (does the chain lead to a
root?) is judged by ``observe.tls.TrustStore`` at scan time; these are the facts of one certificate.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

with warnings.catch_warnings():
    # cryptography 46+ deprecates DSA and warns on touching the class; a DSA certificate seen in the wild
    # must still be described (and graded as the weak key it is).
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from cryptography.hazmat.primitives.asymmetric.dsa import DSAPublicKey

_SIGNATURE_NAMES = {
    oid: attribute.lower().replace("_", "-")
    for attribute, oid in vars(SignatureAlgorithmOID).items()
    if isinstance(oid, x509.ObjectIdentifier)
}
"""``rsa-with-sha256``, ``ecdsa-with-sha384``, ``ed25519``, ``rsassa-pss`` … by OID."""


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    """The subject DN in RFC 4514 form (``CN=mx.example.com,O=Example``)."""
    subject_cn: str
    san_dns: tuple[str, ...]
    """subjectAltName dNSName entries, as written (wildcards included)."""
    san_ip: tuple[str, ...]
    issuer: str
    not_before: int
    """Validity start, Unix seconds."""
    not_after: int
    key_type: str
    """``RSA``, ``EC``, ``Ed25519``, ``Ed448``, ``DSA`` (``X25519``, ``X448``, ``unknown`` otherwise)."""
    key_bits: int
    curve: str
    """The EC curve (``secp256r1``); empty for other key types."""
    signature_algorithm: str
    """``rsa-with-sha256``, ``ecdsa-with-sha384``, ``ed25519``, ``rsassa-pss``, or the dotted OID."""
    signature_hash: str
    """The hash the signature uses (``sha256``, ``sha1``, ``md5``); empty for EdDSA, whose hash is
    built in, and for algorithms ``cryptography`` cannot name."""
    self_signed: bool
    """Issuer equals subject and the signature verifies with the certificate's own key."""
    is_ca: bool
    sha256: str
    """SHA-256 fingerprint of the DER, lower-case hex."""

    @property
    def names(self) -> tuple[str, ...]:
        """The DNS names a client matches against: the SAN entries, else the subject CN (RFC 6125 §6.4.4)."""
        if self.san_dns:
            return self.san_dns
        return (self.subject_cn,) if self.subject_cn else ()

    @property
    def key_description(self) -> str:
        """``RSA 2048``, ``EC secp384r1``, ``Ed25519``."""
        if self.curve:
            return f"{self.key_type} {self.curve}"
        return self.key_type if self.key_type.startswith(("Ed", "X")) else f"{self.key_type} {self.key_bits}"

    def days_left(self, moment: int) -> float:
        """Days from ``moment`` to the end of validity; negative once expired."""
        return (self.not_after - moment) / 86400

    def lifetime_days(self) -> float:
        return (self.not_after - self.not_before) / 86400


def describe_certificate(der: bytes) -> CertificateFacts | str:
    """The facts of one DER certificate, or why it cannot be read."""
    try:
        cert = x509.load_der_x509_certificate(der)
        return _facts(cert, der)
    except (
        ValueError,
        TypeError,
        UnsupportedAlgorithm,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"the certificate could not be parsed ({reason})"


def _facts(cert: x509.Certificate, der: bytes) -> CertificateFacts:
    key_type, key_bits, curve = _key(cert)
    try:
        hash_algorithm = cert.signature_hash_algorithm
        signature_hash = hash_algorithm.name if hash_algorithm is not None else ""
    except UnsupportedAlgorithm:
        signature_hash = ""
    oid = cert.signature_algorithm_oid
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(),
        subject_cn=_common_name(cert.subject),
        san_dns=_san(cert, x509.DNSName),
        san_ip=_san(cert, x509.IPAddress),
        issuer=cert.issuer.rfc4514_string(),
        not_before=int(cert.not_valid_before_utc.timestamp()),
        not_after=int(cert.not_valid_after_utc.timestamp()),
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        signature_algorithm=_SIGNATURE_NAMES.get(oid, oid.dotted_string),
        signature_hash=signature_hash,
        self_signed=_self_signed(cert),
        is_ca=_is_ca(cert),
        sha256=hashlib.sha256(der).hexdigest(),
    )


def _key(cert: x509.Certificate) -> tuple[str, int, str]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown", 0, ""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, ""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, DSAPublicKey):
        return "DSA", key.key_size, ""
    # EdDSA and X25519/X448 keys have fixed sizes: the curve's field size in bits.
    fixed: list[tuple[type, str, int]] = [
        (ed25519.Ed25519PublicKey, "Ed25519", 256),
        (ed448.Ed448PublicKey, "Ed448", 456),
        (x25519.X25519PublicKey, "X25519", 256),
        (x448.X448PublicKey, "X448", 448),
    ]
    for kind, name, bits in fixed:
        if isinstance(key, kind):
            return name, bits, ""
    return "unknown", 0, ""


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return ""
    value = values[-1].value  # the most specific CN, as RFC 6125 §6.4.4 suggests
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _san(cert: x509.Certificate, kind: type[x509.DNSName] | type[x509.IPAddress]) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(str(value) for value in san.get_values_for_type(kind))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The names match but cryptography cannot check this signature (MD5, DSA with an odd hash …):
        # the matching names are the best evidence left.
        return True
    return True


def utc(seconds: int) -> str:
    """``2025-03-01 12:00 UTC`` for evidence."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- RFC 6125 §6.4 name matching ---------------------------------------------------------------------


def _reference(host: str) -> str | None:
    """The host as a comparable ASCII name: lower case, no trailing dot, U-labels as A-labels."""
    name = host.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return name if name and all(name.split(".")) else None


def _presented_matches(reference: str, presented: str) -> bool:
    name = presented.strip().rstrip(".").lower()
    if not name or not name.isascii():
        return False  # a presented DNS-ID is an A-label string (RFC 6125 §6.4.2); anything else is wrong
    if name == reference:
        return True
    labels = name.split(".")
    if labels[0] != "*" or "*" in name[1:]:
        # §6.4.3: only a wildcard that is the whole left-most label; "f*.example.com" and deeper
        # wildcards are not honoured (as RFC 9525 and browsers do).
        return False
    parent = ".".join(labels[1:])
    if len(labels) < 3 or not all(labels[1:]):
        return False  # "*.com": a wildcard over a one-label parent (a TLD) is never honoured
    head, _, rest = reference.partition(".")
    return bool(head) and rest == parent


def name_matches(host: str, facts: CertificateFacts) -> bool:
    """Does the certificate name ``host``? SAN DNS names when there are any, else the subject CN (the
    legacy fallback of RFC 6125 §6.4.4); case-insensitive; trailing dots ignored; A-labels compared as
    they are; a wildcard matches exactly one whole left-most label. An IP literal matches SAN IPs only."""
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(value) == address for value in facts.san_ip)
    reference = _reference(host)
    if reference is None:
        return False
    return any(_presented_matches(reference, presented) for presented in facts.names)
