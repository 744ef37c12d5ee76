"""The lab's throw-away certificate authority: made at lab start, trusted only by the lab's own scans.

``LabCa`` creates a CA and issues leaf certificates for named hosts, in the four shapes the lab needs to
test certificate handling: ``valid`` (issued by the CA, for the name, in date), ``expired`` (issued by
the CA, dates in the past), ``wrong-name`` (issued by the CA for another name) and ``self-signed``
(the leaf signs itself). Keys are ECDSA P-256: quick to make, so every lab start gets fresh ones.
Everything lives in one temporary directory that ``close`` removes; ``ca_file`` is the CA's PEM there,
for ``--ca-file`` or ``HttpClient(ca_file=...)``.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WRONG_NAME = "wrong-name.lab.invalid"
"""The name a ``wrong-name`` certificate is issued for: a name no lab site can have (RFC 6761)."""


class CertMode(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG_NAME = "wrong-name"
    SELF_SIGNED = "self-signed"


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

    def issue(self, host: str, mode: CertMode = CertMode.VALID) -> LeafFiles:
        """A server certificate for ``host`` in the given mode, written next to the CA file."""
        key = ec.generate_private_key(ec.SECP256R1())
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
        stem = f"{host}-{mode.value}"
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
