"""Replicas that start together: the migrations run once, under a lock, and none of them fails.

Unlocked, three `python -m bot migrate` started at once on an empty PostgreSQL database end with two
`IntegrityError`s (both create the same tables); the lock makes the others wait and find nothing to do.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import _migrated, _reset_postgres_schema

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.storage


async def _migrate_at_once(db_url: str, cwd: Path, count: int) -> list[tuple[int, str]]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT) for _ in range(count)]
    outputs = await asyncio.gather(*(p.communicate() for p in processes))
    return [(p.returncode or 0, out.decode()) for p, (out, _) in zip(processes, outputs, strict=True)]


async def test_replicas_starting_together_migrate_once_without_failing(test_database_url: str,
                                                                       tmp_path: Path) -> None:
    if not test_database_url.startswith("sqlite"):
        await _reset_postgres_schema(test_database_url)       # an empty database, as on a first deploy
        _migrated.discard(test_database_url)
    results = await _migrate_at_once(test_database_url, tmp_path, 3)
    for code, output in results:
        assert code == 0, output
        assert "IntegrityError" not in output and "migrations applied" in output
    # Each migration is recorded once.
    from tortoise import Tortoise

    from bot.db.config import close_db, connection_label, init_db

    await init_db(test_database_url, run_migrations=False)
    try:
        rows = await Tortoise.get_connection(connection_label(test_database_url)).execute_query_dict(
            "SELECT name, COUNT(*) AS n FROM tortoise_migrations GROUP BY name")
    finally:
        await close_db()
    assert rows and all(row["n"] == 1 for row in rows)
    migrations = {p.stem for p in (ROOT / "bot" / "db" / "migrations").glob("0*.py")}
    assert {row["name"] for row in rows} == migrations
