"""The detector: bytes of a message (or of one attached file) in, an ``Inspection`` out. Pure.

Each MIME leaf is identified by its magic bytes (``magic``), archives are opened by their own readers
(``zip``, ``sevenzip``, ``rar``, ``gz``, ``tar``) down to ``Budgets.max_depth``, and OLE2 and PDF files
go to the document half (``office``, ``pdf``). The verdict is ``encrypted`` if anything is, else
``undecidable`` if any part could not be read to a decision, else ``clean``.

It never raises and never hangs: a reader's ``Undecidable`` and any unexpected exception (named by its
class) become an undecided part, every loop is bounded by a budget, and a message-wide overrun (time,
total expansion) ends the inspection with what was found so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mimawari.gateway.budgets import Budgets, MessageBudgetExceeded, Meter
from mimawari.gateway.gz import read_gzip
from mimawari.gateway.magic import CONTAINERS, ZIP_END, Format, identify, worth_reading
from mimawari.gateway.members import Contents, Found, Reader, Unread
from mimawari.gateway.mime import leaves, printable
from mimawari.gateway.rar import read_rar4, read_rar5
from mimawari.gateway.sevenzip import read_7z
from mimawari.gateway.tar import read_tar
from mimawari.gateway.verdict import EncryptedPart, Inspection, Kind, Undecidable, UndecidedPart, Verdict
from mimawari.gateway.zip import read_zip

DEFAULT_BUDGETS = Budgets()
READERS: dict[Format, Reader] = {
    Format.ZIP: read_zip,
    Format.SEVENZIP: read_7z,
    Format.RAR4: read_rar4,
    Format.RAR5: read_rar5,
    Format.GZIP: read_gzip,
    Format.TAR: read_tar,
}
ZIP_TAIL = 22 + 0xFFFF
"""Where a zip's end record can be: a self-extracting program is a zip with code in front."""


def inspect_message(raw: bytes, budgets: Budgets = DEFAULT_BUDGETS) -> Inspection:
    """What the message holds: every MIME leaf (attached messages included), archives opened."""
    if len(raw) > budgets.max_message_bytes:
        return _too_big(len(raw), budgets)
    scan = _Scan(Meter(budgets))
    try:
        for leaf in leaves(raw):
            scan.meter.check_time()
            if leaf.data is None:
                scan.undecided(leaf.path, leaf.section, leaf.problem, 0)
            else:
                scan.leaf(leaf.data, leaf.section, leaf.path, 0)
    except MessageBudgetExceeded as exc:
        scan.undecided("", "", str(exc), 0)
    except Exception as exc:  # the stdlib parser on hostile input: a verdict, never a crash
        scan.undecided("", "", f"MIME structure unreadable ({type(exc).__name__})", 0)
    return scan.result()


def inspect_file(data: bytes, name: str, budgets: Budgets = DEFAULT_BUDGETS) -> Inspection:
    """What one attached file holds (no MIME around it); ``name`` only labels the parts."""
    if len(data) > budgets.max_message_bytes:
        return _too_big(len(data), budgets)
    scan = _Scan(Meter(budgets))
    try:
        scan.leaf(data, "", name, 0)
    except MessageBudgetExceeded as exc:
        scan.undecided(name, "", str(exc), 0)
    return scan.result()


def _too_big(size: int, budgets: Budgets) -> Inspection:
    reason = f"message of {size} bytes over the {budgets.max_message_bytes}-byte limit: not inspected"
    return Inspection(Verdict.UNDECIDABLE, undecided=(UndecidedPart("", "", reason, 0),))


@dataclass
class _Scan:
    """The findings of one message so far (mutable: it accumulates)."""

    meter: Meter
    encrypted: list[EncryptedPart] = field(default_factory=list)
    undecided_parts: list[UndecidedPart] = field(default_factory=list)
    parts: int = 0

    def undecided(self, path: str, section: str, reason: str, depth: int) -> None:
        self.undecided_parts.append(UndecidedPart(path, section, reason, depth))

    def result(self) -> Inspection:
        verdict = (
            Verdict.ENCRYPTED
            if self.encrypted
            else Verdict.UNDECIDABLE
            if self.undecided_parts
            else Verdict.CLEAN
        )
        return Inspection(verdict, tuple(self.encrypted), tuple(self.undecided_parts), self.parts)

    def leaf(self, data: bytes, section: str, path: str, depth: int) -> None:
        self.parts += 1
        kind = identify(data)
        if kind in CONTAINERS:
            self.container(READERS[kind], kind, data, section, path, depth)
        elif kind is Format.OLE2 or kind is Format.PDF:
            self.document(kind, data, section, path, depth)
        elif len(data) > 22 and ZIP_END in data[-ZIP_TAIL:]:
            self.container(read_zip, Format.ZIP, data, section, path, depth)

    def container(
        self, reader: Reader, kind: Format, data: bytes, section: str, path: str, depth: int
    ) -> None:
        limit = self.meter.budgets.max_depth
        if depth >= limit:
            self.undecided(
                path, section, f"{kind} archive nested deeper than {limit} levels: not opened", depth
            )
            return
        try:
            for entry in reader(memoryview(data), self.meter, worth_reading):
                member = f"{path}/{printable(entry.name, '/')}" if entry.name else path
                member_depth = depth + 1 if entry.name else depth
                if isinstance(entry, Found):
                    self.encrypted.append(
                        EncryptedPart(member, section, entry.kind, member_depth, entry.detail)
                    )
                elif isinstance(entry, Unread):
                    self.undecided(member, section, entry.reason, member_depth)
                elif isinstance(entry, Contents):
                    if entry.data is None:
                        self.parts += 1
                    else:
                        self.leaf(entry.data, section, member, depth + 1)
        except MessageBudgetExceeded:
            raise
        except Undecidable as exc:
            self.undecided(path, section, str(exc) or f"{kind} archive unreadable", depth)
        except Exception as exc:  # a reader's bug on hostile input must not let the message through
            self.undecided(path, section, f"{kind} reader failed ({type(exc).__name__})", depth)

    def document(self, kind: Format, data: bytes, section: str, path: str, depth: int) -> None:
        check: Callable[[bytes], tuple[Kind, str] | None]
        if kind is Format.OLE2:
            from mimawari.gateway.office import office_encryption as check  # noqa: PLC0415 (on first use)
        else:
            from mimawari.gateway.pdf import pdf_encryption as check  # noqa: PLC0415
        try:
            found = check(data)
        except Undecidable as exc:
            self.undecided(path, section, str(exc) or f"{kind} document unreadable", depth)
            return
        except Exception as exc:
            self.undecided(path, section, f"{kind} reader failed ({type(exc).__name__})", depth)
            return
        if found is not None:
            self.encrypted.append(EncryptedPart(path, section, found[0], depth, found[1]))
        self.meter.check_time()
