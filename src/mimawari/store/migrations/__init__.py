"""Alembic migrations of the store's schema, run by ``mimawari.store.database.migrate``."""
