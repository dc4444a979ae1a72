"""The words every message shares, in the reader's language: sides, statuses, the mode marker,
the exchange's refusal codes (worded by bot.exchange.codes) and the reasons services give
(bot.domain.reasons), with the numbers in them formatted for the reader's locale.

Every function returns HTML-safe text: translations and values are escaped here, so a caller can
put the result straight into an HTML message.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from aiogram.utils.i18n import I18n

from bot.domain.orders import OrderRole, OrderStatus, Side
from bot.domain.reasons import TEMPLATES, Reason
from bot.exchange.codes import message_key
from bot.presentation import formatting
from bot.presentation.formatting import number

log = logging.getLogger(__name__)


def N_(text: str) -> str:
    """Marks a message for extraction (pybabel -k N_); translated when it is shown."""
    return text


@dataclass(frozen=True)
class Reader:
    """Who reads a message: their language and time zone, and the catalogs to translate with."""

    i18n: I18n
    locale: str
    timezone: str = "UTC"

    def gettext(self, text: str) -> str:
        """The translation, as plain text (escape it before it goes into HTML)."""
        return self.i18n.gettext(text, locale=self.locale)

    def text(self, msgid: str, /, **values: str) -> str:
        """The translation escaped for HTML, its `{placeholders}` filled with `values`, which must
        already be HTML (escaped values, or markup of our own)."""
        return esc(self.i18n.gettext(msgid, locale=self.locale)).format(**values)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.i18n.gettext(singular, plural, n, locale=self.locale)

    # Numbers and times for this reader (bot.presentation.formatting), escaped for HTML.
    def money(self, value: Decimal, currency: str, *, signed: bool = False) -> str:
        return esc(formatting.money(value, currency, self.locale, signed=signed))

    def price(self, value: Decimal, quote: str) -> str:
        return esc(formatting.price(value, quote, self.locale))

    def quantity(self, value: Decimal, asset: str) -> str:
        return esc(formatting.quantity(value, asset, self.locale))

    def percent(self, value: Decimal, *, signed: bool = False) -> str:
        return esc(formatting.percent(value, self.locale, signed=signed))

    def when(self, moment: datetime, *, with_zone: bool = True) -> str:
        return esc(formatting.when(moment, self.locale, self.timezone, with_zone=with_zone))


def esc(text: str) -> str:
    """Escaped for Telegram's HTML (quotes need no escaping outside attributes)."""
    return html.escape(text, quote=False)


SIDES = {Side.BUY: N_("BUY"), Side.SELL: N_("SELL")}
STATUSES = {
    OrderStatus.NEW: N_("new"),
    OrderStatus.PENDING: N_("waiting for its trigger"),
    OrderStatus.ACTIVE: N_("open"),
    OrderStatus.FILLED: N_("filled"),
    OrderStatus.CANCELED: N_("canceled"),
    OrderStatus.REJECTED: N_("refused"),
    OrderStatus.EXPIRED: N_("expired"),
}
ROLES = {
    OrderRole.ENTRY: N_("buy"),
    OrderRole.STOP_LOSS: N_("stop-loss"),
    OrderRole.TAKE_PROFIT: N_("take-profit"),
    OrderRole.MANUAL: N_("manual order"),
    OrderRole.UNKNOWN: N_("order"),
}
DECISIONS = {"BUY": N_("BUY"), "SELL": N_("SELL"), "WAIT": N_("WAIT")}


def side(value: Side | str, reader: Reader) -> str:
    """COMPRA / VENTA in Spanish, BUY / SELL in English."""
    try:
        return esc(reader.gettext(SIDES[Side(value)]))
    except ValueError:
        return esc(str(value))


def status(value: OrderStatus | str, reader: Reader) -> str:
    try:
        return esc(reader.gettext(STATUSES[OrderStatus(value)]))
    except ValueError:
        return esc(str(value))


def role(value: OrderRole | str, reader: Reader) -> str:
    try:
        return esc(reader.gettext(ROLES[OrderRole(value)]))
    except ValueError:
        return esc(str(value))


def decision(value: str, reader: Reader) -> str:
    return esc(reader.gettext(DECISIONS[value]) if value in DECISIONS else value)


def mode_tag(mode: str, reader: Reader) -> str:
    """Paper is never worded as if it were live; live carries a visible marker."""
    if mode == "live":
        return "🔴 <b>" + esc(reader.gettext("LIVE")) + "</b>"
    return "🧪 <i>" + esc(reader.gettext("paper")) + "</i>"


def exchange_refusal(code: str, fallback: str, reader: Reader) -> str:
    """A known refusal code in words with the code kept (`not enough free balance (306)`)."""
    key = message_key(code)
    if key is not None:
        return esc(f"{reader.gettext(key)} ({code})")
    return esc(fallback)


# Reason values that are names or ids, never amounts: an order id keeps its digits ungrouped.
NOT_AMOUNTS = frozenset({"order", "orders", "code", "symbol", "asset", "quote", "exchange", "error"})


def localized_value(name: str, value: str, reader: Reader) -> str:
    """A plain decimal in the reader's digits (`1234.5` -> `1.234,5` in es); other text as it is."""
    if name in NOT_AMOUNTS:
        return value
    try:
        parsed = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    if not parsed.is_finite() or "e" in value.lower():
        return value
    return number(parsed, reader.locale)


def reason(key: str, args: Iterable[tuple[str, str]], fallback: str, reader: Reader) -> str:
    """A service's reason in the reader's language, numbers in their digits, escaped. The English
    `fallback` is used for a key without a template (or a translation that does not fit its values)."""
    template = TEMPLATES.get(key)
    if template is None:
        return esc(fallback)
    raw = dict(args)
    values = {name: esc(localized_value(name, value, reader)) for name, value in raw.items()}
    if message_key(raw.get("code", "")) is not None:
        values["exchange"] = exchange_refusal(raw["code"], raw.get("exchange", ""), reader)
    try:
        return esc(reader.gettext(template)).format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("translation of reason %s does not fit its values", key)
        return esc(fallback)


def reason_of(value: Reason, reader: Reader) -> str:
    return reason(value.key, value.args, value.text, reader)


def reasons_line(values: Iterable[Reason], reader: Reader, *, separator: str = " · ") -> str:
    return separator.join(reason_of(r, reader) for r in values)


Gettext = Callable[[str], str]


def headline(emoji: str, title: str, mode: str, reader: Reader) -> str:
    """The first line of every notification: what happened, and whether it is paper or live."""
    return f"{emoji} <b>{title}</b> · {mode_tag(mode, reader)}"
