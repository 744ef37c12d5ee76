"""Alembic's entry point. mimawari always hands over an open connection (``database.migrate``, and the
revision recipe in ``docs/store.md``), so the upgrade runs inside the caller's transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from mimawari.store import dmarc_models  # noqa: F401  (its tables belong to Base.metadata)
from mimawari.store.models import Base


def main() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise SystemExit("run the migrations through mimawari.store.database.migrate (see docs/store.md)")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table (used on SQLite only).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


main()
