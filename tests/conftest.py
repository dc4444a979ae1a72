"""Shared fixtures. SQLite + in-process defaults; TEST_DATABASE_URL / TEST_REDIS_URL switch the
storage, lock and sync tests to the real PostgreSQL and Redis (make test's second pass)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from bot.db.config import close_db, init_db

ROOT = Path(__file__).resolve().parent.parent
SHARED_CANDLES = ROOT.parent / "shared" / "data" / "candles"
BUNDLED_CANDLES = ROOT / "bot" / "data" / "candles"

_migrated: set[str] = set()


TEST_CANDLES = ROOT / "tests" / "data" / "candles"


def candles_dir() -> Path:
    """Real candle files: ../shared/data/candles when present (all 60), else the bundled subset."""
    return SHARED_CANDLES if SHARED_CANDLES.is_dir() else BUNDLED_CANDLES


def candle_file(name: str) -> Path:
    """One real candle file: from the shared folder, the bundled set or the test-only copies; a test
    that needs a file none of them holds (the GPL-sourced DGB files live only in the shared folder)
    is skipped with the reason, instead of failing on a machine without ../shared."""
    for folder in (SHARED_CANDLES, BUNDLED_CANDLES, TEST_CANDLES):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"{name} is only in ../shared/data/candles, which this checkout does not have")


@pytest.fixture(autouse=True)
def _unpaced_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Bot API emulator enforces no flood limits unless a test asks for them, so the bot need not
    keep to Telegram's (a chat's answers would otherwise be a second apart); a test that turns the
    limits on sets these to match (`running_app` does, from its emulator's)."""
    monkeypatch.setenv("TELEGRAM_CHAT_SEND_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("TELEGRAM_SENDS_PER_SECOND", "1000")


@pytest.fixture
def test_database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite://{tmp_path}/test.sqlite3"


@pytest.fixture
async def db(test_database_url: str) -> AsyncIterator[str]:
    """A migrated, empty database; yields its URL."""
    url = test_database_url
    if url.startswith("sqlite"):
        await init_db(url)
    else:
        if url not in _migrated:
            await _reset_postgres_schema(url)
        await init_db(url, run_migrations=url not in _migrated)
        _migrated.add(url)
        conn = Tortoise.get_connection("pg")
        tables = [row["tablename"] for row in await conn.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'")]
        if tables:
            await conn.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    try:
        yield url
    finally:
        await close_db()


async def _reset_postgres_schema(url: str) -> None:
    """The test database starts empty once per run, so it always matches the committed migrations."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    """Real Redis when TEST_REDIS_URL is set, else fakeredis (with Lua, for locks)."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        from redis.asyncio import Redis

        client = Redis.from_url(url, decode_responses=True)
        await client.flushdb()
    else:
        import fakeredis

        client = fakeredis.FakeAsyncRedis(decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Logging as it was before the test (tests that configure the root logger use it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
