"""Encrypted Office documents and PDFs (gateway.office, gateway.pdf, gateway.cfb) on the lab's documents
(lab.attachments_documents): every kind found with its detail, clean decoys clean, hostile and broken
containers undecidable — never another exception, never a hang."""

from __future__ import annotations

import io
import random
import struct

import msoffcrypto  # type: ignore[import-untyped]
import olefile  # type: ignore[import-untyped]
import pytest

from mimawari.gateway.cfb import CompoundFile
from mimawari.gateway.office import office_encryption
from mimawari.gateway.pdf import pdf_encryption
from mimawari.gateway.verdict import Kind, Undecidable
from mimawari.lab import attachments_documents as documents
from mimawari.lab.attachments_documents import Document
from mimawari.lab.compound_file import compound_file

ENCRYPTED_OFFICE = [
    documents.encrypted_ooxml("docx", "Invoice 4711", seed=1),
    documents.encrypted_ooxml("xlsx", "Invoice 4711", seed=2),
    documents.encrypted_ooxml("pptx", "Invoice 4711", seed=3),
    documents.standard_encrypted_ooxml("docx", seed=4),
    documents.word_document("Invoice", "xor", seed=5),
    documents.word_document("Invoice", "rc4", seed=6),
    documents.word_document("Invoice", "rc4-cryptoapi", seed=7),
    documents.excel_workbook("xor", seed=8),
    documents.excel_workbook("rc4", seed=9),
    documents.excel_workbook("rc4-cryptoapi", seed=10),
    documents.powerpoint(encrypted=True, seed=11),
]
PLAIN_OFFICE = [
    documents.word_document("Invoice"),
    documents.excel_workbook(),
    documents.powerpoint(),
    documents.outlook_message(),
]
PDFS = [
    documents.pdf_document(cipher, xref_stream=xref, incremental=update, decoy_text=decoy, seed=12)
    for cipher in (None, "rc4", "aes-256")
    for xref in (False, True)
    for update in (False, True)
    for decoy in (False, True)
]


def _expected(document: Document) -> tuple[Kind, str] | None:
    return (document.kind, document.detail) if document.kind is not None else None


@pytest.mark.parametrize("document", ENCRYPTED_OFFICE + PLAIN_OFFICE, ids=lambda d: f"{d.name}-{d.detail}")
def test_office_documents_are_told_apart(document: Document) -> None:
    assert office_encryption(document.data) == _expected(document)


def test_the_details_name_each_cipher() -> None:
    details = [office_encryption(d.data) for d in ENCRYPTED_OFFICE]
    assert details == [
        (Kind.OFFICE, "agile (AES-256, SHA512)"),
        (Kind.OFFICE, "agile (AES-256, SHA512)"),
        (Kind.OFFICE, "agile (AES-256, SHA512)"),
        (Kind.OFFICE, "standard (AES-128)"),
        (Kind.OFFICE_LEGACY, "Word, XOR obfuscation"),
        (Kind.OFFICE_LEGACY, "Word, RC4"),
        (Kind.OFFICE_LEGACY, "Word, RC4 CryptoAPI"),
        (Kind.OFFICE_LEGACY, "Excel, XOR obfuscation"),
        (Kind.OFFICE_LEGACY, "Excel, RC4"),
        (Kind.OFFICE_LEGACY, "Excel, RC4 CryptoAPI"),
        (Kind.OFFICE_LEGACY, "PowerPoint, RC4 CryptoAPI"),
    ]


def test_lab_documents_are_real_compound_files() -> None:
    """olefile reads every stream the lab wrote; msoffcrypto-tool decrypts the agile one back to the plain
    OOXML package with the password: the lab's encryption is the real thing."""
    for document in ENCRYPTED_OFFICE + PLAIN_OFFICE:
        with olefile.OleFileIO(io.BytesIO(document.data)) as ole:
            assert ole.listdir()
            for stream in ole.listdir():
                assert len(ole.openstream(stream).read()) == ole.get_size("/".join(stream))
    office = msoffcrypto.OfficeFile(io.BytesIO(ENCRYPTED_OFFICE[0].data))
    office.load_key(password="infected")
    plain = io.BytesIO()
    office.decrypt(plain)
    assert plain.getvalue() == documents.ooxml("docx", "Invoice 4711").data


def test_builders_are_deterministic() -> None:
    assert (
        documents.encrypted_ooxml("docx", "x", seed=5).data
        == documents.encrypted_ooxml("docx", "x", seed=5).data
    )
    assert (
        documents.encrypted_ooxml("docx", "x", seed=5).data
        != documents.encrypted_ooxml("docx", "x", seed=6).data
    )
    assert documents.pdf_document("rc4", seed=1).data == documents.pdf_document("rc4", seed=1).data


def test_compound_file_reader_reads_mini_and_regular_streams() -> None:
    streams = {
        "Small": b"abc" * 20,
        "Exactly4096": bytes(4096),
        "Large": bytes(range(256)) * 70,
        "Empty": b"",
    }
    container = CompoundFile(compound_file(streams))
    found = container.root_streams()
    assert {name: container.read(entry) for name, entry in found.items()} == {
        name.casefold(): data for name, data in streams.items()
    }


# --- broken and hostile OLE2 ---------------------------------------------------------------------------


def _fat_offset(sector: int) -> int:
    """The file offset of FAT entry ``sector`` (the lab's small files keep their FAT in sector 0)."""
    return 512 + 4 * sector


def _directory_entry(data: bytes, name: str) -> int:
    """The file offset of the directory entry ``name`` (the lab's directories fit in one sector)."""
    directory: int = (struct.unpack_from("<I", data, 48)[0] + 1) * 512
    wanted = name.encode("utf-16-le")
    return next(directory + i * 128 for i in range(4) if data[directory + i * 128 :].startswith(wanted))


def test_truncated_and_garbage_ole2_is_undecidable() -> None:
    word = documents.word_document("Invoice").data
    for cut in (0, 100, 511, 600, len(word) // 2, len(word) - 600):
        with pytest.raises(Undecidable):
            office_encryption(word[:cut])
    with pytest.raises(Undecidable, match="not an OLE2"):
        office_encryption(b"PK\x03\x04" + bytes(600))
    garbage = olefile.MAGIC + random.Random(3).randbytes(4000)
    with pytest.raises(Undecidable):
        office_encryption(garbage)


def test_a_sector_chain_that_loops_is_undecidable() -> None:
    data = bytearray(documents.word_document("Invoice").data)
    container = CompoundFile(bytes(data))
    start = container.root_streams()["worddocument"].start
    struct.pack_into("<I", data, _fat_offset(start + 3), start)  # 4th sector → 1st
    with pytest.raises(Undecidable, match="loops"):
        office_encryption(bytes(data))
    looped_directory = bytearray(documents.excel_workbook().data)
    first_directory = struct.unpack_from("<I", looped_directory, 48)[0]
    struct.pack_into("<I", looped_directory, _fat_offset(first_directory), first_directory)
    with pytest.raises(Undecidable, match="loops"):
        office_encryption(bytes(looped_directory))


def test_a_directory_whose_siblings_loop_ends() -> None:
    workbook = documents.excel_workbook("rc4").data
    data = bytearray(workbook)
    entry = _directory_entry(workbook, "Workbook")
    struct.pack_into("<I", data, entry + 72, 1)  # the only stream's right sibling: itself
    struct.pack_into("<I", data, entry + 68, 0)  # … and its left: the root
    assert office_encryption(bytes(data)) == (Kind.OFFICE_LEGACY, "Excel, RC4")


def test_sizes_and_counts_from_a_hostile_header_are_not_believed() -> None:
    base = documents.word_document("Invoice").data
    many_fat_sectors = bytearray(base)
    struct.pack_into("<I", many_fat_sectors, 44, 0xFFFFFFFF)
    huge_stream = bytearray(base)
    struct.pack_into("<I", huge_stream, _directory_entry(base, "WordDocument") + 120, 0x7FFFFFFF)
    for data in (many_fat_sectors, huge_stream):
        with pytest.raises(Undecidable):
            office_encryption(bytes(data))


def test_encrypted_word_with_a_broken_table_stream_is_still_encrypted() -> None:
    """``fEncrypted`` is proof enough; the table stream only names the cipher."""
    word = documents.word_document("Invoice", "rc4-cryptoapi", seed=2).data
    data = bytearray(word)
    struct.pack_into("<I", data, _directory_entry(word, "1Table") + 116, 0xFFFFFF00)  # starts nowhere
    assert office_encryption(bytes(data)) == (
        Kind.OFFICE_LEGACY,
        "Word, encrypted (encryption header unreadable)",
    )


# --- PDF -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", PDFS, ids=lambda d: f"{d.detail or 'plain'}-{len(d.data)}")
def test_pdfs_are_told_apart(document: Document) -> None:
    assert pdf_encryption(document.data) == _expected(document)


def test_encrypt_inside_a_stream_or_string_is_not_encryption() -> None:
    decoy = documents.pdf_document(decoy_text=True).data
    assert b"trailer\n<< /Encrypt 9 0 R >>" in decoy and b"(Notes on /Encrypt 6 0 R" in decoy
    assert pdf_encryption(decoy) is None
    in_trailer_string = decoy.replace(b"/Info 6 0 R", b"/Info (/Encrypt 6 0 R)", 1)
    assert pdf_encryption(in_trailer_string) is None


def test_an_incremental_update_that_adds_encrypt_is_found() -> None:
    updated = documents.pdf_document("rc4", incremental=True).data
    first_trailer = updated.index(b"trailer")
    assert b"/Encrypt" not in updated[first_trailer : updated.index(b"%%EOF")]
    assert updated.count(b"%%EOF") == 2
    assert pdf_encryption(updated) == (Kind.PDF, "Standard V2 R3 (RC4-128)")


def test_a_direct_encryption_dictionary_is_described() -> None:
    plain = documents.pdf_document().data
    direct = plain.replace(
        b"/Root 1 0 R",
        b"/Encrypt << /Filter /Standard /V 4 /R 4 /CF << /StdCF << /CFM /AESV2 >> >> >> /Root 1 0 R",
    )
    assert pdf_encryption(direct) == (Kind.PDF, "Standard V4 R4 (AES-128)")
    dangling = plain.replace(b"/Root 1 0 R", b"/Encrypt 40 0 R /Root 1 0 R")
    assert pdf_encryption(dangling) == (Kind.PDF, "/Encrypt 40 0 R (dictionary not found)")


def test_truncated_pdfs_are_undecidable() -> None:
    plain = documents.pdf_document(xref_stream=True).data
    for cut, reason in (
        (plain.index(b"stream") + 20, "inside a stream"),
        (plain.index(b"/MediaBox"), "inside a dictionary"),
        (plain.index(b"startxref"), "no %%EOF"),
        (plain.index(b"5 0 obj"), "without a trailer"),
    ):
        with pytest.raises(Undecidable, match=reason):
            pdf_encryption(plain[:cut])
    with pytest.raises(Undecidable, match="not a PDF"):
        pdf_encryption(b"\x89PNG\r\n\x1a\n" + bytes(100))
    encrypted = documents.pdf_document("aes-256").data
    after_trailer = encrypted.index(b"startxref")
    assert pdf_encryption(encrypted[:after_trailer]) == (Kind.PDF, "Standard V5 R6 (AES-256)")


def test_an_unterminated_string_at_the_top_level_is_undecidable() -> None:
    with pytest.raises(Undecidable, match="inside a string"):
        pdf_encryption(b"%PDF-1.4\n1 0 obj (never closed \\) " + b"x" * 1000)


# --- fuzzing -------------------------------------------------------------------------------------------


def _mutations(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    mutated = []
    for _ in range(count):
        sample = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            choice = rng.randrange(4)
            at = rng.randrange(len(sample))
            if choice == 0:
                sample[at] = rng.randrange(256)
            elif choice == 1:
                struct.pack_into(
                    "<I",
                    sample,
                    min(at, len(sample) - 4),
                    rng.choice((0, 1, 0xFFFFFFFE, rng.getrandbits(32))),
                )
            elif choice == 2:
                del sample[at : at + rng.randrange(1, 600)]
            else:
                sample[at:at] = rng.randbytes(rng.randrange(1, 64))
            if len(sample) < 8:
                break
        mutated.append(bytes(sample))
    return mutated


def test_mutated_documents_give_an_answer_or_undecidable() -> None:
    rng = random.Random(2024)
    reasons: list[str] = []
    answers = 0
    for reader, samples in (
        (office_encryption, ENCRYPTED_OFFICE + PLAIN_OFFICE),
        (pdf_encryption, PDFS[::3]),
    ):
        for document in samples:
            for sample in _mutations(document.data, rng, 150):
                try:
                    answer = reader(sample)
                except Undecidable as exc:
                    reasons.append(str(exc))
                else:
                    answers += 1
                    assert answer is None or isinstance(answer[0], Kind)
    assert answers and reasons  # both outcomes happen
    assert all(reason and "\n" not in reason for reason in reasons)
