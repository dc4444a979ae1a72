"""Orders outside a group's story: filled, partly filled, canceled, refused."""

from __future__ import annotations

from bot.domain.events import OrderCanceled, OrderFilled, OrderRejected
from bot.domain.notifications import Kind
from bot.domain.orders import OrderRole
from bot.presentation.formatting import money, price, quantity, split_symbol
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.notices.model import Button, Notice
from bot.telegram.wording import Reader, esc, exchange_refusal, headline, side

LEGS = (OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value)


def protect_button(symbol: str, group: str | None, reader: Reader) -> tuple[tuple[Button, ...], ...]:
    data = ProtectCallback(symbol=symbol, group=group or "").pack()
    return ((Button("🛡 " + reader.gettext("Protect"), data),),)


def _deal(event: OrderFilled | OrderCanceled, reader: Reader) -> str:
    """`BUY 0.5 ETH at 3,000.00 USDT (1,500.00 USDT)`: what the order is, in the reader's words."""
    _ = reader.text
    base, quote = split_symbol(event.symbol)
    amount = esc(quantity(event.quantity, base, reader.locale))
    if event.price is None:
        return _("{side} {quantity}", side=side(event.side, reader), quantity=amount)
    return _("{side} {quantity} at {price} ({value})", side=side(event.side, reader), quantity=amount,
             price=esc(price(event.price, quote, reader.locale)),
             value=esc(money(event.quantity * event.price, quote, reader.locale)))


def render_filled(event: OrderFilled, reader: Reader) -> Notice | None:
    _ = reader.text
    symbol = esc(event.symbol)
    if event.role in LEGS and not event.partial:
        return None              # the group's closing message tells this fill, with its result
    if event.role in LEGS:
        title = (_("Take-profit partly filled: {symbol}", symbol=symbol) if event.role == OrderRole.TAKE_PROFIT.value
                 else _("Stop-loss partly filled: {symbol}", symbol=symbol))
        body = _("{deal} so far; the rest stays protected.", deal=_deal(event, reader))
        return Notice(Kind.FILL, f"{headline('🌓', title, event.mode, reader)}\n{body}")
    if event.partial:
        title = _("Order partly filled: {symbol}", symbol=symbol)
        body = _("{deal} so far, at the average price.", deal=_deal(event, reader))
        return Notice(Kind.FILL, f"{headline('🌓', title, event.mode, reader)}\n{body}")
    title = _("Order filled: {symbol}", symbol=symbol)
    return Notice(Kind.FILL, f"{headline('✅', title, event.mode, reader)}\n{_deal(event, reader)}")


def render_canceled(event: OrderCanceled, reader: Reader) -> Notice | None:
    """A leg reaches this only when its group is still open (the notifier checks): then the
    position lost half of its protection, and the reader can restore it."""
    _ = reader.text
    symbol = esc(event.symbol)
    if event.role == OrderRole.STOP_LOSS.value:
        title = _("Stop-loss canceled: {symbol}", symbol=symbol)
        body = _("The stop-loss ({deal}) is no longer on the exchange: nothing limits a fall of this "
                 "position now.", deal=_deal(event, reader))
        return Notice(Kind.PROTECTION, f"{headline('⚠️', title, event.mode, reader)}\n{body}",
                      protect_button(event.symbol, None, reader))
    if event.role == OrderRole.TAKE_PROFIT.value:
        title = _("Take-profit canceled: {symbol}", symbol=symbol)
        body = _("The take-profit ({deal}) is no longer on the exchange: only the stop-loss protects this "
                 "position.", deal=_deal(event, reader))
        return Notice(Kind.PROTECTION, f"{headline('⚠️', title, event.mode, reader)}\n{body}",
                      protect_button(event.symbol, None, reader))
    title = _("Order canceled: {symbol}", symbol=symbol)
    return Notice(Kind.FILL, f"{headline('✖️', title, event.mode, reader)}\n{_deal(event, reader)}")


def render_rejected(event: OrderRejected, reader: Reader) -> Notice:
    _ = reader.text
    base, _quote = split_symbol(event.symbol)
    title = _("Order refused by the exchange: {symbol}", symbol=esc(event.symbol))
    deal = _("{side} {quantity}", side=side(event.side, reader),
             quantity=esc(quantity(event.quantity, base, reader.locale)))
    why = _("Reason: {reason}", reason=exchange_refusal(event.reason, event.reason, reader))
    return Notice(Kind.FILL, f"{headline('⛔', title, event.mode, reader)}\n{deal}\n{why}")
