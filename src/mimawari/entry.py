"""The ``mimawari`` command's entry point.

``mimawari dmarc parse`` is what a mail administrator runs on a year of reports, and ``mimawari gateway
scan`` what a mail server's hook runs on each message, so both start without importing the scanner, the
store and the monitor (``cli_dmarc_parse``, ``cli_gateway``); every other command goes through the full
command tree (``cli``).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:3] == ["dmarc", "parse"]:
        from mimawari.cli_dmarc_parse import parse_app  # noqa: PLC0415 (late on purpose: see above)

        parse_app(args=sys.argv[3:], prog_name="mimawari dmarc parse")
        return
    if sys.argv[1:3] == ["gateway", "scan"]:
        from mimawari.cli_gateway import scan_app  # noqa: PLC0415

        scan_app(args=sys.argv[3:], prog_name="mimawari gateway scan")
        return
    from mimawari.cli import main as command  # noqa: PLC0415

    command()
