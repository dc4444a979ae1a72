"""Tortoise configuration and start-up: migrations applied, then the ORM initialised."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise

MODELS = ["bot.db.models"]
log = logging.getLogger(__name__)
# pg_advisory_lock key held while migrations run: any fixed 64-bit number, the same in every replica.
MIGRATION_LOCK_KEY = 0x63727970746F6D67   # "cryptomg"


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


def _ensure_sqlite_dir(db_url: str) -> None:
    if db_url.startswith("sqlite://") and ":memory:" not in db_url:
        path = Path(db_url.removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)


async def migrate(db_url: str) -> None:
    """Apply the committed migrations (idempotent). Same files for SQLite and PostgreSQL.

    Replicas that start together all call this: one runs the migrations under a lock, the others
    wait for it and then find nothing left to apply (unlocked, both would create the same tables
    and one would die on a duplicate key)."""
    from tortoise.migrations.api import migrate as run_migrations

    _ensure_sqlite_dir(db_url)
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
    if run_migrations:
        await migrate(db_url)
    _ensure_sqlite_dir(db_url)
    await Tortoise.init(config=tortoise_config(db_url))


async def close_db() -> None:
    await Tortoise.close_connections()


# For the `tortoise` CLI (makemigrations): [tool.tortoise] points here.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://data/bot.sqlite3"))
