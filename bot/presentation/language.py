"""Which language a reader gets: their saved choice, else Telegram's language_code, else the default.
Shared by the bot's middleware, the notifier and the Mini App."""

from __future__ import annotations

SUPPORTED = ("es", "en")


def pick_language(saved: str | None, telegram_code: str | None, default: str) -> str:
    if saved in SUPPORTED:
        return saved
    if telegram_code:
        base = telegram_code.lower().replace("_", "-").split("-")[0]
        if base in SUPPORTED:
            return base
    return default
