"""A corpus of mail for the gateway's tests and bench: .eml files and the verdict each must get.

``build_corpus(directory, messages, seed)`` writes ``0001.eml`` … and ``manifest.json`` beside them.
About 40 % of the messages carry something encrypted, every ``Kind`` at least once (the first encrypted
messages go through the kinds in order), in the shapes the gateway meets: attached as such; disguised
(an encrypted ZIP named ``invoice.pdf`` and sent as ``application/pdf``, a name without extension sent as
``application/octet-stream``); nested (in a ZIP next to a harmless file, a ZIP in a ZIP, in gzip, in 7z);
and inside an attached ``message/rfc822``. The rest are clean
decoys a careless detector would flag: plain archives and documents, OOXML (itself a ZIP), an Outlook
.msg (itself OLE2), a PDF that talks about ``/Encrypt``, 7z, RAR and tar.gz archives, images,
text-only mail.

Documents come from ``lab.attachments_documents``; encrypted archives (ZIP, 7z, RAR) from
``lab.attachments_archives`` (``lab.corpus_archives`` adapts it). Every byte follows from the seed:
fixed dates, message ids and MIME boundaries.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from mimawari.gateway.verdict import Kind, Verdict
from mimawari.lab import attachments_documents as documents
from mimawari.lab.attachments_pdf import PdfCipher
from mimawari.lab.corpus_archives import (
    ArchiveSamples,
    Sample,
    archive_samples,
    from_document,
    gzip_of,
    join,
    zip_of,
)

__all__ = ["CorpusManifest", "ExpectedMessage", "ExpectedPart", "build_corpus", "load_manifest"]

MANIFEST = "manifest.json"
ENCRYPTED_SHARE = 0.4
OOXML: tuple[documents.OoxmlKind, ...] = ("docx", "xlsx", "pptx")
LEGACY_CIPHERS: tuple[documents.LegacyCipher, ...] = ("xor", "rc4", "rc4-cryptoapi")
PDF_CIPHERS: tuple[PdfCipher, ...] = ("rc4", "aes-256")
NAMES = ("invoice", "請求書", "見積書", "report", "scan_0412", "契約書", "statement", "order")


@dataclass(frozen=True)
class ExpectedPart:
    part: str
    """The MIME section, then the names down the archive tree (``2/outer.zip/inner.zip/report.docx``)."""
    kind: Kind
    depth: int


@dataclass(frozen=True)
class ExpectedMessage:
    file: str
    verdict: Verdict
    parts: tuple[ExpectedPart, ...]
    shape: str
    """How the message was made (``in zip``, ``disguised``, ``text only`` …), for reading failures."""

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(part.kind for part in self.parts)


@dataclass(frozen=True)
class CorpusManifest:
    directory: Path
    seed: int
    messages: tuple[ExpectedMessage, ...]

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(kind for message in self.messages for kind in message.kinds)

    @property
    def encrypted(self) -> int:
        return sum(1 for message in self.messages if message.verdict is Verdict.ENCRYPTED)


def _png(rng: random.Random) -> bytes:
    """A small valid PNG (8×8, random grey pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    rows = b"".join(b"\0" + rng.randbytes(8) for _ in range(8))
    header = (8).to_bytes(4, "big") * 2 + bytes((8, 0, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _csv(rng: random.Random) -> Sample:
    rows = "\n".join(f"{i},{rng.randrange(10_000)},{rng.choice(NAMES)}" for i in range(rng.randrange(5, 60)))
    return Sample("figures.csv", "text/csv", ("id,amount,item\n" + rows + "\n").encode())


# --- what goes in a message ----------------------------------------------------------------------------


def _encrypted_sample(kind: Kind, rng: random.Random, archives: ArchiveSamples) -> Sample:
    seed, stem = rng.randrange(1 << 30), rng.choice(NAMES)
    if kind is Kind.OFFICE:
        ooxml = rng.choice(OOXML)
        if rng.random() < 0.25:
            return from_document(documents.standard_encrypted_ooxml(ooxml, seed, f"{stem}.{ooxml}"))
        return from_document(documents.encrypted_ooxml(ooxml, f"{stem} {seed}", seed, f"{stem}.{ooxml}"))
    if kind is Kind.OFFICE_LEGACY:
        which = rng.randrange(3)
        cipher = rng.choice(LEGACY_CIPHERS)
        if which == 0:
            return from_document(documents.word_document(stem, cipher, seed, f"{stem}.doc"))
        if which == 1:
            return from_document(documents.excel_workbook(cipher, seed, f"{stem}.xls"))
        return from_document(documents.powerpoint(True, seed, f"{stem}.ppt"))
    if kind is Kind.PDF:
        return from_document(
            documents.pdf_document(
                rng.choice(PDF_CIPHERS),
                xref_stream=rng.random() < 0.5,
                incremental=rng.random() < 0.3,
                seed=seed,
                name=f"{stem}.pdf",
            )
        )
    return archives.encrypted(kind, rng, stem)


def _clean_sample(rng: random.Random, archives: ArchiveSamples) -> Sample:
    seed, stem = rng.randrange(1 << 30), rng.choice(NAMES)
    choice = rng.randrange(12)
    if choice == 0:
        return from_document(documents.ooxml(rng.choice(OOXML), stem, f"{stem}.docx"))
    if choice == 1:
        return from_document(documents.word_document(stem, None, seed, f"{stem}.doc"))
    if choice == 2:
        return from_document(documents.excel_workbook(None, seed, f"{stem}.xls"))
    if choice == 3:
        return from_document(documents.powerpoint(False, seed, f"{stem}.ppt"))
    if choice == 4:
        return from_document(documents.outlook_message(seed, f"{stem}.msg"))
    if choice == 5:
        decoy = rng.random() < 0.5
        xref = rng.random() < 0.5
        return from_document(
            documents.pdf_document(None, xref_stream=xref, decoy_text=decoy, seed=seed, name=f"{stem}.pdf")
        )
    if choice == 6:
        return Sample(f"{stem}.png", "image/png", _png(rng))
    if choice == 7:
        return zip_of(f"{stem}.zip", [_csv(rng), from_document(documents.ooxml("xlsx", stem, "sheet.xlsx"))])
    if choice == 8:
        return zip_of(f"{stem}.zip", [zip_of("inner.zip", [_csv(rng)])])
    if choice == 9:
        return gzip_of(_csv(rng))
    return archives.plain(rng, stem) or _csv(rng)


@dataclass(frozen=True)
class _Plan:
    shape: str
    attachments: list[Sample]
    forwarded: bool = False


def _encrypted_plan(kind: Kind, rng: random.Random, archives: ArchiveSamples) -> _Plan:
    sample = _encrypted_sample(kind, rng, archives)
    shapes = [
        "attached",
        "disguised",
        "octet-stream",
        "in zip",
        "zip in zip",
        "in gzip",
        "in 7z",
        "forwarded",
    ]
    shape = rng.choice(shapes)
    decoy = _clean_sample(rng, archives)
    if shape == "disguised":
        zipped = sample if sample.content_type == "application/zip" else zip_of("invoice.zip", [sample])
        sample = zipped.renamed("invoice.pdf", "application/pdf")
    elif shape == "octet-stream":
        sample = sample.renamed(sample.name.rsplit(".", 1)[0], "application/octet-stream")
    elif shape == "in zip":
        sample = zip_of("documents.zip", [_csv(rng), sample])
    elif shape == "zip in zip":
        sample = zip_of("outer.zip", [zip_of("inner.zip", [sample])])
    elif shape == "in gzip":
        sample = gzip_of(sample)
    elif shape == "in 7z":
        sample = archives.sevenzip_of("archive.7z", [sample], rng)
    attachments = [sample, decoy] if rng.random() < 0.3 else [sample]
    rng.shuffle(attachments)
    return _Plan(shape, attachments, forwarded=shape == "forwarded")


def _clean_plan(rng: random.Random, archives: ArchiveSamples) -> _Plan:
    roll = rng.random()
    if roll < 0.2:
        return _Plan("text only", [])
    if roll < 0.3:
        return _Plan("forwarded clean", [_clean_sample(rng, archives)], forwarded=True)
    count = 1 + (roll > 0.8)
    return _Plan("clean attachment", [_clean_sample(rng, archives) for _ in range(count)])


# --- MIME ----------------------------------------------------------------------------------------------


def _message(
    index: int, seed: int, subject: str, attachments: list[Sample], rng: random.Random
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{rng.choice(('sales', 'billing', 'tanaka', 'info'))}@partner{index % 17}.example"
    message["To"] = "accounts@corp.example"
    message["Subject"] = subject
    message["Date"] = (
        f"Mon, 01 Apr 2024 {9 + index // 3600 % 10:02d}:{index // 60 % 60:02d}:{index % 60:02d} +0900"
    )
    message["Message-ID"] = f"<{seed}.{index}@corpus.mimawari.test>"
    body = (
        "ご確認ください。\nPlease find the attached file.\n" if attachments else "Meeting moved to 15:00.\n"
    )
    message.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(attachment.data, maintype, subtype, filename=attachment.name)
    return message


def _expected_parts(attachments: list[Sample], forwarded: bool) -> tuple[ExpectedPart, ...]:
    """Sections as IMAP numbers them: the text is 1, attachments 2, 3 …; in a forwarded message (2) its
    own text is 2.1 and its attachments 2.2 …"""
    parts = []
    for number, attachment in enumerate(attachments, start=2):
        section = f"2.{number}" if forwarded else str(number)
        for path, kind, depth in attachment.found:
            parts.append(ExpectedPart(join(section, attachment.name, path), kind, depth))
    return tuple(parts)


def _set_boundaries(message: EmailMessage, stem: str) -> None:
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{stem}_{number}")


def build_corpus(directory: Path, messages: int = 500, seed: int = 1) -> CorpusManifest:
    """Write ``messages`` .eml files and ``manifest.json`` into ``directory`` (created; must be empty)."""
    if messages < 1:
        raise ValueError("a corpus needs at least one message")
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise ValueError(f"{directory} is not an empty folder")
    rng = random.Random(seed)
    archives = archive_samples()
    kinds = list(Kind)
    encrypted_slots = set(rng.sample(range(messages), max(1, round(messages * ENCRYPTED_SHARE))))
    expected: list[ExpectedMessage] = []
    next_kind = 0
    for index in range(1, messages + 1):
        if index - 1 in encrypted_slots:
            kind = kinds[next_kind] if next_kind < len(kinds) else rng.choice(kinds)
            next_kind += 1
            plan = _encrypted_plan(kind, rng, archives)
        else:
            plan = _clean_plan(rng, archives)
        subject = f"{rng.choice(NAMES)} #{index}"
        if plan.forwarded:
            inner = _message(index, seed, f"Fw: {subject}", plan.attachments, rng)
            outer = _message(index, seed, f"Fwd: {subject}", [], rng)
            outer.add_attachment(inner)
            message = outer
        else:
            message = _message(index, seed, subject, plan.attachments, rng)
        _set_boundaries(message, f"{seed}_{index}")
        name = f"{index:04d}.eml"
        (directory / name).write_bytes(message.as_bytes())
        parts = _expected_parts(plan.attachments, plan.forwarded)
        verdict = Verdict.ENCRYPTED if parts else Verdict.CLEAN
        expected.append(ExpectedMessage(name, verdict, parts, plan.shape))
    manifest = CorpusManifest(directory, seed, tuple(expected))
    _write_manifest(manifest)
    return manifest


def _write_manifest(manifest: CorpusManifest) -> None:
    document = {
        "seed": manifest.seed,
        "messages": [
            {
                **asdict(m),
                "verdict": str(m.verdict),
                "parts": [{**asdict(p), "kind": str(p.kind)} for p in m.parts],
            }
            for m in manifest.messages
        ],
    }
    (manifest.directory / MANIFEST).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")


def load_manifest(directory: Path) -> CorpusManifest:
    """The manifest ``build_corpus`` wrote into ``directory``."""
    document = json.loads((directory / MANIFEST).read_text())
    messages = tuple(
        ExpectedMessage(
            m["file"],
            Verdict(m["verdict"]),
            tuple(ExpectedPart(p["part"], Kind(p["kind"]), p["depth"]) for p in m["parts"]),
            m["shape"],
        )
        for m in document["messages"]
    )
    return CorpusManifest(directory, document["seed"], messages)
