"""Is a PDF encrypted? An ``/Encrypt`` entry in a trailer or a cross-reference stream's dictionary.

Only those dictionaries count: the same bytes inside a content stream, a string or a comment do not make
a file encrypted (a PDF *about* PDF encryption is not encrypted). So the file is scanned once, front to
back, the way its syntax nests — comments and strings skipped, stream data jumped over (by a direct
``/Length`` when it lands on ``endstream``, else to the next ``endstream``) — and every ``trailer``
dictionary and every stream dictionary of ``/Type /XRef`` is looked at: incremental updates and
linearized files have several, PDF 1.5 files have cross-reference streams instead of trailers. The scan
is linear: stream data, most of a PDF's bytes, is passed over with ``bytes.find``.

The detail names the security handler and its versions (``Standard V5 R6 (AES-256)``) from the encryption
dictionary, direct or found by its object number. A file cut short (no trailer, no cross-reference
stream, no ``%%EOF`` after the last one, or ending inside a stream or dictionary) is ``Undecidable``
unless an ``/Encrypt`` was already seen.
"""

from __future__ import annotations

import re

from mimawari.gateway.verdict import Kind, Undecidable

TOP_LEVEL = re.compile(rb"%|\(|<<|<|(?<=[\s>])stream(?=[\r\n ])|(?<=\s)trailer(?=\s|<<)")
IN_DICTIONARY = re.compile(rb"%|\(|<<|>>|<")
IN_STRING = re.compile(rb"\\.|[()]", re.DOTALL)
STRUCTURE = re.compile(rb"<<|>>|\[|\]|/[^\s/<>\[\](){}%]*")
LINE_END = re.compile(rb"[\r\n]")
DIRECT_LENGTH = re.compile(rb"^\s*(\d+)\s*$")
REFERENCE = re.compile(rb"^\s*(\d+)\s+(\d+)\s+R\s*$")
CRYPT_FILTER = re.compile(rb"/CFM\s*/(\w+)")
CIPHER_BY_CFM = {b"V2": "RC4-128", b"AESV2": "AES-128", b"AESV3": "AES-256", b"None": "no cipher"}
HEADER_WINDOW = 1024


def pdf_encryption(data: bytes) -> tuple[Kind, str] | None:
    """``(Kind.PDF, detail)`` when a trailer or cross-reference stream names an encryption dictionary,
    ``None`` when none does. Raises ``Undecidable`` (truncated, no trailer) and nothing else."""
    try:
        return _scan(data)
    except Undecidable:
        raise
    except (ValueError, IndexError, OverflowError, RecursionError, MemoryError) as exc:
        raise Undecidable(f"PDF not readable ({type(exc).__name__})") from None


def _scan(data: bytes) -> tuple[Kind, str] | None:
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise Undecidable("not a PDF (no %PDF- header in the first 1024 bytes)")
    sections, last_section_end = 0, 0
    truncated = ""
    expect_trailer = False
    last_dictionary = b""
    position = 0
    while (token := TOP_LEVEL.search(data, position)) is not None:
        kind, position = token.group(), token.end()
        try:
            if kind == b"<<":
                last_dictionary, position = _dictionary(data, token.start())
                # Keys are only worth listing in a trailer or what may be a cross-reference stream.
                entries = _entries(last_dictionary) if expect_trailer or b"/XRef" in last_dictionary else {}
                if expect_trailer or entries.get(b"/Type") == b"/XRef":
                    sections, last_section_end = sections + 1, position
                    if b"/Encrypt" in entries:
                        return Kind.PDF, _describe(data, entries[b"/Encrypt"])
                expect_trailer = False
            elif kind == b"trailer":
                expect_trailer = True
            else:
                position = _skip(data, kind, position, last_dictionary)
        except Undecidable as exc:
            truncated = str(exc)
            break
    if truncated:
        raise Undecidable(truncated)
    if not sections:
        raise Undecidable("PDF without a trailer or cross-reference stream (truncated?)")
    if data.find(b"%%EOF", last_section_end) < 0:
        raise Undecidable("PDF truncated: no %%EOF after the last cross-reference section")
    return None


# --- lexical pieces: each returns the position after the thing --------------------------------------


def _skip(data: bytes, kind: bytes, position: int, last_dictionary: bytes) -> int:
    if kind == b"%":
        return _after_comment(data, position)
    if kind == b"(":
        return _after_string(data, position)
    if kind == b"<":
        return _after_hex_string(data, position)
    return _after_stream(data, position, last_dictionary)


def _after_comment(data: bytes, position: int) -> int:
    end = LINE_END.search(data, position)
    return end.end() if end else len(data)


def _after_string(data: bytes, position: int) -> int:
    depth = 1
    for token in IN_STRING.finditer(data, position):
        mark = token.group()
        if mark == b"(":
            depth += 1
        elif mark == b")":
            depth -= 1
            if depth == 0:
                return token.end()
    raise Undecidable("PDF truncated inside a string")


def _after_hex_string(data: bytes, position: int) -> int:
    end = data.find(b">", position)
    if end < 0:
        raise Undecidable("PDF truncated inside a hexadecimal string")
    return end + 1


def _dictionary(data: bytes, start: int) -> tuple[bytes, int]:
    """The dictionary opening at ``start`` with strings emptied and comments dropped, and the position
    after it: what is left can be searched for keys without a string's bytes passing for one."""
    pieces: list[bytes] = []
    depth, position = 0, start
    while (token := IN_DICTIONARY.search(data, position)) is not None:
        pieces.append(data[position : token.start()])
        mark, position = token.group(), token.end()
        if mark == b"%":
            position = _after_comment(data, position)
            pieces.append(b" ")
        elif mark == b"(":
            position = _after_string(data, position)
            pieces.append(b"()")
        elif mark == b"<":
            position = _after_hex_string(data, position)
            pieces.append(b"()")  # not "<>": its ">" and a closing ">>" would read as ">>" and ">"
        else:
            pieces.append(mark)
            depth += 1 if mark == b"<<" else -1
            if depth == 0:
                return b"".join(pieces), position
    raise Undecidable("PDF truncated inside a dictionary")


def _after_stream(data: bytes, position: int, dictionary: bytes) -> int:
    if data[position : position + 2] == b"\r\n":
        position += 2
    elif position < len(data):
        position += 1
    length = DIRECT_LENGTH.match(_entries(dictionary).get(b"/Length", b""))
    if length is not None:
        end = position + int(length.group(1))
        if data[end : end + 64].lstrip().startswith(b"endstream"):
            return data.index(b"endstream", end) + len(b"endstream")
    end = data.find(b"endstream", position)
    if end < 0:
        raise Undecidable("PDF truncated inside a stream")
    return end + len(b"endstream")


# --- dictionaries ----------------------------------------------------------------------------------


def _entries(dictionary: bytes) -> dict[bytes, bytes]:
    """The keys of a (cleaned) dictionary's outermost level and their values' text; names nested in
    arrays or inner dictionaries are values, never keys."""
    entries: dict[bytes, bytes] = {}
    depth, key, value_start = 0, b"", 0
    for token in STRUCTURE.finditer(dictionary):
        mark = token.group()
        if mark in (b"<<", b"["):
            depth += 1
        elif mark in (b">>", b"]"):
            if depth == 1:
                if key:
                    entries[key] = dictionary[value_start : token.start()].strip()
                break
            depth -= 1
        elif depth == 1:
            gap = dictionary[value_start : token.start()].strip()
            if not key:
                key, value_start = mark, token.end()
            elif not gap:
                entries[key], key = mark, b""
            else:
                entries[key], key, value_start = gap, mark, token.end()
    return entries


def _describe(data: bytes, value: bytes) -> str:
    """``Standard V5 R6 (AES-256)`` from the encryption dictionary, direct or by reference."""
    if value.startswith(b"<<"):
        dictionary = value
    elif (reference := REFERENCE.match(value)) is not None:
        number, generation = reference.groups()
        header = re.compile(rb"(?<![0-9])" + number + rb"\s+" + generation + rb"\s+obj\s*<<")
        definitions = list(header.finditer(data))  # the last one wins (incremental updates)
        if not definitions:
            return f"/Encrypt {number.decode()} {generation.decode()} R (dictionary not found)"
        try:
            dictionary, _ = _dictionary(data, definitions[-1].end() - 2)
        except Undecidable:
            return "/Encrypt (dictionary truncated)"
    else:
        return "/Encrypt (unreadable value)"
    entries = _entries(dictionary)
    handler = entries.get(b"/Filter", b"/?").lstrip(b"/").decode("latin-1")
    version, revision = _integer(entries.get(b"/V")), _integer(entries.get(b"/R"))
    words = [handler]
    words += [f"V{version}"] if version is not None else []
    words += [f"R{revision}"] if revision is not None else []
    cipher = _cipher(version, entries)
    return " ".join(words) + (f" ({cipher})" if cipher else "")


def _integer(value: bytes | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 10 else None


def _cipher(version: int | None, entries: dict[bytes, bytes]) -> str:
    if version == 1:
        return "RC4-40"
    if version in (2, 3):
        bits = _integer(entries.get(b"/Length"))
        return f"RC4-{bits or 40}"
    if version in (4, 5):
        method = CRYPT_FILTER.search(entries.get(b"/CF", b""))
        if method is not None and method.group(1) in CIPHER_BY_CFM:
            return CIPHER_BY_CFM[method.group(1)]
        return "AES-256" if version == 5 else ""
    return ""
