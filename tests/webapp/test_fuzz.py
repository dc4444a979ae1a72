"""Property-based fuzzing of the Mini App's API from its own OpenAPI document (schemathesis): whatever
the parameters and bodies, valid initData never meets a 500, and answers match the document."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.db.config import close_db, init_db
from tests.services.sim_exchange import simulated_exchange
from tests.webapp.conftest import with_candles
from tests.webapp.harness import auth, build_app, seed_executed, seed_group, seed_signal, seed_snapshots, seed_watchlist
from webapp.openapi import document

# The event stream never ends by design; its auth is covered by the auth matrix.
schema = schemathesis.openapi.from_dict(document()).exclude(path="/api/events")


@contextlib.contextmanager
def served(database: Path) -> Iterator[str]:
    """The application with seeded data on a loopback port, in its own thread and event loop (the
    fuzzer's HTTP client is synchronous)."""
    ready: dict[str, str] = {}
    started, stop = threading.Event(), threading.Event()

    async def main() -> None:
        await init_db(f"sqlite://{database}")
        try:
            await seed_executed(300)
            await seed_group("BTC_USDT")
            await seed_watchlist("BTC_USDT", "ETH_USDT")
            await seed_signal("BTC_USDT", "BUY")
            await seed_snapshots([Decimal(1000), Decimal(1100)])
            async with simulated_exchange({"USDT": Decimal(10000)}, configure=with_candles) as exchange:
                runner = web.AppRunner(build_app(exchange), access_log=None)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                ready["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
                started.set()
                await asyncio.to_thread(stop.wait)
                await runner.cleanup()
        finally:
            started.set()
            await close_db()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="fuzzed-app", daemon=True)
    thread.start()
    started.wait(60)
    try:
        assert "url" in ready, "the application did not start"
        yield ready["url"]
    finally:
        stop.set()
        thread.join(30)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3") as url:
        yield url


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_500_or_off_the_document(case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=auth(),
                           checks=[not_a_server_error, response_schema_conformance])
