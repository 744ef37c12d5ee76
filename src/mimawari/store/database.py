"""Opening a database: the URL (default: a SQLite file in the user's data directory), the engine with the
settings each backend needs, and the Alembic upgrade to the newest schema.

Everything the database can throw while opening becomes a one-line ``StoreError`` (exit code 3): a user
who mistyped ``MIMAWARI_DATABASE_URL`` learns which URL failed and why, never reads a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from mimawari.errors import StoreError

DATABASE_URL_ENV = "MIMAWARI_DATABASE_URL"
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's transaction (a monitor and a CLI scan at once)."""


def default_url() -> str:
    """``$MIMAWARI_DATABASE_URL``, or a SQLite file in the XDG data directory (``~/.local/share/mimawari``)."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{Path(platformdirs.user_data_dir('mimawari')) / 'mimawari.db'}"


def ensure_directory(url: str) -> None:
    """Create the directory of a SQLite file: used for the default location, which may not exist yet (a
    URL the user gave must name a directory that exists, so a typo does not scatter directories)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    try:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the directory for {shown(url)}: {error.strerror}") from None


def shown(url: str | URL) -> str:
    """The URL as it may appear in a message: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed URL>"


def reason(error: BaseException) -> str:
    """The first line of what the driver said, without SQLAlchemy's background links."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers (a dashboard) never block the scan that writes, and a commit is one append to the log.
    # synchronous=FULL: a committed transaction survives a crash of the machine, not only of the process.
    # foreign_keys: SQLite enforces them (and ON DELETE CASCADE) only when asked, per connection.
    # The driver's own implicit BEGIN is turned off for ``_sqlite_begin`` below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front. With the default deferred BEGIN, two processes (the
    # monitor and a CLI scan) that both read and then write would have one fail at once with "database is
    # locked" instead of waiting busy_timeout; it also makes the Alembic upgrade one atomic transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; nothing is connected yet (``migrate`` is the first to connect)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise StoreError(f"cannot use the database {shown(url)}: {reason(error)}") from None
    return engine


def alembic_config() -> Config:
    """The migrations shipped inside the package; no ``alembic.ini`` is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` in one transaction; a database already there is left as is."""
    config = alembic_config()
    with translated(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Turn what goes wrong with the database itself into a one-line ``StoreError``."""
    try:
        yield
    except CommandError as error:
        # Typically "Can't locate revision …": the database was upgraded by a newer mimawari.
        raise StoreError(
            f"the database {shown(engine.url)} has a schema this version of mimawari does not know "
            f"({reason(error)}); upgrade mimawari or point {DATABASE_URL_ENV} elsewhere"
        ) from None
    except (DBAPIError, OSError) as error:
        raise StoreError(f"cannot use the database {shown(engine.url)}: {reason(error)}") from None
    except SQLAlchemyError as error:
        raise StoreError(f"database error on {shown(engine.url)}: {reason(error)}") from None
