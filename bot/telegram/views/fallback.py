"""What the bot says to a message or a button nothing else handles: a pointer to /help, never silence."""

from __future__ import annotations

from bot.telegram.wording import Reader, esc


def render_unknown_command(command: str, reader: Reader) -> str:
    return esc(reader.gettext("I don't know the command {command}. /help lists what I can do.")).format(
        command=esc(command))


def render_not_understood(reader: Reader) -> str:
    return esc(reader.gettext("I didn't understand that. /help lists what I can do."))


def render_stale_button(reader: Reader) -> str:
    """A button from an old message (its action gone, or the bot restarted with other buttons); plain
    text, as a callback answer is."""
    return reader.gettext("This button no longer does anything. Send /start for the menu.")
