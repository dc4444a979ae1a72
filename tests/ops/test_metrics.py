"""/metrics (Prometheus) and LOG_FORMAT=json: what operators read, and never a secret in either."""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from bot.compose import build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.logging_setup import configure_logging
from bot.settings import load_settings
from tests.app.test_application import telegram_emulator
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import eventually

D = Decimal
TOKEN = "123456:TEST-TOKEN"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_jobs_exchange_calls_and_reactions_without_secrets(db, aiohttp_server,
                                                                               monkeypatch) -> None:
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
    async with simulated_exchange({"USDT": D(100000)}, websocket=True) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            await emulator.wait_for_call("getUpdates")
            await app.scheduler.run_now("sync", app.jobs()[0][2])       # the bot begins watching
            await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                     client_oid="hand-buy", quantity=D("0.01"), price=D(100000)))
            exchange.set_price("BTC_USDT", D(100000))                   # it fills; the bot protects it
            await app.scheduler.run_now("sync", app.jobs()[0][2])

            async def scrape() -> str:
                async with ClientSession() as session, session.get(f"{app.web_url}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain")
                    return await response.text()

            async def protected() -> bool:
                found = samples(await scrape())
                return value(found, "cryptobot_fill_to_protection_seconds_count") >= 1

            await eventually(protected, timeout=15)
            text = await scrape()
        finally:
            await app.shutdown()
    found = samples(text)
    assert value(found, "cryptobot_job_runs_total", job="sync", outcome="ok") == 2
    assert value(found, "cryptobot_job_duration_seconds_count", job="sync") == 2
    assert value(found, "cryptobot_exchange_calls_total", method="create_oco") == 1
    assert value(found, "cryptobot_exchange_calls_total", method="open_orders") >= 2
    assert value(found, "cryptobot_leader") == 1
    assert value(found, "cryptobot_order_stream_following") == 1
    assert value(found, "cryptobot_order_stream_connected") == 1
    assert ("cryptobot_telegram_send_queue_depth", ()) in found
    assert ("cryptobot_telegram_rate_limited_total", ()) in found
    fill_to_protection = value(found, "cryptobot_fill_to_protection_seconds_sum")
    assert 0 <= fill_to_protection < 10
    # Nothing secret: not the keys, not the token, not the database address.
    for secret in (exchange.sim.api_key, exchange.sim.api_secret, TOKEN, "TEST-TOKEN", db):
        assert secret not in text


async def test_metrics_count_exchange_errors_by_method_and_code(db, aiohttp_server, monkeypatch) -> None:
    await telegram_emulator(db, aiohttp_server, monkeypatch)
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        try:
            exchange.sim.faults.force_code("private/user-balance", "40101", times=1)
            with pytest.raises(Exception):    # noqa: B017 - any refusal: the metric is the point
                await app.exchange.balances()
            found = samples(app.metrics.exposition().decode())
        finally:
            await app.shutdown()
    assert value(found, "cryptobot_exchange_errors_total", method="balances", code="40101") == 1


def test_json_logs_are_one_object_a_line_with_secrets_masked(capsys, restore_logging) -> None:
    secret = "exchange-api-secret-value"
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
    configure_logging("DEBUG", [secret], "json")
    log = logging.getLogger("bot.test")
    log.info("signed with %s for bot%s", secret, token)
    try:
        raise RuntimeError(f"refused: {secret}")
    except RuntimeError:
        log.exception("order failed")
    lines = capsys.readouterr().err.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["level"] for r in records] == ["INFO", "ERROR"]
    assert records[0]["logger"] == "bot.test" and "pid" in records[0] and records[0]["time"].endswith("+00:00")
    assert "RuntimeError" in records[1]["message"] and "Traceback" in records[1]["message"]
    everything = "\n".join(lines)
    assert secret not in everything and token not in everything and "********" in everything


def test_log_format_accepts_text_or_json_only() -> None:
    from bot.settings import SettingsError

    assert load_settings(LOG_FORMAT="json").LOG_FORMAT == "json"
    with pytest.raises(SettingsError, match="LOG_FORMAT: got 'xml'; accepted: text or json"):
        load_settings(LOG_FORMAT="xml")


async def test_scraping_twice_in_one_process_with_two_applications_is_fine(db, aiohttp_server,
                                                                           monkeypatch) -> None:
    """Each application has its own registry: a second one in the same process (tests, the CLI) never
    collides with the first."""
    await telegram_emulator(db, aiohttp_server, monkeypatch)
    async with simulated_exchange({"USDT": D(1000)}) as exchange:
        first = await build_application(load_settings(), exchange=exchange.adapter)
        second = await build_application(load_settings(), exchange=exchange.adapter)
        try:
            await asyncio.gather(first.exchange.balances(), second.exchange.balances())
            for app in (first, second):
                assert value(samples(app.metrics.exposition().decode()),
                             "cryptobot_exchange_calls_total", method="balances") == 1
        finally:
            await first.shutdown()
            await second.shutdown()
