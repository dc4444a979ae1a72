"""The commands the bot answers today. A command is listed here only once it works."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

# (command, description): descriptions are translated for /help and setMyCommands.
COMMANDS = [
    ("start", __("Main menu")),
    ("help", __("What the bot can do")),
    ("signals", __("Newest decision per coin, with its reasons")),
    ("watchlist", __("Watched coins: Trade / Alert / Margin, amount, SL / TP")),
    ("alerts", __("Alerts: coins and what notifies you")),
]
