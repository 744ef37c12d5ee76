"""The bytes of an aggregate report before the XML parser sees them.

libxml2 reads a ``<!DOCTYPE`` and its entity declarations before any element, so they are refused
here, on the bytes: no DTD, hence no entity to expand and nothing to fetch. That scan holds only if
markup is written in ASCII bytes, so the document must be UTF-8 or declare an ASCII-compatible encoding
(in UTF-16, UTF-7 or EBCDIC, ``<!DOCTYPE`` would pass unseen). The first element's name is read here
too, so that a file that is not a report is refused at once.
"""

from __future__ import annotations

import re

from mimawari.dmarc.model import ReportError

_ENCODING = re.compile(rb"""\sencoding\s*=\s*(?:"([A-Za-z0-9._-]*)"|'([A-Za-z0-9._-]*)')""")
# Encodings in which every ASCII character is its own byte, so the declaration scan sees all markup.
_ASCII_COMPATIBLE = re.compile(
    r"utf-?8|us-ascii|ascii|iso-?8859-\d{1,2}|latin-?1|(windows|cp)-?125\d|koi8-[ru]"
)
_WHITESPACE = b" \t\r\n"
_ATTRIBUTE = re.compile(rb"""[ \t\r\n]+([^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*("[^"<]*"|'[^'<]*')""")
_BOM = b"\xef\xbb\xbf"
_WORD = re.compile(rb"[A-Za-z]*")


def first_element_name(head: bytes) -> bytes | None:
    """The name of the first element in ``head`` (after a BOM, whitespace, the XML declaration,
    comments and processing instructions), or None if there is none or ``head`` ends first."""
    found = _first_element(head)
    return None if found is None else found[1]


def _first_element(head: bytes) -> tuple[int, bytes] | None:
    """Where the first element's start tag begins, and its name."""
    position = len(_BOM) if head.startswith(_BOM) else 0
    while True:
        while position < len(head) and head[position] in _WHITESPACE:
            position += 1
        if head.startswith(b"<?", position):
            end = head.find(b"?>", position)
            position = end + 2
        elif head.startswith(b"<!--", position):
            end = head.find(b"-->", position + 4)
            position = end + 3
        elif head.startswith(b"<", position) and not head.startswith(b"<!", position):
            end = position + 1
            while end < len(head) and head[end] not in b" \t\r\n/>":
                end += 1
            return (position, head[position + 1 : end]) if position + 1 < end < len(head) else None
        else:
            return None
        if end < 0:
            return None


def drop_default_namespace(first: bytes) -> tuple[bytes, str]:
    """The first chunk without the root's default namespace declaration, and that namespace ("" if
    none). lxml writes every tag of a namespaced element as ``{namespace}name``, a string built anew
    at each access: without the declaration, the unprefixed elements of the report have bare names,
    which makes an RFC 9990 report as quick to read as an RFC 7489 one. The reader still knows the
    namespace (for the version, and for elements written with a prefix bound to it); elements of other
    namespaces (extensions) keep theirs. Nothing is dropped unless the root's start tag is plainly
    readable in this chunk: then libxml2 judges the document as it is."""
    found = _first_element(first)
    if found is None or b":" in found[1]:
        return first, ""
    position = found[0] + 1 + len(found[1])
    while match := _ATTRIBUTE.match(first, position):
        name, value = match.group(1), match.group(2)[1:-1]
        if name == b"xmlns":
            if b"&" in value or not value.isascii():
                return first, ""
            return first[: match.start()] + first[match.end() :], value.decode("ascii")
        position = match.end()
    return first, ""


def check_prolog(first: bytes) -> bytes:
    """Check the first chunk's encoding and return it without a BOM or leading whitespace (which some
    reporters write before ``<?xml``, and libxml2 refuses)."""
    start = len(_BOM) if first.startswith(_BOM) else 0
    while start < len(first) and first[start] in _WHITESPACE:
        start += 1
    # UTF-16 and UTF-32 put a NUL next to "<"; EBCDIC and the other BOMs do not start with "<" at all.
    if first[start : start + 1] != b"<" or first[start + 1 : start + 2] in (b"\x00", b""):
        raise ReportError("not an XML document in UTF-8 or another ASCII-compatible encoding")
    first = first[start:]
    if first.startswith(b"<?xml"):
        end = first.find(b"?>")
        if end < 0:
            raise ReportError("the XML declaration is not closed")
        declaration = first[:end]
        match = _ENCODING.search(declaration)
        if match is None and b"encoding" in declaration:
            raise ReportError("the XML declaration's encoding cannot be read")
        if match is not None:
            name = (match.group(1) or match.group(2) or b"").decode("ascii").lower().replace("_", "-")
            if not _ASCII_COMPATIBLE.fullmatch(name):
                raise ReportError(
                    f"encoding {name!r} is not accepted (UTF-8, US-ASCII, ISO-8859-x, windows-125x, KOI8)"
                )
    return first


def refuse_declarations(window: bytes, offset: int) -> None:
    """Refuse ``<!DOCTYPE`` and every other markup declaration: comments and CDATA are the only ``<!``
    an aggregate report has a use for. A ``<!`` too close to the end of the window to be told apart
    is decided in the next window, which starts with this one's last 8 bytes."""
    at = window.find(b"<!")
    while at >= 0:
        if len(window) - at < 9:
            return
        if window[at + 2 : at + 4] != b"--" and window[at + 2 : at + 9] != b"[CDATA[":
            word = _WORD.match(window, at + 2, at + 11)  # always matches, maybe nothing
            name = word.group().decode("ascii") if word else ""
            raise ReportError(f"DTDs are not allowed in aggregate reports (<!{name} at byte {offset + at})")
        at = window.find(b"<!", at + 2)
