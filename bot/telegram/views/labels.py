"""Words for the exchange's vocabulary (sides, order types, roles) and for OCO problems, per reader."""

from __future__ import annotations

from bot.domain.oco_health import Issue
from bot.telegram.wording import Reader, esc


def N_(text: str) -> str:
    """Marks a word for extraction by pybabel; translated where it is shown."""
    return text


SIDES = {"BUY": N_("buy"), "SELL": N_("sell")}
ORDER_TYPES = {
    "LIMIT": N_("limit"), "MARKET": N_("market"), "STOP_LOSS": N_("stop-loss"), "STOP_LIMIT": N_("stop-limit"),
    "TAKE_PROFIT": N_("take-profit"), "TAKE_PROFIT_LIMIT": N_("take-profit limit"),
}
ROLES = {"stop_loss": N_("stop-loss"), "take_profit": N_("take-profit")}


def side(value: str, reader: Reader) -> str:
    return esc(reader.gettext(SIDES[value]) if value in SIDES else value)


def order_type(value: str, reader: Reader) -> str:
    return esc(reader.gettext(ORDER_TYPES[value]) if value in ORDER_TYPES else value)


def role(value: str, reader: Reader) -> str:
    return esc(reader.gettext(ROLES[value]) if value in ROLES else value)


def issue(item: Issue, reader: Reader) -> str:
    """One OCO problem in the reader's words, naming the orders involved (already escaped)."""
    orders = ", ".join(f"#{esc(o)}" for o in item.order_ids)
    symbol = esc(item.symbol)
    if item.kind == "orphan_leg":
        text = reader.text("orphan leg {orders} on {symbol}: it belongs to no open group",
            orders=orders, symbol=symbol)
    elif item.kind == "incomplete_group" and len(item.order_ids) == 1:
        text = esc(reader.gettext("incomplete: only {orders} is open, the other leg is missing")).format(orders=orders)
    elif item.kind == "incomplete_group":
        text = esc(reader.gettext("incomplete: no leg of this group is open on the exchange"))
    elif item.kind == "quantity_mismatch" and item.order_ids:
        text = esc(reader.gettext("quantity mismatch: {orders} does not cover the group's quantity")).format(
            orders=orders)
    elif item.kind == "quantity_mismatch":
        text = reader.text("quantity mismatch on {symbol}: the protection covers more than is held",
            symbol=symbol)
    elif item.kind == "both_filled":
        text = esc(reader.gettext("both legs filled: the position was sold twice"))
    else:
        text = esc(item.detail)
    return "⚠️ " + text
