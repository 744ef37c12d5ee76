"""Storing a scan as it runs: one transaction per domain, complete only at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from mimawari.scan import DomainReport
from mimawari.store.records import ScanStatus
from mimawari.store.repository import Store


async def stored(
    reports: AsyncIterator[DomainReport], store: Store, organisation: str | None, scan_id: int | None = None
) -> AsyncIterator[DomainReport]:
    """Store each report as it arrives and pass it on; the scan (``scan_id``, else a new one) is complete
    only when every report is in. An error or an interrupt marks it failed with the reason (a killed
    process leaves it running until ``Store.fail_stale_scans``): it is never shown as a result."""
    if scan_id is None:
        scan_id = store.begin_scan(organisation)
    try:
        async for report in reports:
            store.add_report(scan_id, report)
            yield report
    except BaseException as exc:
        interrupted = isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt))
        store.finish_scan(
            scan_id, ScanStatus.FAILED, "interrupted" if interrupted else str(exc) or type(exc).__name__
        )
        raise
    else:
        store.finish_scan(scan_id, ScanStatus.COMPLETE)
