"""Factories the composition root calls: the Bot, the Dispatcher (fresh routers each time), commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import I18n

from bot.settings import DEFAULT_TELEGRAM_API_URL, Settings
from bot.telegram.commands import COMMANDS
from bot.telegram.middlewares.allow_list import AllowListMiddleware
from bot.telegram.middlewares.commands_end_conversations import CommandsEndConversations
from bot.telegram.middlewares.language import SUPPORTED, LanguageMiddleware
from bot.telegram.pacing import SendPacer
from bot.telegram.routers import actions, alerts, analyze, fallback, orders, portfolio, signals, start, watchlist
from bot.telegram.routers import settings as settings_router
from bot.telegram.shared_pacing import RedisSendBudget

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def build_i18n(default_language: str) -> I18n:
    return I18n(path=LOCALES, default_locale=default_language, domain="messages")


def build_bot(settings: Settings, api_url: str | None = None, token: str | None = None,
              redis: Any | None = None) -> Bot:
    """The Bot, its sends paced; with `redis`, within one budget shared by every replica on the token."""
    secret = token or (settings.TELEGRAM_BOT_TOKEN.get_secret_value() if settings.TELEGRAM_BOT_TOKEN else None)
    if secret is None:
        raise ValueError("no Telegram bot token")
    session = None
    if api_url and api_url.rstrip("/") != DEFAULT_TELEGRAM_API_URL:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    bot = Bot(secret, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    # Handlers answer at once: the pacer keeps their sends and the notifier's within the flood limits.
    interval, per_second = settings.TELEGRAM_CHAT_SEND_INTERVAL_SECONDS, settings.TELEGRAM_SENDS_PER_SECOND
    shared = (RedisSendBudget(redis, per_chat_interval=interval, global_per_second=per_second)
              if redis is not None else None)
    bot.session.middleware(SendPacer(per_chat_interval=interval, global_per_second=per_second, shared=shared))
    return bot


def build_routers(settings: Settings) -> list[Router]:
    features = [start.build_router(settings.mode, settings.WEBAPP_PUBLIC_URL), orders.build_router(),
                actions.build_router(), portfolio.build_router(), watchlist.build_router(), signals.build_router(),
                alerts.build_router(), analyze.build_router(), settings_router.build_router()]
    # Last, always: it answers only what every feature router above let pass.
    return [*features, fallback.build_router()]


def build_dispatcher(settings: Settings, *, services: dict[str, Any], storage: Any) -> Dispatcher:
    dispatcher = Dispatcher(storage=storage)
    dispatcher.workflow_data.update(services)
    i18n = build_i18n(settings.DEFAULT_LANGUAGE)
    # Language first, so the allow-list's refusal is in the user's language.
    LanguageMiddleware(i18n, settings.DEFAULT_LANGUAGE).setup(dispatcher)
    allow = AllowListMiddleware(settings.TELEGRAM_ALLOWED_USERS)
    dispatcher.message.outer_middleware(allow)
    dispatcher.callback_query.outer_middleware(allow)
    dispatcher.message.outer_middleware(CommandsEndConversations())
    dispatcher.include_routers(*build_routers(settings))
    return dispatcher


async def register_commands(bot: Bot, settings: Settings) -> None:
    i18n = build_i18n(settings.DEFAULT_LANGUAGE)
    for language in (*SUPPORTED, None):
        locale = language or settings.DEFAULT_LANGUAGE
        commands = [BotCommand(command=c.name, description=i18n.gettext(c.description, locale=locale))
                    for c in COMMANDS]
        await bot.set_my_commands(commands, language_code=language)
    if settings.WEBAPP_PUBLIC_URL:
        # The chat's menu button opens the dashboard (Telegram signs the launch with the bot's token).
        label = i18n.gettext("Dashboard", locale=settings.DEFAULT_LANGUAGE)
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
            text=label, web_app=WebAppInfo(url=settings.WEBAPP_PUBLIC_URL)))
