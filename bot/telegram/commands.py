"""The commands the bot answers. A command is listed here only once it works.

Each one is published with setMyCommands in every language, listed by /help and, with a button
label, offered on the /start menu: pressing the button runs the command itself (the start router
feeds it to the dispatcher as if typed), so a new command needs nothing more than its line here.
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(text: str) -> str:
    """Marks a message for extraction by pybabel; translated for each reader where it is shown."""
    return text


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str           # message id: /help and setMyCommands
    button: str | None         # message id of its /start menu button; None: not on the menu


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", N_("Main menu"), None),
    CommandSpec("orders", N_("Open orders, OCO groups and unprotected positions"), N_("📋 Orders")),
    CommandSpec("portfolio", N_("Balances, total value and its change"), N_("💼 Portfolio")),
    CommandSpec("signals", N_("Newest decision per coin, with its reasons"), N_("📈 Signals")),
    CommandSpec("analyze", N_("A coin's chart and analysis: /analyze BTC_USDT"), N_("🔍 Analyze")),
    CommandSpec("watchlist", N_("Watched coins: Trade / Alert / Margin, amount, SL / TP"), N_("👀 Watchlist")),
    CommandSpec("alerts", N_("Alerts: coins and what notifies you"), N_("🔔 Alerts")),
    CommandSpec("settings", N_("Language, time zone, daily report time, default SL / TP"), N_("⚙️ Settings")),
    CommandSpec("help", N_("What the bot can do"), N_("❓ Help")),
)
