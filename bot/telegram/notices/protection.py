"""A buy's protection: placed (all of it, or what exactly exists when part is missing), failed,
and the group's end when one leg fills (one message: the fill, the other leg, the result)."""

from __future__ import annotations

from bot.domain.events import OcoLegDone, ProtectionFailed, ProtectionPlaced
from bot.domain.money import ZERO
from bot.domain.notifications import Kind
from bot.domain.reasons import Reason
from bot.presentation.formatting import money, percent, price, quantity, split_symbol
from bot.telegram.notices.model import Notice
from bot.telegram.notices.orders import protect_button
from bot.telegram.wording import Reader, esc, exchange_refusal, headline, reason, reason_of


def _refusal(problem: Reason | None, reader: Reader) -> str:
    """The exchange's words for a refused leg (`not enough free balance (306)`), else the reason."""
    if problem is None:
        return esc(reader.gettext("no reason given"))
    values = problem.values
    if "exchange" in values:
        return exchange_refusal(values.get("code", ""), values["exchange"], reader)
    return reason_of(problem, reader)


def render_placed(event: ProtectionPlaced, reader: Reader) -> Notice:
    _ = reader.text
    base, quote = split_symbol(event.symbol)
    locale = reader.locale
    symbol = esc(event.symbol)
    held = esc(quantity(event.quantity, base, locale))
    stop = esc(price(event.stop_loss_price, quote, locale))
    take = esc(price(event.take_profit_price, quote, locale))
    entry = esc(price(event.entry_price, quote, locale))
    wanted = event.wanted_quantity if event.wanted_quantity is not None else event.quantity
    missing = max(ZERO, wanted - event.quantity)
    if event.take_profit_placed and missing == 0:
        title = _("Protection placed: {symbol}", symbol=symbol)
        how = (_("One OCO order: when one leg fills, the exchange cancels the other.") if event.native_oco
               else _("Two linked orders: when one fills, the bot cancels the other."))
        lines = [headline("🛡", title, event.mode, reader),
                 _("{quantity} bought at {price}", quantity=held, price=entry),
                 _("Stop-loss {stop} · take-profit {take}", stop=stop, take=take), how]
        return Notice(Kind.PROTECTION, "\n".join(lines))
    title = (_("Protection incomplete: {symbol}", symbol=symbol) if not event.take_profit_placed
             else _("Protection partial: {symbol}", symbol=symbol))
    lines = [headline("⚠️", title, event.mode, reader)]
    if event.take_profit_placed:
        lines.append(_("On the exchange now: stop-loss {stop} · take-profit {take} for {quantity} (bought at "
                       "{price}).", stop=stop, take=take, quantity=held, price=entry))
    else:
        lines.append(_("On the exchange now: a stop-loss at {stop} for {quantity} (bought at {price}).",
                       stop=stop, quantity=held, price=entry))
        lines.append(_("Take-profit at {take} refused: {why}.", take=take, why=_refusal(event.problem, reader)))
    if missing > 0:
        line = _("Not protected: {missing} of the {wanted} bought.", missing=esc(quantity(missing, base, locale)),
                 wanted=esc(quantity(wanted, base, locale)))
        if event.take_profit_placed and event.problem is not None:
            line += " " + _("Why: {reason}.", reason=reason_of(event.problem, reader))
        lines.append(line)
    if not event.take_profit_placed:
        lines.append(_("The stop-loss limits a fall; nothing takes the profit yet."))
    lines.append(_("Protect previews what can be placed now, for you to confirm; /orders shows the group."))
    return Notice(Kind.PROTECTION, "\n".join(lines), protect_button(event.symbol, event.group_id, reader))


def render_failed(event: ProtectionFailed, reader: Reader) -> Notice:
    _ = reader.text
    base, _quote = split_symbol(event.symbol)
    locale = reader.locale
    title = _("Protection FAILED: {symbol}", symbol=esc(event.symbol))
    lines = [headline("🚨", title, event.mode, reader)]
    if event.wanted_quantity > 0 and event.protected_quantity <= 0:
        lines.append(_("Not protected: {quantity}: no stop-loss or take-profit stands for it.",
                       quantity=esc(quantity(event.wanted_quantity, base, locale))))
    elif event.wanted_quantity > 0:
        lines.append(_("Protected: {protected} of {wanted}.",
                       protected=esc(quantity(event.protected_quantity, base, locale)),
                       wanted=esc(quantity(event.wanted_quantity, base, locale))))
    lines.append(_("Reason: {reason}", reason=reason(event.reason_key, event.reason_args, event.reason, reader)))
    return Notice(Kind.PROTECTION, "\n".join(lines), protect_button(event.symbol, event.group_id, reader))


def render_closed(event: OcoLegDone, reader: Reader) -> Notice:
    _ = reader.text
    base, quote = split_symbol(event.symbol)
    locale = reader.locale
    symbol = esc(event.symbol)
    take_profit = event.leg == "take_profit"
    if take_profit:
        first = headline("🎯", _("Take-profit filled: {symbol} group closed", symbol=symbol), event.mode, reader)
        other = _("The stop-loss was canceled.") if event.sibling_canceled else None
        other_name = reader.gettext("stop-loss")
    else:
        first = headline("🛑", _("Stop-loss filled: {symbol} group closed", symbol=symbol), event.mode, reader)
        other = _("The take-profit was canceled.") if event.sibling_canceled else None
        other_name = reader.gettext("take-profit")
    lines = [first, _("Sold {quantity} at {price} (bought at {entry}).",
                      quantity=esc(quantity(event.quantity, base, locale)),
                      price=esc(price(event.exit_price, quote, locale)),
                      entry=esc(price(event.entry_price, quote, locale)))]
    if not event.sibling_placed:
        pass                     # the other leg was refused when placed: there was nothing to cancel
    elif other is not None:
        lines.append(other)
    else:
        why = (_refusal(event.sibling_problem, reader) if event.sibling_problem is not None
               else esc(reader.gettext("no answer from the exchange")))
        lines.append(_("⚠️ The {leg} is still open on the exchange ({why}); the bot cancels it at the next sync.",
                       leg=esc(other_name), why=why))
    cost = event.entry_price * event.quantity
    result = esc(money(event.pnl, quote, locale, signed=True))
    if cost > 0:
        lines.append(_("Result: {pnl} ({percent}), fees included.", pnl=result,
                       percent=esc(percent(event.pnl / cost * 100, locale, signed=True))))
    else:
        lines.append(_("Result: {pnl}, fees included.", pnl=result))
    return Notice(Kind.OCO_CLOSED, "\n".join(lines))
