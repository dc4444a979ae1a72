"""The bot's gettext catalogs (locales/) for the Mini App's templates and answers, per request.

Each request runs in its own task, so the locale lives in a ContextVar set once the reader is
known; the Jinja environment's gettext reads it, and never needs re-installing per request.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.presentation.language import SUPPORTED

LOCALES = Path(__file__).resolve().parent.parent / "locales"
_locale: ContextVar[str] = ContextVar("webapp_locale", default="es")
_translator: ContextVar[Translator | None] = ContextVar("webapp_translator", default=None)


class Translator:
    def __init__(self, default_language: str) -> None:
        self.default_language = default_language
        self._i18n = I18n(path=LOCALES, default_locale=default_language, domain="messages")

    def use(self, locale: str) -> None:
        """This request's language (and translator, for `gettext` below)."""
        _locale.set(locale if locale in SUPPORTED else self.default_language)
        _translator.set(self)

    @staticmethod
    def current() -> str:
        return _locale.get()

    def gettext(self, message: str) -> str:
        return str(self._i18n.gettext(message, locale=_locale.get()))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(self._i18n.gettext(singular, plural, n, locale=_locale.get()))

    def gettext_in(self, locale: str, message: str) -> str:
        return str(self._i18n.gettext(message, locale=locale))


def gettext(message: str) -> str:
    """`message` in the current request's language (as is outside a request)."""
    current = _translator.get()
    return message if current is None else current.gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is translated later (e.g. for several languages)."""
    return message
