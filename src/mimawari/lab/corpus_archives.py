"""The archives of the mail corpus (``lab.mail_corpus``): plain containers to nest things in, and the
encrypted archives of ``lab.attachments_archives`` behind one small interface.

``Sample`` is an attachment to be, with what is encrypted inside it and at which depth; ``zip_of`` and
``gzip_of`` wrap samples one level deeper (stdlib, fixed dates: the same input gives the same bytes).
``ArchiveSamples`` makes an encrypted archive of each archive kind, clean 7z/RAR/tar.gz decoys, and 7z to
nest samples in, with ``lab.attachments_archives``' builders.
"""

from __future__ import annotations

import functools
import gzip
import io
import random
import zipfile
from dataclasses import dataclass

from mimawari.gateway.verdict import Kind
from mimawari.lab import attachments_archives as archives
from mimawari.lab import attachments_documents as documents
from mimawari.lab.attachments_rar import rar4, rar5

DOCUMENT_KINDS = frozenset({Kind.OFFICE, Kind.OFFICE_LEGACY, Kind.PDF})
GZIP_UNNAMED = "(gzip contents)"


@dataclass(frozen=True)
class Sample:
    """An attachment to be: its bytes, the name and type the mail gives it, and what is encrypted in it
    (paths below the sample's own name, empty for the sample itself; depth counted from it)."""

    name: str
    content_type: str
    data: bytes
    found: tuple[tuple[str, Kind, int], ...] = ()

    def renamed(self, name: str, content_type: str) -> Sample:
        return Sample(name, content_type, self.data, self.found)


def from_document(document: documents.Document) -> Sample:
    found = (("", document.kind, 0),) if document.kind is not None else ()
    return Sample(document.name, document.content_type, document.data, found)


def join(*names: str) -> str:
    return "/".join(name for name in names if name)


def zip_of(name: str, members: list[Sample]) -> Sample:
    """A plain (deflated, unencrypted) ZIP of ``members``: what it holds is one level deeper."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.writestr(zipfile.ZipInfo(member.name, (2024, 4, 1, 9, 0, 0)), member.data)
    found = tuple((join(m.name, path), kind, depth + 1) for m in members for path, kind, depth in m.found)
    return Sample(name, "application/zip", buffer.getvalue(), found)


def _latin1(name: str) -> bool:
    try:
        name.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def gzip_of(member: Sample) -> Sample:
    """``gzip NAME`` as the tool does it: the original name in the header (``FNAME``) when Latin-1 can
    spell it (RFC 1952), else none; the detector then calls the contents ``(gzip contents)``."""
    buffer = io.BytesIO()
    with gzip.GzipFile(member.name, "wb", fileobj=buffer, mtime=0) as packed:
        packed.write(member.data)
    inner = member.name if _latin1(member.name) else GZIP_UNNAMED
    found = tuple((join(inner, path), kind, depth + 1) for path, kind, depth in member.found)
    return Sample(member.name + ".gz", "application/gzip", buffer.getvalue(), found)


ZIP = "application/zip"
SEVENZIP = "application/x-7z-compressed"
RAR = "application/vnd.rar"
MEMBER_NAMES = ("invoice", "payment", "details", "scan", "document")
"""Names of members inside encrypted archives: ASCII, as the archivers' defaults store them."""


SEVENZIP_VARIANTS = 2
"""py7zr derives a 7zAES key in pure Python (about 0.2 s): encrypted 7z come from a few cached variants."""


@functools.cache
def _encrypted_7z(variant: int, headers: bool) -> tuple[str, bytes]:
    member = f"{MEMBER_NAMES[variant]}.js"
    return member, archives.encrypted_7z(
        {member: b"WScript.Echo(%d);\r\n" % variant}, headers=headers, seed=variant
    )


class ArchiveSamples:
    """Encrypted and plain archives of every kind, from ``lab.attachments_archives``, one encrypted
    member each (so the manifest can name exactly what the detector must report)."""

    def encrypted(self, kind: Kind, rng: random.Random, stem: str) -> Sample:
        seed = rng.randrange(1 << 30)
        member = f"{rng.choice(MEMBER_NAMES)}.{rng.choice(('txt', 'js', 'exe', 'docm'))}"
        members = {member: f"{stem} {seed}\r\n".encode() * rng.randrange(5, 60)}
        # What the detector reports below the archive's name: the member, or the archive itself when
        # even its names are hidden.
        inside: tuple[tuple[str, Kind, int], ...] = ((member, kind, 1),)
        if kind is Kind.ZIP_ZIPCRYPTO:
            if rng.random() < 0.3:
                readme = {"readme.txt": b"Password: see the next mail.\r\n"}
                data, suffix, content_type = (
                    archives.partially_encrypted_zip(readme, members, seed=seed),
                    ".zip",
                    ZIP,
                )
            else:
                data, suffix, content_type = archives.zipcrypto_zip(members, seed=seed), ".zip", ZIP
        elif kind is Kind.ZIP_AES:
            data, suffix, content_type = archives.aes_zip(members, seed=seed), ".zip", ZIP
        elif kind is Kind.ZIP_STRONG:
            data, suffix, content_type = archives.strong_encryption_zip(members, seed=seed), ".zip", ZIP
        elif kind is Kind.ZIP_CENTRAL_DIRECTORY:
            data, suffix, content_type = archives.encrypted_directory_zip(members, seed=seed), ".zip", ZIP
            inside = (("", kind, 0),)
        elif kind in (Kind.SEVENZIP, Kind.SEVENZIP_HEADERS):
            headers = kind is Kind.SEVENZIP_HEADERS
            member, data = _encrypted_7z(seed % SEVENZIP_VARIANTS, headers)
            suffix, content_type = ".7z", SEVENZIP
            inside = (("", kind, 0),) if headers else ((member, kind, 1),)
        elif kind in (Kind.RAR4, Kind.RAR4_HEADERS, Kind.RAR5, Kind.RAR5_HEADERS):
            build = rar4 if kind in (Kind.RAR4, Kind.RAR4_HEADERS) else rar5
            headers = kind in (Kind.RAR4_HEADERS, Kind.RAR5_HEADERS)
            data = build(members, encrypted=not headers, encrypted_headers=headers, seed=seed)
            suffix, content_type = ".rar", RAR
            inside = (("", kind, 0),) if headers else inside
        else:
            raise ValueError(f"{kind} is not an archive kind")
        return Sample(stem + suffix, content_type, data, inside)

    def plain(self, rng: random.Random, stem: str) -> Sample | None:
        """A clean archive of another format than ZIP/gzip: 7z, RAR 4 or 5 (stored members), tar.gz."""
        members = {"minutes.txt": f"Minutes of {stem}\r\n".encode() * rng.randrange(3, 40)}
        choice = rng.randrange(4)
        if choice == 0:
            return Sample(f"{stem}.7z", SEVENZIP, archives.plain_7z(members))
        if choice == 1:
            return Sample(f"{stem}.rar", RAR, rar4(members, seed=rng.randrange(1 << 30)))
        if choice == 2:
            return Sample(f"{stem}.rar", RAR, rar5(members, seed=rng.randrange(1 << 30)))
        return Sample(f"{stem}.tar.gz", "application/gzip", archives.tar_gz(members))

    def sevenzip_of(self, name: str, members: list[Sample], rng: random.Random) -> Sample:
        """A plain 7z of ``members``: what they hold is one level deeper."""
        data = archives.plain_7z({m.name: m.data for m in members})
        found = tuple((join(m.name, path), kind, depth + 1) for m in members for path, kind, depth in m.found)
        return Sample(name, SEVENZIP, data, found)


def archive_samples() -> ArchiveSamples:
    return ArchiveSamples()
