"""Signals of Alert=YES coins (the decision, its price, its reasons and the indicators behind it),
and what an automatic buy of a Trade=YES coin did with its BUY signal: placed, or refused by a rule."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from bot.domain.events import AutoOrderPlaced, AutoOrderRefused, SignalChanged
from bot.domain.notifications import Kind
from bot.domain.orders import Side
from bot.domain.reasons import Reason
from bot.presentation.formatting import money, number, price, quantity, split_symbol
from bot.telegram.notices.model import Notice
from bot.telegram.wording import N_, Reader, esc, headline, reason, reasons_line, side

# Shown in this order, when the decision saw them; names that read the same in every language stay as
# they are (RSI, EMA, MACD).
INDICATORS = (
    ("rsi", N_("RSI {value}")),
    ("ema50", N_("EMA50 {value}")),
    ("ema200", N_("EMA200 {value}")),
    ("macd_hist", N_("MACD histogram {value}")),
    ("volume_ratio", N_("volume {value}× average")),
)


def _indicator_value(value: Decimal, locale: str) -> str:
    """Two decimals from 1 up; below 1, enough to see a small coin's EMA (8 places, no trailing zeros)."""
    if abs(value) >= 1:
        return number(value, locale, decimals=2)
    return number(value.quantize(Decimal("1e-8")).normalize(), locale)


def indicators_line(values: Iterable[tuple[str, str]], reader: Reader) -> str:
    known = dict(values)
    parts = []
    for key, template in INDICATORS:
        try:
            value = Decimal(known[key])
        except (KeyError, InvalidOperation):
            continue
        if value.is_finite():
            parts.append(reader.text(template, value=esc(_indicator_value(value, reader.locale))))
    return " · ".join(parts)


def _why(explained: tuple[Reason, ...], reader: Reader) -> str | None:
    return reader.text("Why: {reasons}", reasons=reasons_line(explained, reader)) if explained else None


def render_signal(event: SignalChanged, reader: Reader) -> Notice | None:
    _ = reader.text
    symbol = esc(event.symbol)
    if event.decision == "BUY":
        first = headline("📈", _("BUY signal: {symbol}", symbol=symbol), event.mode, reader)
    elif event.decision == "SELL":
        first = headline("📉", _("SELL signal: {symbol}", symbol=symbol), event.mode, reader)
    else:
        return None              # WAIT is the absence of news
    _base, quote = split_symbol(event.symbol)
    lines = [first, _("Price: {price}", price=esc(price(event.price, quote, reader.locale)))]
    why = _why(event.explained, reader)
    if why is None and event.reasons:       # an event from before reasons had keys: its English words
        why = _("Why: {reasons}", reasons=esc(" · ".join(event.reasons)))
    if why is not None:
        lines.append(why)
    shown = indicators_line(event.indicators, reader)
    if shown:
        lines.append(_("Indicators: {values}", values=shown))
    return Notice(Kind.SIGNAL, "\n".join(lines))


def render_auto_placed(event: AutoOrderPlaced, reader: Reader) -> Notice:
    _ = reader.text
    base, quote = split_symbol(event.symbol)
    locale = reader.locale
    lines = [headline("🤖", _("Automatic buy placed: {symbol}", symbol=esc(event.symbol)), event.mode, reader),
             _("{side} {quantity} at {price} ({value}), from a BUY signal.", side=side(Side.BUY, reader),
               quantity=esc(quantity(event.quantity, base, locale)), price=esc(price(event.price, quote, locale)),
               value=esc(money(event.quantity * event.price, quote, locale)))]
    why = _why(event.explained, reader)
    if why is not None:
        lines.append(why)
    if event.stop_loss_price is not None and event.take_profit_price is not None:
        lines.append(_("Protected from the fill: stop-loss {stop} · take-profit {take}.",
                       stop=esc(price(event.stop_loss_price, quote, locale)),
                       take=esc(price(event.take_profit_price, quote, locale))))
    else:
        lines.append(_("A stop-loss and a take-profit are placed when it fills."))
    return Notice(Kind.SIGNAL, "\n".join(lines))


def render_auto_refused(event: AutoOrderRefused, reader: Reader) -> Notice:
    _ = reader.text
    _base, quote = split_symbol(event.symbol)
    lines = [headline("🚫", _("Automatic buy not placed: {symbol}", symbol=esc(event.symbol)), event.mode, reader)]
    if event.price is not None:
        lines.append(_("BUY signal at {price}.", price=esc(price(event.price, quote, reader.locale))))
    why = _why(event.explained, reader)
    if why is not None:
        lines.append(why)
    lines.append(_("Not placed: {rule}.", rule=reason(event.rule, event.args, event.detail, reader)))
    return Notice(Kind.SIGNAL, "\n".join(lines))
