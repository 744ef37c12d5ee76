"""The store's two backends as a pytest fixture: ``database_url`` runs a test on SQLite and on PostgreSQL.

PostgreSQL: ``$MIMAWARI_TEST_POSTGRESQL_URL`` (default the CI machine's server on 127.0.0.1:5432, trust
authentication); each test gets its own schema, dropped afterwards. Its tests skip, saying why, when the
server does not answer.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRESQL_URL = os.environ.get(
    "MIMAWARI_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def postgresql_unreachable() -> str:
    """Why PostgreSQL cannot be used for the tests, or "" when it can."""
    engine = create_engine(POSTGRESQL_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return ""
    except Exception as error:
        first = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return f"PostgreSQL at {POSTGRESQL_URL} is not usable: {first}"
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if reason := postgresql_unreachable():
        pytest.skip(reason)
    schema = f"mimawari_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRESQL_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        # libpq's "options" puts every connection of the store into the fresh schema.
        yield f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
