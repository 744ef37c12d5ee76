"""The detector on messages built by ``lab.attachments_archives``: every kind, decoys, disguises, nesting,
budgets, damaged input, and random mutations that must always end in a verdict."""

from __future__ import annotations

import base64
import binascii
import io
import random
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from mimawari.gateway.budgets import Budgets
from mimawari.gateway.detect import inspect_file, inspect_message
from mimawari.gateway.verdict import Inspection, Kind, Verdict
from mimawari.lab import attachments_archives as archives
from mimawari.lab import attachments_documents as documents
from mimawari.lab.attachments_rar import rar4, rar5


def message(
    *attachments: tuple[str, bytes], maintype: str = "application", subtype: str = "octet-stream"
) -> bytes:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = "sender@example.test"
    mail["To"] = "staff@example.test"
    mail["Subject"] = "Documents"
    mail.set_content("Please find the documents attached.\n")
    for name, data in attachments:
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()


def kinds(inspection: Inspection) -> set[Kind]:
    return {part.kind for part in inspection.encrypted}


ENCRYPTED: list[tuple[str, Callable[[], bytes], Kind, str, int]] = [
    ("zipcrypto.zip", archives.zipcrypto_zip, Kind.ZIP_ZIPCRYPTO, "2/zipcrypto.zip/invoice.txt", 1),
    ("aes.zip", archives.aes_zip, Kind.ZIP_AES, "2/aes.zip/invoice.txt", 1),
    ("strong.zip", archives.strong_encryption_zip, Kind.ZIP_STRONG, "2/strong.zip/invoice.txt", 1),
    ("directory.zip", archives.encrypted_directory_zip, Kind.ZIP_CENTRAL_DIRECTORY, "2/directory.zip", 0),
    ("partial.zip", archives.partially_encrypted_zip, Kind.ZIP_ZIPCRYPTO, "2/partial.zip/payload.js", 1),
    ("data.7z", archives.encrypted_7z, Kind.SEVENZIP, "2/data.7z/invoice.txt", 1),
    ("headers.7z", lambda: archives.encrypted_7z(headers=True), Kind.SEVENZIP_HEADERS, "2/headers.7z", 0),
    ("files4.rar", lambda: rar4(encrypted=True), Kind.RAR4, "2/files4.rar/invoice.txt", 1),
    ("headers4.rar", lambda: rar4(encrypted_headers=True), Kind.RAR4_HEADERS, "2/headers4.rar", 0),
    ("files5.rar", lambda: rar5(encrypted=True), Kind.RAR5, "2/files5.rar/invoice.txt", 1),
    ("headers5.rar", lambda: rar5(encrypted_headers=True), Kind.RAR5_HEADERS, "2/headers5.rar", 0),
]
CLEAN: list[tuple[str, Callable[[], bytes]]] = [
    ("plain.zip", archives.plain_zip),
    ("minutes.docx", archives.docx_like),
    ("plain.7z", archives.plain_7z),
    ("plain4.rar", rar4),
    ("plain5.rar", rar5),
    ("plain.tar.gz", archives.tar_gz),
    ("notes.txt.gz", lambda: archives.gzip_of(b"notes\n" * 100, "notes.txt")),
]


@pytest.mark.parametrize(("name", "build", "kind", "part", "depth"), ENCRYPTED, ids=[e[0] for e in ENCRYPTED])
def test_each_kind_is_found_with_its_part(
    name: str, build: Callable[[], bytes], kind: Kind, part: str, depth: int
) -> None:
    inspection = inspect_message(message((name, build())))
    assert inspection.verdict is Verdict.ENCRYPTED
    assert [(p.kind, p.part, p.section, p.depth) for p in inspection.encrypted] == [(kind, part, "2", depth)]
    assert inspection.undecided == ()


@pytest.mark.parametrize(("name", "build"), CLEAN, ids=[c[0] for c in CLEAN])
def test_clean_decoys_are_clean(name: str, build: Callable[[], bytes]) -> None:
    inspection = inspect_message(message((name, build())))
    assert inspection.verdict is Verdict.CLEAN, inspection
    assert inspection.parts >= 2


def test_a_text_only_message_is_clean() -> None:
    assert inspect_message(message()).verdict is Verdict.CLEAN


def test_zipcrypto_written_here_is_what_extractors_decrypt() -> None:
    data = archives.zipcrypto_zip({"a.txt": b"secret text"}, password="pw")
    assert zipfile.ZipFile(io.BytesIO(data)).read("a.txt", pwd=b"pw") == b"secret text"


def test_builders_are_deterministic() -> None:
    assert archives.aes_zip() == archives.aes_zip()
    assert archives.encrypted_7z(headers=True) == archives.encrypted_7z(headers=True)
    assert rar5(encrypted=True) == rar5(encrypted=True)


def test_disguised_name_and_type_do_not_matter() -> None:
    raw = message(("notes.txt", archives.zipcrypto_zip()), maintype="text", subtype="plain")
    inspection = inspect_message(raw)
    assert inspection.verdict is Verdict.ENCRYPTED
    assert inspection.encrypted[0].part == "2/notes.txt/invoice.txt"


def test_an_archive_named_like_one_but_holding_text_is_clean() -> None:
    assert inspect_message(message(("invoice.zip", b"just text, not a zip"))).verdict is Verdict.CLEAN


def test_nested_zip_in_zip_in_7z_in_gzip() -> None:
    data, name = archives.nest(archives.aes_zip(), "inner.zip", "zip", "7z", "gz")
    inspection = inspect_message(message((name, data)))
    assert inspection.verdict is Verdict.ENCRYPTED
    (found,) = inspection.encrypted
    assert found.part == "2/inner.zip.zip.7z.gz/inner.zip.zip.7z/inner.zip.zip/inner.zip/invoice.txt"
    assert (found.kind, found.depth) == (Kind.ZIP_AES, 4)


def test_nesting_through_tar_gz_and_stored_rar() -> None:
    data, name = archives.nest(rar5(encrypted=True), "x.rar", "tar.gz", "rar4")
    assert kinds(inspect_file(data, name)) == {Kind.RAR5}


def test_beyond_max_depth_is_undecidable_not_clean() -> None:
    data, name = archives.nest(archives.zipcrypto_zip(), "deep.zip", "zip", "zip", "zip")
    shallow = inspect_file(data, name, Budgets(max_depth=3))
    assert shallow.verdict is Verdict.UNDECIDABLE
    assert "nested deeper than 3" in shallow.undecided[0].reason
    assert shallow.undecided[0].depth == 3
    assert inspect_file(data, name, Budgets(max_depth=4)).verdict is Verdict.ENCRYPTED
    assert inspect_file(archives.plain_zip(), "p.zip", Budgets(max_depth=0)).verdict is Verdict.UNDECIDABLE


def test_zip_bomb_is_undecidable() -> None:
    inspection = inspect_message(message(("bomb.zip", archives.zip_bomb())))
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert any("ratio" in part.reason for part in inspection.undecided)


def test_a_bomb_without_declared_sizes_is_caught_while_inflating() -> None:
    # gzip declares no size up front; the contents look like a zip, so they must be read whole.
    bomb = archives.gzip_of(b"PK\x03\x04" + bytes(16 * 1024 * 1024), "bomb.zip")
    inspection = inspect_file(bomb, "bomb.zip.gz")
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert "compression ratio over 100:1" in inspection.undecided[0].reason


def test_a_member_is_never_inflated_past_its_declared_size() -> None:
    inner = archives.plain_zip({"zeros.bin": b"PK\x03\x04" + bytes(200_000)})
    lying = bytearray(inner)
    lying[22:26] = (4096).to_bytes(4, "little")
    directory = lying.rfind(b"PK\x01\x02")
    lying[directory + 24 : directory + 28] = (4096).to_bytes(4, "little")
    inspection = inspect_file(archives.plain_zip({"lying.zip": bytes(lying)}), "outer.zip")
    # Cut at 4 KiB, the "zip" inside is an unreadable one: undecidable, and nothing beyond was produced.
    assert inspection.verdict is Verdict.UNDECIDABLE


def test_expansion_budget_of_the_message() -> None:
    data, name = archives.nest(
        archives.plain_zip({"big.zip": b"PK\x03\x04" + bytes(300_000)}), "a.zip", "zip"
    )
    inspection = inspect_file(data, name, Budgets(max_expanded_bytes=100_000))
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert "expanded" in inspection.undecided[-1].reason


def test_member_count_budget() -> None:
    many = archives.plain_zip({f"f{i}.txt": b"x" for i in range(20)})
    inspection = inspect_file(many, "many.zip", Budgets(max_members=10))
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert "more than 10 members" in inspection.undecided[0].reason


def test_time_budget_ends_the_inspection() -> None:
    inspection = inspect_message(message(("a.zip", archives.plain_zip())), Budgets(max_seconds=1e-9))
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert "time budget" in inspection.undecided[0].reason


def test_message_over_the_size_limit_is_not_parsed() -> None:
    inspection = inspect_message(message(("a.zip", archives.plain_zip())), Budgets(max_message_bytes=100))
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert "over the 100-byte limit" in inspection.undecided[0].reason


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("plain.zip", archives.plain_zip),
        ("plain.7z", archives.plain_7z),
        ("plain.rar", rar4),
        ("plain5.rar", rar5),
        ("plain.tar.gz", archives.tar_gz),
    ],
)
def test_truncated_archives_are_undecidable(name: str, build: Callable[[], bytes]) -> None:
    data = build()
    assert inspect_file(data[: len(data) * 2 // 3], name).verdict is Verdict.UNDECIDABLE


@pytest.mark.parametrize(("name", "build", "kind", "part", "depth"), ENCRYPTED, ids=[e[0] for e in ENCRYPTED])
def test_truncated_encrypted_archives_are_never_clean(
    name: str, build: Callable[[], bytes], kind: Kind, part: str, depth: int
) -> None:
    data = build()
    for cut in (len(data) // 3, len(data) - 1):
        assert inspect_file(data[:cut], name).verdict is not Verdict.CLEAN


def test_zip_encryption_flag_in_either_header_counts() -> None:
    data = archives.zipcrypto_zip()
    directory = data.rfind(b"PK\x01\x02")
    only_local = data[: directory + 8] + b"\x00\x00" + data[directory + 10 :]
    only_central = data[:6] + b"\x00\x00" + data[8:]
    for variant in (only_local, only_central):
        assert kinds(inspect_file(variant, "x.zip")) == {Kind.ZIP_ZIPCRYPTO}


def test_zip64_end_records_and_data_descriptors() -> None:
    assert kinds(inspect_file(archives.as_zip64(archives.aes_zip()), "x.zip")) == {Kind.ZIP_AES}

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.written = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            chunk = bytes(data)  # type: ignore[call-overload]
            self.written += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as streamed:
        streamed.writestr("inner.7z", archives.encrypted_7z())
    assert b"PK\x07\x08" in sink.written  # sizes in data descriptors, after the data
    assert kinds(inspect_file(bytes(sink.written), "streamed.zip")) == {Kind.SEVENZIP}


def test_rar_compressed_members_are_not_guessed() -> None:
    for build in (rar4, rar5):
        inspection = inspect_file(build(compressed=True), "c.rar")
        assert inspection.verdict is Verdict.UNDECIDABLE
        assert inspection.undecided[0].reason == "RAR compressed member: contents not inspected"


def test_rar_header_crc_is_checked() -> None:
    data = bytearray(rar4())
    data[30] ^= 0xFF  # inside the first file header
    assert inspect_file(bytes(data), "x.rar").verdict is Verdict.UNDECIDABLE


def test_self_extracting_zip_is_opened() -> None:
    sfx = b"MZ" + bytes(4000) + archives.zipcrypto_zip()
    assert kinds(inspect_file(sfx, "setup.exe")) == {Kind.ZIP_ZIPCRYPTO}


def test_attached_message_is_recursed_with_imap_sections() -> None:
    inner = message(("data.7z", archives.encrypted_7z()))
    outer = EmailMessage(policy=SMTP)
    outer["From"] = "forwarder@example.test"
    outer["Subject"] = "Fwd: Documents"
    outer.set_content("Forwarding.\n")
    outer.add_attachment(inner, maintype="message", subtype="rfc822")
    inspection = inspect_message(outer.as_bytes())
    assert [(p.part, p.section, p.kind) for p in inspection.encrypted] == [
        ("2.2/data.7z/invoice.txt", "2.2", Kind.SEVENZIP)
    ]


def test_sections_of_nested_multiparts() -> None:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = "a@example.test"
    mail.set_content("text")
    mail.add_alternative("<p>html</p>", subtype="html")
    mail.make_mixed()
    mail.add_attachment(archives.aes_zip(), maintype="application", subtype="zip", filename="a.zip")
    (found,) = inspect_message(mail.as_bytes()).encrypted
    assert (found.section, found.part) == ("2", "2/a.zip/invoice.txt")
    single = b"From: a@example.test\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    (found,) = inspect_message(single + base64.encodebytes(rar4(encrypted=True))).encrypted
    assert (found.section, found.kind) == ("1", Kind.RAR4)


def test_uuencoded_attachment_in_a_text_body() -> None:
    data = archives.zipcrypto_zip()
    lines = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    raw = (
        b"From: a@example.test\r\nSubject: uu\r\n\r\nSee attached.\r\n\r\nbegin 644 doc.zip\r\n"
        + lines
        + b"`\r\nend\r\n"
    )
    inspection = inspect_message(raw)
    assert [(p.part, p.kind) for p in inspection.encrypted] == [("1/doc.zip/invoice.txt", Kind.ZIP_ZIPCRYPTO)]


BROKEN = [
    b"",
    b"\x00\xff" * 50,
    b"From: a@b\r\n\r\n",
    b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: application/zip\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBA=\r\n",  # impossible padding, never closed
    b"Content-Type: text/plain; name*0*=''%ff%fe; charset=\xff\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n",
    b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n'
    + b'--a\r\nContent-Type: multipart/mixed; boundary="a"\r\n\r\n' * 200,
    b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n" * 50,
]


@pytest.mark.parametrize("raw", BROKEN)
def test_broken_mime_never_raises(raw: bytes) -> None:
    assert inspect_message(raw).verdict in set(Verdict)


def test_damaged_base64_is_undecidable() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
        b"--b\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA=\r\n--b--\r\n"
    )
    inspection = inspect_message(raw)
    assert inspection.verdict is Verdict.UNDECIDABLE
    assert inspection.undecided[0].section == "2" and "base64" in inspection.undecided[0].reason


def test_missing_boundary_is_undecidable() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\nUEsDBBQAAAAIAA==\r\n'
    assert inspect_message(raw).verdict is Verdict.UNDECIDABLE


def test_documents_are_routed_to_the_document_half() -> None:
    office = documents.encrypted_ooxml("docx", "quarterly figures")
    pdf = documents.pdf_document("aes-256")
    inspection = inspect_message(message((office.name, office.data), ("report.pdf", pdf.data)))
    assert {(p.part, p.kind, p.depth) for p in inspection.encrypted} == {
        ("2/report.docx", Kind.OFFICE, 0),
        ("3/report.pdf", Kind.PDF, 0),
    }
    zipped = archives.plain_zip({"report.docx": office.data, "plain.pdf": documents.pdf_document().data})
    assert [(p.part, p.depth) for p in inspect_file(zipped, "docs.zip").encrypted] == [
        ("docs.zip/report.docx", 1)
    ]


SAMPLES = [build for _, build, *_ in ENCRYPTED] + [build for _, build in CLEAN]


def test_random_mutations_always_end_in_a_verdict() -> None:
    rng = random.Random(9)
    for build in SAMPLES:
        original = build()
        wrapped = message(("x.bin", original))
        for _ in range(40):
            for sample in (original, wrapped):
                data = bytearray(sample)
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                if rng.random() < 0.3:
                    del data[rng.randrange(len(data)) :]
                mutated = bytes(data)
                assert inspect_file(mutated, "x.bin").verdict in set(Verdict)
                assert inspect_message(mutated).verdict in set(Verdict)


def test_hostile_names_come_out_printable() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b'Content-Type: application/zip; name="a\xff\xfe/..\\x.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(archives.zipcrypto_zip({"dir/evil\nname.txt": b"x"}))
        + b"--b--\r\n"
    )
    (found,) = inspect_message(raw).encrypted
    assert found.part.isprintable()
    assert found.part.startswith("1/a") and found.part.endswith(".zip/dir/evil_name.txt")
    assert found.part.count("/") == 3


def test_uuencoded_begin_without_end_is_undecidable() -> None:
    raw = b"From: a@example.test\r\n\r\nbegin 644 a.zip\r\nM4$L#!!0\r\n"
    assert inspect_message(raw).verdict is Verdict.UNDECIDABLE
