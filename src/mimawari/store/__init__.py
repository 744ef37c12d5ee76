"""History: organisations, scans and their reports in SQLite (default) or PostgreSQL (DESIGN rule 9).

    store = open_store()                      # $MIMAWARI_DATABASE_URL or ~/.local/share/mimawari/mimawari.db
    store.add_organisation(Organisation("Kuroneko", Relation.SELF, domains=("kuroneko.example",)))
    scan_id = store.begin_scan("Kuroneko")    # committed as "running" at once
    store.add_report(scan_id, report)         # each domain committed as it arrives
    store.finish_scan(scan_id)                # only now does the scan count as complete

What is stored and the guarantees: ``docs/store.md``.
"""

from __future__ import annotations

from mimawari.errors import StoreError
from mimawari.store import dmarc_models as _dmarc_models  # noqa: F401  (its tables join Base.metadata)
from mimawari.store.database import DATABASE_URL_ENV, default_url
from mimawari.store.records import (
    Criticality,
    Organisation,
    Relation,
    ScanRecord,
    ScanStatus,
    TargetSummary,
)
from mimawari.store.repository import Store, open_store

__all__ = [
    "DATABASE_URL_ENV",
    "Criticality",
    "Organisation",
    "Relation",
    "ScanRecord",
    "ScanStatus",
    "Store",
    "StoreError",
    "TargetSummary",
    "default_url",
    "open_store",
]
