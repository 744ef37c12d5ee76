"""Scan options given as text (command line, later the config file), parsed into values."""

from __future__ import annotations

from collections.abc import Iterable

from mimawari.errors import InputError
from mimawari.parse.dnssec import parse_trust_anchor


def parse_port_map(items: Iterable[str]) -> dict[int, int]:
    """``["443=8443", "25=2525"]`` → ``{443: 8443, 25: 2525}``."""
    ports: dict[int, int] = {}
    for item in items:
        left, sep, right = item.partition("=")
        if not (
            sep and left.isdigit() and right.isdigit() and 0 < int(left) < 65536 and 0 < int(right) < 65536
        ):
            raise InputError(f"port map {item!r}: expected PORT=PORT, e.g. 443=8443")
        ports[int(left)] = int(right)
    return ports


def read_trust_anchors(path: str) -> tuple[str, ...]:
    """DS or DNSKEY records, one per line, from ``path``; blank lines and ``;`` comments are skipped."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.split(";", 1)[0].strip() for line in handle]
    except OSError as exc:
        raise InputError(f"cannot read trust anchor file {path}: {exc.strerror}") from None
    anchors = tuple(line for line in lines if line)
    if not anchors:
        raise InputError(f"trust anchor file {path} holds no DS or DNSKEY record")
    bad = next((line for line in anchors if parse_trust_anchor(line) is None), None)
    if bad is not None:
        raise InputError(f"trust anchor file {path}: not a DS or DNSKEY record: {bad[:80]!r}")
    return anchors
