"""/start (the menu: a button for each command) and /help (every command with what it does)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.telegram.commands import COMMANDS, CommandSpec
from bot.telegram.wording import Reader, esc, mode_tag


class MenuAction(CallbackData, prefix="menu"):
    action: str          # the command's name


def render_start(first_name: str, mode: str, reader: Reader, commands: tuple[CommandSpec, ...] = COMMANDS,
                 *, mini_app_url: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """The menu; with a public HTTPS address the dashboard opens from a button, without one the text says
    how to give it one (locally `make run` prints a signed address for an ordinary browser)."""
    lines = [
        esc(reader.gettext("Hello, {name}! I watch your crypto.com account, protect your buys with a stop-loss and a "
                     "take-profit, and tell you what happens.").format(name=first_name)),
        "",
        esc(reader.gettext("Mode: {mode}")).format(mode=mode_tag(mode, reader)),
    ]
    if mini_app_url is None:
        lines.append(esc(reader.gettext(
            "Dashboard: set WEBAPP_PUBLIC_URL to its public HTTPS address to open it here; on this computer, "
            "open the address the bot printed at start.")))
    lines.append(esc(reader.gettext("Choose:")))
    text = "\n".join(lines)
    buttons = [InlineKeyboardButton(text=reader.gettext(c.button), callback_data=MenuAction(action=c.name).pack())
               for c in commands if c.button is not None]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if mini_app_url is not None:
        rows.append([InlineKeyboardButton(text=reader.gettext("📊 Dashboard"), web_app=WebAppInfo(url=mini_app_url))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def render_help(reader: Reader, commands: tuple[CommandSpec, ...] = COMMANDS) -> str:
    lines = [f"<b>{esc(reader.gettext('Commands:'))}</b>"]
    lines += [f"/{c.name} — {esc(reader.gettext(c.description))}" for c in commands]
    return "\n".join(lines)
