"""What the archive builders put in their archives by default, and the fixed moment they date them to, so
that the same arguments always give the same bytes."""

from __future__ import annotations

from collections.abc import Mapping

Members = Mapping[str, bytes]
PASSWORD = "infected"
"""The password every encrypted sample uses (the one malware samples are traditionally shared with)."""
DATE = (2024, 4, 1, 9, 0, 0)
DOS_TIME = (9 << 11) | (0 << 5)
DOS_DATE = ((2024 - 1980) << 9) | (4 << 5) | 1
SAMPLE: dict[str, bytes] = {"invoice.txt": b"Invoice 2024-04: please pay within 30 days.\r\n" * 20}
