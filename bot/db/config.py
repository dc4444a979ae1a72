"""Tortoise configuration and start-up: migrations applied, then the ORM initialised."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise

MODELS = ["bot.db.models"]


def connection_label(db_url: str) -> str:
    # Tortoise caches INSERT SQL per (label, table) process-wide; a PostgreSQL connection that
    # reused SQLite's label would get "?" placeholders. One label per dialect avoids it.
    return "default" if db_url.startswith("sqlite") else "pg"


def tortoise_config(db_url: str) -> dict[str, Any]:
    label = connection_label(db_url)
    return {
        "connections": {label: db_url},
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
    """Apply the committed migrations (idempotent). Same files for SQLite and PostgreSQL."""
    from tortoise.migrations.api import migrate as run_migrations

    _ensure_sqlite_dir(db_url)
    await run_migrations(config=tortoise_config(db_url))


async def init_db(db_url: str, *, run_migrations: bool = True) -> None:
    if run_migrations:
        await migrate(db_url)
    _ensure_sqlite_dir(db_url)
    await Tortoise.init(config=tortoise_config(db_url))


async def close_db() -> None:
    await Tortoise.close_connections()


# For the `tortoise` CLI (makemigrations): [tool.tortoise] points here.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://data/bot.sqlite3"))
