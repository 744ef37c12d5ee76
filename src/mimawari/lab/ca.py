"""The lab's throw-away certificate authority: made at lab start, trusted only by the lab's own scans.

``LabCa`` creates a CA and issues leaf certificates for named hosts, in the four shapes the lab needs to
test certificate handling: ``valid`` (issued by the CA, for the name, in date), ``expired`` (issued by
the CA, dates in the past), ``wrong-name`` (issued by the CA for another name) and ``self-signed``
(the leaf signs itself). Leaf keys are ECDSA P-256 by default, derived from the host name so that lab
zones can publish matching TLSA records (``lab_tlsa``), or RSA of 1024, 2048 or 4096 bits (``KeyType``), for servers whose key size is the finding.
Everything lives in one temporary directory that ``close`` removes; ``ca_file`` is the CA's PEM there,
for ``--ca-file`` or ``HttpClient(ca_file=...)``.

``ServerTls`` and ``server_context`` turn a lab server's TLS settings (certificate, key, protocol
versions, cipher string) into the ``ssl.SSLContext`` it listens with.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import ssl
import tempfile
import warnings
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WRONG_NAME = "wrong-name.lab.invalid"
"""The name a ``wrong-name`` certificate is issued for: a name no lab site can have (RFC 6761)."""


class CertMode(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG_NAME = "wrong-name"
    SELF_SIGNED = "self-signed"


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def lab_ec_key(host: str) -> ec.EllipticCurvePrivateKey:
    """The lab's P-256 key for ``host``, the same at every start, so lab zones can publish TLSA records
    (RFC 7671 DANE-EE ``3 1 1``) that match it. A lab key protects nothing: it is derived from the name."""
    digest = hashlib.sha256(f"mimawari lab key {host.lower()}".encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest) % (P256_ORDER - 1) + 1, ec.SECP256R1())


def lab_tlsa(host: str) -> str:
    """The DANE-EE SPKI SHA-256 TLSA record (``3 1 1 …``) of ``lab_ec_key(host)``."""
    spki = (
        lab_ec_key(host)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return f"3 1 1 {hashlib.sha256(spki).hexdigest()}"


class KeyType(StrEnum):
    EC = "ec"
    """ECDSA P-256."""
    RSA1024 = "rsa1024"
    RSA2048 = "rsa2048"
    RSA4096 = "rsa4096"

    def generate(self, host: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
        if self is KeyType.EC:
            return lab_ec_key(host)
        return rsa.generate_private_key(public_exponent=65537, key_size=int(self.value.removeprefix("rsa")))


@dataclass(frozen=True)
class LeafFiles:
    """A leaf certificate (with its chain) and its key, as PEM files for ``SSLContext.load_cert_chain``."""

    cert_file: str
    key_file: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mimawari lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class LabCa:
    """A CA and the leaves it issued, in a temporary directory. Use as a context manager or ``close()``."""

    def __init__(self, name: str = "mimawari lab CA") -> None:
        self.directory = tempfile.mkdtemp(prefix="mimawari-lab-ca-")
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        public = self._key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = self._write("ca.pem", self.certificate.public_bytes(serialization.Encoding.PEM))

    def __enter__(self) -> LabCa:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def issue(self, host: str, mode: CertMode = CertMode.VALID, key_type: KeyType = KeyType.EC) -> LeafFiles:
        """A server certificate for ``host`` in the given mode, written next to the CA file."""
        key = key_type.generate(host)
        subject = WRONG_NAME if mode is CertMode.WRONG_NAME else host
        now = _now()
        if mode is CertMode.EXPIRED:
            not_before, not_after = now - datetime.timedelta(days=60), now - datetime.timedelta(days=30)
        else:
            not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        self_signed = mode is CertMode.SELF_SIGNED
        issuer_key = key if self_signed else self._key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(subject) if self_signed else self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        )
        leaf = builder.sign(issuer_key, hashes.SHA256())
        stem = f"{host}-{mode.value}" if key_type is KeyType.EC else f"{host}-{mode.value}-{key_type.value}"
        cert_file = self._write(f"{stem}.pem", leaf.public_bytes(serialization.Encoding.PEM))
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return LeafFiles(cert_file, self._write(f"{stem}.key", key_pem))

    def _write(self, filename: str, data: bytes) -> str:
        path = os.path.join(self.directory, filename.replace("/", "_"))
        with open(path, "wb") as handle:
            handle.write(data)
        return path


TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
"""The protocol versions a lab server can be limited to, by the names ``SSLSocket.version()`` reports
(``TLSv1.0`` for what it calls ``TLSv1``). SSLv3 is absent: OpenSSL 3 is built without it."""

LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
"""OpenSSL 3 at its default security level refuses TLS 1.0/1.1 (their handshakes sign with SHA-1) and
RSA keys under 2048 bits; a lab server that must offer them drops to level 0."""


@dataclass(frozen=True)
class ServerTls:
    """The TLS side of one lab server: the certificate it shows and what it accepts."""

    cert: CertMode = CertMode.VALID
    key: KeyType = KeyType.EC
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    maximum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    ciphers: str | None = None
    """An OpenSSL cipher string for TLS 1.2 and older (TLS 1.3 suites are not chosen by it); None keeps
    Python's default, or ``LEGACY_CIPHERS`` when the versions or the key need it."""
    curve: str | None = None
    """The one key exchange group accepted (OpenSSL 3 applies it to TLS 1.3 key shares too); None keeps
    OpenSSL's default list."""

    @property
    def legacy(self) -> bool:
        return self.minimum < ssl.TLSVersion.TLSv1_2 or self.key is KeyType.RSA1024


def server_context(tls: ServerTls, leaf: LeafFiles) -> ssl.SSLContext:
    """A server-side context for ``leaf`` that accepts exactly the versions and ciphers ``tls`` names.

    ``ssl.SSLError`` when the cipher string selects no cipher.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ciphers = tls.ciphers or (LEGACY_CIPHERS if tls.legacy else None)
    if ciphers is not None:
        if tls.legacy and "@SECLEVEL" not in ciphers:
            ciphers += ":@SECLEVEL=0"
        context.set_ciphers(ciphers)
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; a lab server offers them on purpose, for scanners to find.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = tls.minimum
        context.maximum_version = tls.maximum
    if tls.curve is not None:
        context.set_ecdh_curve(tls.curve)
    context.load_cert_chain(leaf.cert_file, leaf.key_file)
    return context
