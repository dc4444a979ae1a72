"""Webhook mode: TELEGRAM_WEBHOOK_URL registers a webhook (with a secret token) served by the bot's own
web server; a repeated delivery of an update is handled once (also across replicas, through Redis);
a bot run without the URL deletes the webhook and polls again."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from bot.compose import build_application
from bot.settings import load_settings
from tests.app.test_application import ALLOWED, telegram_emulator
from tests.ops.replicas import cluster, free_port, wait_until
from tests.services.sim_exchange import simulated_exchange

D = Decimal


def replies(emulator, word: str) -> int:  # type: ignore[no-untyped-def]
    return sum(word in str(c.params.get("text", "")) for c in emulator.calls_of("sendMessage"))


async def test_webhook_mode_answers_once_per_update_and_polling_deletes_it_again(db, aiohttp_server,
                                                                                monkeypatch) -> None:
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    monkeypatch.setenv("WEBAPP_PORT", str(port))
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", url)
    async with simulated_exchange({"USDT": D(1000)}) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            registered = await emulator.wait_for_call("setWebhook")
            secret = registered.params["secret_token"]
            assert registered.params["url"] == url and len(secret) >= 32
            assert "message" in registered.params["allowed_updates"]

            update = emulator.push_message(ALLOWED, "/start", language_code="en")     # POSTed to the webhook
            await emulator.wait_for_call("sendMessage", where=lambda c: "Hello" in c.params["text"])
            assert await emulator.post_update(url, update) == 200                     # Telegram retries it
            assert await emulator.post_update(url, update, secret="wrong") == 401     # not from Telegram
            await asyncio.sleep(0.5)
            assert replies(emulator, "Hello") == 1
            assert app.telegram.webhook is not None and app.telegram.webhook.repeats == 1
            assert emulator.calls_of("getUpdates", outcome=None) == []
            assert secret not in await _get(f"{app.web_url}/metrics")
        finally:
            await app.shutdown()

    # Back to polling: the webhook is deleted, getUpdates answers again. (A new exchange: the first
    # application closed the adapter it was given, as it should.)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "")
    async with simulated_exchange({"USDT": D(1000)}) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            await emulator.wait_for_call("deleteWebhook")
            await emulator.wait_for_call("getUpdates")
            assert emulator.webhook_url == ""
            emulator.push_message(ALLOWED, "/start", language_code="en")
            await emulator.wait_for_call("sendMessage", count=2, where=lambda c: "Hello" in c.params["text"])
            assert emulator.calls_of("getUpdates", outcome="conflict") == []
        finally:
            await app.shutdown()


async def _get(url: str) -> str:
    from aiohttp import ClientSession

    async with ClientSession() as session, session.get(url) as response:
        return await response.text()


@pytest.mark.lock
@pytest.mark.timeout(180)
async def test_two_replicas_in_webhook_mode_answer_a_repeated_update_once(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        first_port = free_port()
        url = f"http://127.0.0.1:{first_port}/telegram/webhook"
        first = await group.start_replica(TELEGRAM_WEBHOOK_URL=url, WEBAPP_PORT=str(first_port))
        second = await group.start_replica(TELEGRAM_WEBHOOK_URL=url)
        emulator = group.emulator
        await emulator.wait_for_call("setWebhook", timeout=15)
        secret = emulator.webhook_secret
        # Every replica answers; one update delivered to both at once (a retry that reached another
        # replica) is answered once; different updates are all answered.
        other_url = f"http://127.0.0.1:{second.web_port}/telegram/webhook"
        statuses: list[int] = []
        for n in range(5):
            emulator.webhook_url = ""                 # build the update without delivering it
            update = emulator.push_message(ALLOWED, f"/start {n}", language_code="en")
            emulator.webhook_url = url
            statuses += await asyncio.gather(emulator.post_update(url, update, secret=secret),
                                             emulator.post_update(other_url, update, secret=secret))
        assert statuses == [200] * 10
        await wait_until(lambda: replies(emulator, "Hello") >= 5, timeout=20, what="five answers")
        await asyncio.sleep(1.5)
        assert replies(emulator, "Hello") == 5
        assert emulator.calls_of("getUpdates", outcome=None) == []
        assert "repeated delivery" in first.log() + second.log()
