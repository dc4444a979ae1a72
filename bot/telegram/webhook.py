"""Webhook mode: Telegram POSTs each update to TELEGRAM_WEBHOOK_URL, served by the bot's own web
server. Every replica answers (whichever the load balancer picks); an update delivered twice (a
retry after a timeout, perhaps to another replica) is handled once (`UpdateLedger`).

The leader registers the webhook (`setWebhook` with the secret token, which Telegram then sends in
the `X-Telegram-Bot-Api-Secret-Token` header of every call); a bot run without a webhook URL
deletes one left from before, since Telegram refuses getUpdates while a webhook is set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.services.update_ledger import UpdateLedger
from bot.settings import Settings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(settings: Settings, token: str) -> str:
    """The configured secret, or one derived from the bot token: the same on every replica, and
    unguessable by anyone who does not hold the token already."""
    if settings.TELEGRAM_WEBHOOK_SECRET is not None:
        return settings.TELEGRAM_WEBHOOK_SECRET.get_secret_value()
    return hmac.new(token.encode(), b"cryptobot-webhook", hashlib.sha256).hexdigest()


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class WebhookReceiver:
    def __init__(self, bot: Bot, dispatcher: Dispatcher, secret: str, ledger: UpdateLedger) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self._secret = secret
        self.ledger = ledger
        self.repeats = 0
        self._handling: set[asyncio.Task[Any]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), self._secret):
            return web.Response(status=401)
        try:
            update = json.loads(await request.read())
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        if not await self.ledger.first_time(update_id):
            self.repeats += 1
            log.info("update %d already taken (a repeated delivery): acknowledged, not handled again", update_id)
            return web.Response()
        # Answer at once and handle beside: Telegram waits for neither the reply nor the exchange.
        task = asyncio.create_task(self._feed(update), name=f"update-{update_id}")
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
        return web.Response()

    async def _feed(self, update: dict[str, Any]) -> None:
        try:
            await self.dispatcher.feed_raw_update(self.bot, update)
        except Exception:
            log.exception("update %s could not be handled", update.get("update_id"))

    async def close(self) -> None:
        tasks = list(self._handling)
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def add_webhook_route(app: web.Application, path: str, receiver: WebhookReceiver) -> None:
    app.router.add_post(path, receiver.handle)


async def register_webhook(bot: Bot, dispatcher: Dispatcher, url: str, secret: str) -> None:
    await bot.set_webhook(url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types(),
                          drop_pending_updates=False)
    log.info("Telegram webhook set: %s", url)


async def delete_stale_webhook(bot: Bot) -> None:
    """Polling mode: a webhook left from an earlier run would make every getUpdates fail (409)."""
    info = await bot.get_webhook_info()
    if info.url:
        await bot.delete_webhook(drop_pending_updates=False)
        log.info("Telegram webhook removed (was %s): polling", info.url)
