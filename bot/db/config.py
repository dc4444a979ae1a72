"""Tortoise configuration and start-up: the database checked, migrations applied, the ORM initialised.

`check_database` runs first and turns every way a database can be unusable (no such folder, a
read-only file, a PostgreSQL database that does not exist or a server that does not answer) into
one line naming DATABASE_URL, within seconds. Tortoise itself reports some of these as a bare
`DBConnectionError`, and a read-only SQLite file even deadlocks its migration recorder (the
connection lock stays taken after a failed PRAGMA), so the check does not go through Tortoise.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from bot.settings import SettingsError

MODELS = ["bot.db.models"]
log = logging.getLogger(__name__)
# pg_advisory_lock key held while migrations run: any fixed 64-bit number, the same in every replica.
MIGRATION_LOCK_KEY = 0x63727970746F6D67   # "cryptomg"
# The default SQLite folder (relative to where the bot runs) is created when missing; any other
# folder must exist, so a mistyped absolute path never creates folders at the filesystem root.
DEFAULT_SQLITE_FOLDER = Path("data")
CONNECT_TIMEOUT_SECONDS = 5.0


def connection_label(db_url: str) -> str:
    # Tortoise caches INSERT SQL per (label, table) process-wide; a PostgreSQL connection that
    # reused SQLite's label would get "?" placeholders. One label per dialect avoids it.
    return "default" if db_url.startswith("sqlite") else "pg"


def sqlite_url(db_url: str) -> str:
    """A SQLite URL with `synchronous=NORMAL` unless it sets its own. Tortoise opens SQLite in WAL
    mode, where NORMAL never corrupts the database and spares each commit its fsync (about 2 ms,
    paid by every order update on the way to a protection leg's reaction); what it gives up is the
    durability of the last commits on a power cut, which the next sync restores from the exchange
    (orders and their client_oids are the exchange's; protection looks its legs up before sending)."""
    if not db_url.startswith("sqlite") or "synchronous=" in db_url:
        return db_url
    return db_url + ("&" if "?" in db_url else "?") + "synchronous=NORMAL"


def tortoise_config(db_url: str) -> dict[str, Any]:
    label = connection_label(db_url)
    return {
        "connections": {label: sqlite_url(db_url)},
        "apps": {
            "models": {
                "models": MODELS,
                "migrations": "bot.db.migrations",
                "default_connection": label,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def sqlite_path(db_url: str) -> Path | None:
    """The file of a `sqlite://PATH` URL; None for memory databases and other engines."""
    if not db_url.startswith("sqlite://"):
        return None
    path = db_url.removeprefix("sqlite://").split("?", 1)[0]
    return None if not path or ":memory:" in path else Path(path)


async def check_database(db_url: str, *, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Raise `SettingsError` (one line naming DATABASE_URL) unless the database can be opened and written."""
    path = sqlite_path(db_url)
    if path is not None:
        _check_sqlite(path)
    elif not db_url.startswith("sqlite"):
        await _check_postgres(db_url, timeout)


def _check_sqlite(path: Path) -> None:
    folder = path.parent
    if not folder.exists():
        if folder != DEFAULT_SQLITE_FOLDER:
            raise SettingsError(f"DATABASE_URL: folder {folder} does not exist; create it first "
                                f"(sqlite://data/bot.sqlite3 is relative to the working folder, "
                                f"sqlite:///abs/path/bot.sqlite3 absolute)")
        try:
            folder.mkdir()
        except OSError as exc:
            raise SettingsError(f"DATABASE_URL: cannot create folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise SettingsError(f"DATABASE_URL: {folder} is not a folder")
    if path.is_dir():
        raise SettingsError(f"DATABASE_URL: {path} is a folder; name a database file inside it")
    try:
        # A write transaction opened and rolled back: the only test of writability that also holds
        # for root (who ignores file modes) and for read-only filesystems.
        connection = sqlite3.connect(path, timeout=1)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):        # another process is writing: the file is writable
            return
        raise SettingsError(f"DATABASE_URL: cannot write {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise SettingsError(f"DATABASE_URL: {path} is not a SQLite database: {exc}") from None


async def _check_postgres(db_url: str, timeout: float) -> None:
    import asyncpg

    try:
        credentials = expand_db_url(db_url)["credentials"]
    except Exception as exc:
        raise SettingsError(f"DATABASE_URL: {exc}") from None
    host, port = credentials.get("host") or "localhost", credentials.get("port") or 5432
    database, user = credentials.get("database"), credentials.get("user")
    where = f"{host}:{port}"
    try:
        connection = await asyncio.wait_for(asyncpg.connect(
            host=host, port=port, user=user, password=credentials.get("password"), database=database,
            timeout=timeout), timeout + 1)
    except asyncpg.InvalidCatalogNameError:
        raise SettingsError(f"DATABASE_URL: database {database!r} does not exist on {where}; "
                            f"create it (createdb {database}) or name another") from None
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise SettingsError(f"DATABASE_URL: {where} refused user {user!r}: {exc}") from None
    except socket.gaierror:
        raise SettingsError(f"DATABASE_URL: host {host!r} does not resolve") from None
    except TimeoutError:
        raise SettingsError(f"DATABASE_URL: no answer from {where} within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise SettingsError(f"DATABASE_URL: nothing answers at {where} (is PostgreSQL running?)") from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise SettingsError(f"DATABASE_URL: {where}: {exc}") from None
    await connection.close()


async def migrate(db_url: str) -> None:
    """Apply the committed migrations (idempotent). Same files for SQLite and PostgreSQL.

    Replicas that start together all call this: one runs the migrations under a lock, the others
    wait for it and then find nothing left to apply (unlocked, both would create the same tables
    and one would die on a duplicate key)."""
    await check_database(db_url)
    await _apply_migrations(db_url)


async def _apply_migrations(db_url: str) -> None:
    from tortoise.migrations.api import migrate as run_migrations

    async with migration_lock(db_url):
        await run_migrations(config=tortoise_config(db_url))


@contextlib.asynccontextmanager
async def migration_lock(db_url: str) -> AsyncIterator[None]:
    """PostgreSQL: a session advisory lock on its own connection (released by PostgreSQL itself if
    this process dies). SQLite: an exclusive lock on a file beside the database."""
    if db_url.startswith("sqlite"):
        async with _file_lock(db_url):
            yield
        return
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(db_url))
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY):
            log.info("another replica is applying the migrations: waiting for it")
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _file_lock(db_url: str) -> AsyncIterator[None]:
    if ":memory:" in db_url:
        yield
        return
    path = db_url.removeprefix("sqlite://") + ".migrate-lock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _asyncpg_dsn(db_url: str) -> str:
    return "postgresql://" + db_url.split("://", 1)[1]


async def init_db(db_url: str, *, run_migrations: bool = True) -> None:
    await check_database(db_url)
    if run_migrations:
        await _apply_migrations(db_url)
    await Tortoise.init(config=tortoise_config(db_url))


async def close_db() -> None:
    await Tortoise.close_connections()


# For the `tortoise` CLI (makemigrations): [tool.tortoise] points here.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://data/bot.sqlite3"))
